package watch

import (
	"net"
	"net/netip"
	"runtime"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// recvBuffer is each netlink socket's receive buffer. A 10,000-VIP change
// is about 1 MiB of address messages; a smaller buffer overflows while a
// repair runs, which is safe (the kernel reports it, the loop re-checks
// everything) but costs a full re-check.
const recvBuffer = 4 << 20

// subscription is the namespace's address, link, route, neighbour, rule
// and netconf events, merged into one channel. When the kernel drops events (ENOBUFS)
// or a socket fails, a KindLost event says so and the channel of that group
// is gone: the loop subscribes afresh.
type subscription struct {
	events chan Event
	done   chan struct{}
}

// subscribe listens to ns's netlink groups. The sockets are opened inside
// ns whatever thread runs this: netlink's *SubscribeWithOptions enter
// Namespace for the socket call and come back, unless this thread is in
// ns already (see inNs).
func subscribe(ns netns.NsHandle) (*subscription, error) {
	runtime.LockOSThread() // the sockets are made on the thread inNs looked at
	defer runtime.UnlockOSThread()
	ns = inNs(ns)
	s := &subscription{events: make(chan Event, 4096), done: make(chan struct{})}
	ignore := func(error) {} // non-fatal parse errors; a fatal one closes the channel
	addrs := make(chan netlink.AddrUpdate, 1024)
	links := make(chan netlink.LinkUpdate, 64)
	routes := make(chan netlink.RouteUpdate, 256)
	neighs := make(chan netlink.NeighUpdate, 256)
	err := netlink.AddrSubscribeWithOptions(addrs, s.done, netlink.AddrSubscribeOptions{
		Namespace: nsOpt(ns), ErrorCallback: ignore, ReceiveBufferSize: recvBuffer, ReceiveBufferForceSize: true})
	if err == nil {
		err = netlink.LinkSubscribeWithOptions(links, s.done, netlink.LinkSubscribeOptions{
			Namespace: nsOpt(ns), ErrorCallback: ignore, ReceiveBufferSize: recvBuffer, ReceiveBufferForceSize: true})
	}
	if err == nil {
		err = netlink.RouteSubscribeWithOptions(routes, s.done, netlink.RouteSubscribeOptions{
			Namespace: nsOpt(ns), ErrorCallback: ignore, ReceiveBufferSize: recvBuffer, ReceiveBufferForceSize: true})
	}
	if err == nil {
		err = netlink.NeighSubscribeWithOptions(neighs, s.done, netlink.NeighSubscribeOptions{
			Namespace: nsOpt(ns), ErrorCallback: ignore, ReceiveBufferSize: recvBuffer, ReceiveBufferForceSize: true})
	}
	if err == nil {
		err = subscribeRaw(s, ns)
	}
	if err != nil {
		close(s.done)
		return nil, err
	}
	go forward(s, addrs, addrEvent)
	go forward(s, links, linkEvent)
	go forward(s, routes, routeEvent)
	go forward(s, neighs, neighEvent)
	return s, nil
}

// Events implements Source.
func (s *subscription) Events() <-chan Event { return s.events }

// Close implements Source.
func (s *subscription) Close() { close(s.done) }

// forward converts one group's updates until its channel closes, then
// reports the loss.
func forward[T any](s *subscription, ch <-chan T, conv func(T) Event) {
	for u := range ch {
		select {
		case s.events <- conv(u):
		case <-s.done:
			return
		}
	}
	select {
	case s.events <- Event{Kind: KindLost, Err: "a netlink socket closed (receive buffer overrun or error)"}:
	case <-s.done:
	}
}

func addrEvent(u netlink.AddrUpdate) Event {
	return Event{Kind: KindAddr, Gone: !u.NewAddr, LinkIndex: u.LinkIndex, Prefix: prefixOf(&u.LinkAddress)}
}

func linkEvent(u netlink.LinkUpdate) Event {
	e := Event{Kind: KindLink, Gone: u.Header.Type == unix.RTM_DELLINK}
	if a := u.Link; a != nil {
		e.LinkIndex, e.Link = a.Attrs().Index, a.Attrs().Name
	}
	return e
}

func routeEvent(u netlink.RouteUpdate) Event {
	dst := netip.PrefixFrom(netip.IPv4Unspecified(), 0)
	if u.Family == unix.AF_INET6 {
		dst = netip.PrefixFrom(netip.IPv6Unspecified(), 0)
	}
	if u.Dst != nil {
		dst = prefixOf(u.Dst)
	}
	return Event{Kind: KindRoute, Gone: u.Type == unix.RTM_DELROUTE, LinkIndex: u.LinkIndex, Prefix: dst, Table: u.Table}
}

func neighEvent(u netlink.NeighUpdate) Event {
	ip, _ := netip.AddrFromSlice(u.IP)
	return Event{Kind: KindNeigh, Gone: u.Type == unix.RTM_DELNEIGH, LinkIndex: u.LinkIndex, IP: ip.Unmap()}
}

func prefixOf(n *net.IPNet) netip.Prefix {
	ip, ok := netip.AddrFromSlice(n.IP)
	if !ok {
		return netip.Prefix{}
	}
	ones, _ := n.Mask.Size()
	return netip.PrefixFrom(ip.Unmap(), ones)
}

// inNs is ns, or netns.None() when this thread is in ns already: entering
// a network namespace (setns) needs CAP_SYS_ADMIN even when it is the one
// the thread is in, and the hardened unit has no CAP_SYS_ADMIN and
// RestrictNamespaces= (systemd.Hardening).
func inNs(ns netns.NsHandle) netns.NsHandle {
	cur, err := netns.Get()
	if err != nil {
		return ns
	}
	defer cur.Close()
	if cur.Equal(ns) {
		return netns.None()
	}
	return ns
}

// nsOpt is the Namespace option for ns: nil (this thread's) for None.
func nsOpt(ns netns.NsHandle) *netns.NsHandle {
	if !ns.IsOpen() {
		return nil
	}
	return &ns
}
