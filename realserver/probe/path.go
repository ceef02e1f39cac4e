package probe

import (
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// path is how one probe reaches one real server from here: the outer
// addresses (the RIP and this host's source toward it), the inner source
// (this host's address of the VIP's family: the real server answers it
// straight from the VIP) and, for DR, the link and the RIP's MAC.
type path struct {
	outerSrc netip.Addr
	innerSrc netip.Addr
	link     int              // DR: the interface the frame leaves on
	linkMAC  net.HardwareAddr // DR: its MAC
	ripMAC   net.HardwareAddr // DR: the real server's MAC
}

// route looks up how this host reaches rip (on iface, if given).
func route(rip netip.Addr, iface string) (netlink.Route, error) {
	opts := &netlink.RouteGetOptions{Oif: iface}
	routes, err := netlink.RouteGetWithOptions(net.IP(rip.AsSlice()), opts)
	if err != nil {
		return netlink.Route{}, fmt.Errorf("no route to %s: %w", rip, err)
	}
	if len(routes) == 0 {
		return netlink.Route{}, fmt.Errorf("no route to %s", rip)
	}
	return routes[0], nil
}

// pathTo finds the addresses a probe of vip through rip uses. An error is
// about this one real server (no route, DR behind a router, no address of
// the VIP's family) and is reported as its result, not as a failed run.
func pathTo(rip, vip netip.Addr, e Encap, iface string) (path, error) {
	r, err := route(rip, iface)
	if err != nil {
		return path{}, err
	}
	if e == DR && r.Gw != nil {
		return path{}, fmt.Errorf("%s is reached via the router %s: DR needs the real server on this host's segment", rip, r.Gw)
	}
	var p path
	src, ok := netip.AddrFromSlice(r.Src)
	if !ok {
		return path{}, fmt.Errorf("no source address toward %s", rip)
	}
	p.outerSrc = src.Unmap()
	p.innerSrc = p.outerSrc
	if rip.Is4() != vip.Is4() || p.innerSrc == vip {
		if p.innerSrc, err = addressOfFamily(r.LinkIndex, vip); err != nil {
			return path{}, err
		}
	}
	if e == DR {
		l, err := netlink.LinkByIndex(r.LinkIndex)
		if err != nil {
			return path{}, fmt.Errorf("reading the link toward %s: %w", rip, err)
		}
		if len(l.Attrs().HardwareAddr) != 6 {
			return path{}, fmt.Errorf("%s is reached over %s, which has no Ethernet address: DR needs an Ethernet segment", rip, l.Attrs().Name)
		}
		p.link, p.linkMAC = r.LinkIndex, l.Attrs().HardwareAddr
	}
	return p, nil
}

// addressOfFamily picks an address of vip's family on the link (not the VIP
// itself), for a probe whose inner and outer families differ or whose
// route would use the VIP as source.
func addressOfFamily(link int, vip netip.Addr) (netip.Addr, error) {
	family := netlink.FAMILY_V4
	if vip.Is6() {
		family = netlink.FAMILY_V6
	}
	l, err := netlink.LinkByIndex(link)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("reading link %d: %w", link, err)
	}
	addrs, err := netlink.AddrList(l, family)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("listing the addresses of %s: %w", l.Attrs().Name, err)
	}
	for _, a := range addrs {
		ip, ok := netip.AddrFromSlice(a.IP)
		if ok && ip.Unmap() != vip && ip.IsGlobalUnicast() {
			return ip.Unmap(), nil
		}
	}
	return netip.Addr{}, fmt.Errorf("%s has no address of the VIP's family besides the VIP: the real server could not answer", l.Attrs().Name)
}

// usableNeigh is a neighbour state whose MAC may be used now.
const usableNeigh = netlink.NUD_REACHABLE | netlink.NUD_STALE | netlink.NUD_DELAY | netlink.NUD_PROBE | netlink.NUD_PERMANENT | netlink.NUD_NOARP

// resolveMACs fills in the MAC of every DR real server from the neighbour
// table. Where there is none yet, it asks the kernel to resolve it (one
// empty UDP datagram to the discard port, as any first packet would) and
// polls the table until timeout; all real servers are resolved at once,
// with one dump of the table per poll.
func resolveMACs(rips []netip.Addr, paths map[netip.Addr]*path, timeout time.Duration) map[netip.Addr]error {
	errs := map[netip.Addr]error{}
	pending := map[netip.Addr]bool{}
	for _, rip := range rips {
		if p := paths[rip]; p != nil && p.ripMAC == nil {
			pending[rip] = true
		}
	}
	deadline := time.Now().Add(timeout)
	for triggered := false; len(pending) > 0; triggered = true {
		table, err := neighbours()
		for rip := range pending {
			n, found := table[neighKey{paths[rip].link, rip}]
			switch {
			case err != nil:
				errs[rip] = err
				delete(pending, rip)
			case found && n.State&usableNeigh != 0 && len(n.HardwareAddr) == 6:
				paths[rip].ripMAC = n.HardwareAddr
				delete(pending, rip)
			case triggered && found && n.State&netlink.NUD_FAILED != 0:
				errs[rip] = fmt.Errorf("%s does not answer ARP/ND", rip)
				delete(pending, rip)
			case !triggered:
				poke(rip)
			}
		}
		if len(pending) == 0 {
			break
		}
		if time.Now().After(deadline) {
			for rip := range pending {
				errs[rip] = fmt.Errorf("%s did not answer ARP/ND within %s", rip, timeout)
			}
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	return errs
}

type neighKey struct {
	link int
	ip   netip.Addr
}

// neighbours reads the whole neighbour table, IPv4 and IPv6.
func neighbours() (map[neighKey]netlink.Neigh, error) {
	list, err := netlink.NeighList(0, netlink.FAMILY_ALL)
	if err != nil {
		return nil, fmt.Errorf("reading the neighbour table: %w", err)
	}
	table := make(map[neighKey]netlink.Neigh, len(list))
	for _, n := range list {
		if ip, ok := netip.AddrFromSlice(n.IP); ok {
			table[neighKey{n.LinkIndex, ip.Unmap()}] = n
		}
	}
	return table, nil
}

// poke makes the kernel resolve rip's MAC by sending it one empty datagram.
func poke(rip netip.Addr) {
	family, sa := unix.AF_INET6, unix.Sockaddr(&unix.SockaddrInet6{Port: 9, Addr: rip.As16()})
	if rip.Is4() {
		family, sa = unix.AF_INET, &unix.SockaddrInet4{Port: 9, Addr: rip.As4()}
	}
	fd, err := unix.Socket(family, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return
	}
	defer unix.Close(fd)
	_ = unix.Sendto(fd, nil, unix.MSG_DONTWAIT, sa) // a failure shows as no MAC
}
