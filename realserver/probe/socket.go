package probe

import (
	"cmp"
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

// capture reads the answers to the probes below IP: they come from the
// VIP, which the director holds itself, so its IP stack drops them as
// martians before any TCP or raw IP socket sees them. It must be open
// before the first probe goes out.
type capture struct{ fd int }

// openCapture opens the packet socket for the probes to vips. The socket
// is opened for no protocol (it receives nothing), filtered, then bound
// to every protocol: no packet reaches it unfiltered, and whatever was
// queued in between is read away before the first probe.
func openCapture(iface string, vips []netip.AddrPort) (*capture, error) {
	filter, err := answersOnly(vips)
	if err != nil {
		return nil, err
	}
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, openErr("a packet socket", err)
	}
	c := &capture{fd}
	// Room for a burst of answers on a busy director (SO_RCVBUFFORCE
	// needs CAP_NET_ADMIN; without it the plain limit applies).
	if unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, 8<<20) != nil {
		_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, 8<<20)
	}
	if err := unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, filter); err != nil {
		c.close()
		return nil, fmt.Errorf("filtering the packet socket: %w", err)
	}
	ifindex := 0 // every interface
	if iface != "" {
		ifi, err := net.InterfaceByName(iface)
		if err != nil {
			c.close()
			return nil, inputf("--interface %s: %v", iface, err)
		}
		ifindex = ifi.Index
	}
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: ifindex}); err != nil {
		c.close()
		return nil, fmt.Errorf("binding the packet socket to %s: %w", cmp.Or(iface, "every interface"), err)
	}
	c.drain()
	if _, err := c.stats(); err != nil { // from zero: what the probes' time brings
		c.close()
		return nil, err
	}
	return c, nil
}

// drain reads away whatever is queued.
func (c *capture) drain() {
	buf := make([]byte, 2048)
	for {
		if _, _, err := unix.Recvfrom(c.fd, buf, unix.MSG_DONTWAIT|unix.MSG_TRUNC); err != nil && err != unix.EINTR {
			return
		}
	}
}

// CaptureStats are the capture socket's counters over a run: packets the
// filter let through, and how many of them the kernel dropped because the
// socket's buffer was full (an answer may have been among them).
type CaptureStats struct {
	Received, Dropped uint32
}

// stats reads and resets the socket's counters.
func (c *capture) stats() (CaptureStats, error) {
	s, err := unix.GetsockoptTpacketStats(c.fd, unix.SOL_PACKET, unix.PACKET_STATISTICS)
	if err != nil {
		return CaptureStats{}, fmt.Errorf("reading the packet socket's counters: %w", err)
	}
	return CaptureStats{Received: s.Packets, Dropped: s.Drops}, nil
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
