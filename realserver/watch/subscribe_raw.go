package watch

import (
	"encoding/binary"
	"net/netip"
	"syscall"

	"github.com/vishvananda/netlink/nl"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// The groups vishvananda/netlink has no Subscribe for: policy routing
// rules (mss.clamp's) and netconf, the sysctls the kernel announces
// (rp_filter and forwarding, per interface, all and default). Both on one
// socket, read here. fou ports have no such group (the fou generic
// netlink family sends no notifications): fou.port is re-checked at each
// resync only.
var rawGroups = []uint{unix.RTNLGRP_IPV4_RULE, unix.RTNLGRP_IPV6_RULE, unix.RTNLGRP_IPV4_NETCONF, unix.RTNLGRP_IPV6_NETCONF}

// subscribeRaw opens that socket in ns (None: this thread's) and forwards
// its events to s until s is closed.
func subscribeRaw(s *subscription, ns netns.NsHandle) error {
	sock, err := nl.SubscribeAt(ns, netns.None(), unix.NETLINK_ROUTE, rawGroups...)
	if err != nil {
		return err
	}
	if err := sock.SetReceiveBufferSize(recvBuffer, true); err != nil {
		sock.Close()
		return err
	}
	go func() {
		<-s.done
		sock.Close()
	}()
	ch := make(chan Event, 64)
	go func() {
		defer close(ch)
		for {
			msgs, from, err := sock.Receive()
			if err != nil {
				return // closed, or ENOBUFS: forward reports the loss
			}
			if from.Pid != nl.PidKernel {
				continue
			}
			for _, m := range msgs {
				for _, e := range rawEvents(m) {
					select {
					case ch <- e:
					case <-s.done:
						return
					}
				}
			}
		}
	}()
	go forward(s, ch, func(e Event) Event { return e })
	return nil
}

// From linux/netconf.h (not in x/sys/unix).
const (
	netconfIfindex    = 1
	netconfForwarding = 2
	netconfRPFilter   = 3
	netconfAll        = -1
	netconfDefault    = -2
)

// rawEvents converts one rule or netconf message; nil for anything else.
func rawEvents(m syscall.NetlinkMessage) []Event {
	switch m.Header.Type {
	case unix.RTM_NEWRULE, unix.RTM_DELRULE:
		if e, ok := ruleEvent(m.Header.Type == unix.RTM_DELRULE, m.Data); ok {
			return []Event{e}
		}
	case unix.RTM_NEWNETCONF, unix.RTM_DELNETCONF:
		return netconfEvents(m.Data)
	}
	return nil
}

// ruleEvent reads a struct fib_rule_hdr (family, dst_len, src_len, tos,
// table, 2 reserved, action, flags: 12 bytes) and its FRA_SRC and
// FRA_TABLE (a table above 255 is only there).
func ruleEvent(gone bool, b []byte) (Event, bool) {
	if len(b) < 12 {
		return Event{}, false
	}
	e := Event{Kind: KindRule, Gone: gone, Table: int(b[4])}
	src := netip.PrefixFrom(netip.IPv4Unspecified(), 0)
	if b[0] == unix.AF_INET6 {
		src = netip.PrefixFrom(netip.IPv6Unspecified(), 0)
	}
	attrs, err := nl.ParseRouteAttr(b[12:])
	if err != nil {
		return Event{}, false
	}
	for _, a := range attrs {
		switch a.Attr.Type {
		case unix.FRA_SRC:
			if ip, ok := netip.AddrFromSlice(a.Value); ok {
				src = netip.PrefixFrom(ip, int(b[2]))
			}
		case unix.FRA_TABLE:
			if len(a.Value) == 4 {
				e.Table = int(binary.NativeEndian.Uint32(a.Value))
			}
		}
	}
	e.Prefix = src
	return e, true
}

// netconfEvents reads a struct netconfmsg (the family, padded to 4
// bytes) and its attributes: one event per knob it carries.
func netconfEvents(b []byte) []Event {
	if len(b) < 4 {
		return nil
	}
	fam := 4
	if b[0] == unix.AF_INET6 {
		fam = 6
	}
	attrs, err := nl.ParseRouteAttr(b[4:])
	if err != nil {
		return nil
	}
	base := Event{Kind: KindNetconf, Family: fam}
	var knobs []string
	for _, a := range attrs {
		switch a.Attr.Type {
		case netconfIfindex:
			if len(a.Value) == 4 {
				base.LinkIndex = int(int32(binary.NativeEndian.Uint32(a.Value)))
			}
		case netconfForwarding:
			knobs = append(knobs, "forwarding")
		case netconfRPFilter:
			knobs = append(knobs, "rp_filter")
		}
	}
	switch base.LinkIndex {
	case netconfAll:
		base.Link = "all"
	case netconfDefault:
		base.Link = "default"
	}
	out := make([]Event, 0, len(knobs))
	for _, k := range knobs {
		e := base
		e.Sysctl = k
		out = append(out, e)
	}
	return out
}
