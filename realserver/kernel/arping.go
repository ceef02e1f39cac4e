package kernel

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// An ARP probe asks again every probeInterval until probeTimeout: a
// gateway on the same segment answers in well under a millisecond, and a
// lost request costs one interval, not the whole budget.
const (
	probeTimeout  = 1500 * time.Millisecond
	probeInterval = 250 * time.Millisecond
)

// Resolve implements realserver.Host as arping does: it broadcasts ARP
// requests for ip on link from a packet socket and reads the reply itself.
// It does not go through the neighbour table, so it sees the MAC the
// gateway answers with today even while a PERMANENT entry pins another
// one (the kernel never re-resolves a permanent entry). It needs
// CAP_NET_RAW; without it the error says so.
func (h *Host) Resolve(link string, ip netip.Addr) (net.HardwareAddr, error) {
	if !ip.Is4() {
		return nil, fmt.Errorf("resolving %s: ARP is IPv4 only", ip)
	}
	l, err := h.link(link)
	if err != nil {
		return nil, err
	}
	attrs := l.Attrs()
	if len(attrs.HardwareAddr) != 6 {
		return nil, fmt.Errorf("resolving %s: %s has no Ethernet address", ip, link)
	}
	src, err := h.probeSource(l, ip)
	if err != nil {
		return nil, err
	}
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, int(htons(unix.ETH_P_ARP)))
	if err != nil {
		return nil, fmt.Errorf("opening an ARP socket on %s: %w", link, hostErr(err))
	}
	defer unix.Close(fd)
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ARP), Ifindex: attrs.Index}); err != nil {
		return nil, fmt.Errorf("binding an ARP socket to %s: %w", link, err)
	}
	broadcast := &unix.SockaddrLinklayer{
		Protocol: htons(unix.ETH_P_ARP), Ifindex: attrs.Index, Halen: 6,
		Addr: [8]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
	}
	request := arpRequest(attrs.HardwareAddr, src, ip)
	buf := make([]byte, 1500)
	deadline := time.Now().Add(probeTimeout)
	for time.Now().Before(deadline) {
		if err := unix.Sendto(fd, request, 0, broadcast); err != nil {
			return nil, fmt.Errorf("sending an ARP request for %s on %s: %w", ip, link, err)
		}
		next := time.Now().Add(probeInterval)
		if next.After(deadline) {
			next = deadline
		}
		for wait := time.Until(next); wait > 0; wait = time.Until(next) {
			fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
			n, err := unix.Poll(fds, int(wait.Milliseconds())+1)
			if errors.Is(err, unix.EINTR) || (err == nil && n == 0) {
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("waiting for an ARP reply from %s: %w", ip, err)
			}
			m, _, err := unix.Recvfrom(fd, buf, unix.MSG_DONTWAIT)
			if err != nil {
				continue // EAGAIN: someone else's frame was gone; wait on
			}
			if mac, ok := arpReplyFrom(buf[:m], ip); ok {
				return mac, nil
			}
		}
	}
	return nil, fmt.Errorf("no ARP answer from %s on %s within %s", ip, link, probeTimeout)
}

// probeSource picks the sender address of the request: the link's address
// in ip's subnet (a gateway with arp_ignore=2 answers only that), else any
// of its IPv4 addresses, else 0.0.0.0 (an RFC 5227 probe, still answered).
func (h *Host) probeSource(l netlink.Link, ip netip.Addr) (netip.Addr, error) {
	nl, err := h.nl()
	if err != nil {
		return netip.Addr{}, err
	}
	addrs, err := nl.AddrList(l, netlink.FAMILY_V4)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("listing the addresses of %s: %w", l.Attrs().Name, err)
	}
	src := netip.IPv4Unspecified()
	for i, a := range addrs {
		own, ok := netip.AddrFromSlice(a.IP)
		if !ok {
			continue
		}
		ones, _ := a.Mask.Size()
		if netip.PrefixFrom(own.Unmap(), ones).Contains(ip) {
			return own.Unmap(), nil
		}
		if i == 0 {
			src = own.Unmap()
		}
	}
	return src, nil
}

// arpRequest builds an Ethernet/IPv4 ARP "who has target, tell src" payload.
func arpRequest(mac net.HardwareAddr, src, target netip.Addr) []byte {
	p := make([]byte, 28)
	binary.BigEndian.PutUint16(p[0:], 1)      // hardware type: Ethernet
	binary.BigEndian.PutUint16(p[2:], 0x0800) // protocol type: IPv4
	p[4], p[5] = 6, 4
	binary.BigEndian.PutUint16(p[6:], 1) // request
	copy(p[8:14], mac)
	s4, t4 := src.As4(), target.As4()
	copy(p[14:18], s4[:])
	copy(p[24:28], t4[:])
	return p
}

// arpReplyFrom returns the sender MAC of an ARP reply sent by ip.
func arpReplyFrom(p []byte, ip netip.Addr) (net.HardwareAddr, bool) {
	if len(p) < 28 || binary.BigEndian.Uint16(p[0:]) != 1 || binary.BigEndian.Uint16(p[2:]) != 0x0800 ||
		p[4] != 6 || p[5] != 4 || binary.BigEndian.Uint16(p[6:]) != 2 {
		return nil, false
	}
	sender := netip.AddrFrom4([4]byte(p[14:18]))
	if sender != ip {
		return nil, false
	}
	return net.HardwareAddr(append([]byte(nil), p[8:14]...)), true
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// hostErr says what a permission error means here.
func hostErr(err error) error {
	if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
		return fmt.Errorf("%w (an ARP probe needs CAP_NET_RAW)", err)
	}
	return err
}
