package probe

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"golang.org/x/sys/unix"
)

// NoPrivilegeError says the raw sockets could not be opened: probing needs
// CAP_NET_RAW.
type NoPrivilegeError struct{ err error }

func (e *NoPrivilegeError) Error() string {
	return fmt.Sprintf("%v (probing sends raw packets: it needs CAP_NET_RAW, e.g. root)", e.err)
}

func (e *NoPrivilegeError) Unwrap() error { return e.err }

func openErr(what string, err error) error {
	err = fmt.Errorf("opening %s: %w", what, err)
	if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
		return &NoPrivilegeError{err}
	}
	return err
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// capture reads every packet this host receives, below IP: the answers
// come from the VIP, which the director holds itself, so its IP stack
// drops them as martians before any TCP or raw IP socket sees them. It
// must be open before the first probe goes out.
type capture struct{ fd int }

func openCapture(iface string) (*capture, error) {
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, int(htons(unix.ETH_P_ALL)))
	if err != nil {
		return nil, openErr("a packet socket", err)
	}
	c := &capture{fd}
	// Room for a burst of answers on a busy director (SO_RCVBUFFORCE
	// needs CAP_NET_ADMIN; without it the plain limit applies).
	if unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, 8<<20) != nil {
		_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, 8<<20)
	}
	if err := unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, answersOnly()); err != nil {
		c.close()
		return nil, fmt.Errorf("filtering the packet socket: %w", err)
	}
	if iface != "" {
		ifi, err := net.InterfaceByName(iface)
		if err != nil {
			c.close()
			return nil, inputf("--interface %s: %v", iface, err)
		}
		if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: ifi.Index}); err != nil {
			c.close()
			return nil, fmt.Errorf("binding the packet socket to %s: %w", iface, err)
		}
	}
	return c, nil
}

// answersOnly is a classic BPF program that lets only what can answer a
// probe reach the capture socket (a busy director receives much else):
// incoming IPv4 TCP or ICMP, IPv6 TCP or ICMPv6. With SOCK_DGRAM the
// packet starts at the IP header.
func answersOnly() *unix.SockFprog {
	const (
		ldW                   = unix.BPF_LD | unix.BPF_W | unix.BPF_ABS
		ldB                   = unix.BPF_LD | unix.BPF_B | unix.BPF_ABS
		jeq                   = unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K
		ret                   = unix.BPF_RET | unix.BPF_K
		adOff                 = 0xfffff000 // SKF_AD_OFF: ancillary data, not packet bytes
		adProtocol, adPktType = 0, 4       // SKF_AD_PROTOCOL, SKF_AD_PKTTYPE
	)
	prog := []unix.SockFilter{
		{Code: ldW, K: adOff + adPktType},
		{Code: jeq, K: unix.PACKET_OUTGOING, Jt: 9}, // → drop
		{Code: ldW, K: adOff + adProtocol},
		{Code: jeq, K: etherIPv4, Jf: 3},
		{Code: ldB, K: 9},               // IPv4 protocol
		{Code: jeq, K: protoTCP, Jt: 6}, // → keep
		{Code: jeq, K: protoICMP, Jt: 5, Jf: 4},
		{Code: jeq, K: etherIPv6, Jf: 3},
		{Code: ldB, K: 6}, // IPv6 next header
		{Code: jeq, K: protoTCP, Jt: 2},
		{Code: jeq, K: protoICMPv6, Jt: 1},
		{Code: ret, K: 0},      // drop
		{Code: ret, K: 0xffff}, // keep, up to 64 KiB
	}
	return &unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
}

func (c *capture) close() { unix.Close(c.fd) }

// next waits until deadline for one received IP packet; ok is false when
// the time is up. The buffer is reused by the next call.
func (c *capture) next(buf []byte, deadline time.Time) (etherType uint16, pkt []byte, at time.Time, ok bool, err error) {
	for {
		wait := time.Until(deadline)
		if wait <= 0 {
			return 0, nil, time.Time{}, false, nil
		}
		fds := []unix.PollFd{{Fd: int32(c.fd), Events: unix.POLLIN}}
		n, err := unix.Poll(fds, int(wait/time.Millisecond)+1)
		if errors.Is(err, unix.EINTR) || (err == nil && n == 0) {
			continue
		}
		if err != nil {
			return 0, nil, time.Time{}, false, fmt.Errorf("waiting for answers: %w", err)
		}
		m, from, err := unix.Recvfrom(c.fd, buf, unix.MSG_DONTWAIT)
		at = time.Now()
		if err != nil {
			continue
		}
		ll, isLL := from.(*unix.SockaddrLinklayer)
		if !isLL || ll.Pkttype == unix.PACKET_OUTGOING {
			continue // this host's own probes
		}
		return htons(ll.Protocol), buf[:m], at, true, nil
	}
}

// sender puts probes on the wire: DR frames through a packet socket,
// tunnelled packets (complete with their outer header) through raw IP
// sockets, one per underlay family, opened on first use.
type sender struct {
	packet     int
	ip4, ip6   int
	bindDevice string
}

func openSender(e Encap, iface string) (*sender, error) {
	s := &sender{packet: -1, ip4: -1, ip6: -1, bindDevice: iface}
	if e != DR {
		return s, nil
	}
	// Protocol 0: a socket that only sends.
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, openErr("a packet socket", err)
	}
	s.packet = fd
	return s, nil
}

func (s *sender) close() {
	for _, fd := range []int{s.packet, s.ip4, s.ip6} {
		if fd >= 0 {
			unix.Close(fd)
		}
	}
}

// frame sends an Ethernet frame out of link to mac.
func (s *sender) frame(link int, mac net.HardwareAddr, b []byte) error {
	sa := &unix.SockaddrLinklayer{Ifindex: link, Halen: 6}
	copy(sa.Addr[:], mac)
	return unix.Sendto(s.packet, b, 0, sa)
}

// ip sends a complete IP packet (header included) to dst. IPPROTO_RAW
// sockets never receive, and on both families they take the header as is.
func (s *sender) ip(dst netip.Addr, b []byte) error {
	fd, sa, family := &s.ip6, unix.Sockaddr(&unix.SockaddrInet6{Addr: dst.As16()}), unix.AF_INET6
	if dst.Is4() {
		fd, sa, family = &s.ip4, &unix.SockaddrInet4{Addr: dst.As4()}, unix.AF_INET
	}
	if *fd < 0 {
		n, err := unix.Socket(family, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.IPPROTO_RAW)
		if err != nil {
			return openErr("a raw IP socket", err)
		}
		if s.bindDevice != "" {
			if err := unix.BindToDevice(n, s.bindDevice); err != nil {
				unix.Close(n)
				return fmt.Errorf("binding a raw IP socket to %s: %w", s.bindDevice, err)
			}
		}
		*fd = n
	}
	return unix.Sendto(*fd, b, 0, sa)
}
