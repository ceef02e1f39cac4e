package realserver

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
)

// EventKind is the netlink group a kernel event came from.
type EventKind int

const (
	EventAddr    EventKind = iota + 1 // an address was added or removed
	EventLink                         // an interface appeared, changed or went away
	EventRoute                        // a route was added or removed
	EventNeigh                        // a neighbour entry changed
	EventLost                         // the kernel dropped events (a full socket): anything may have changed
	EventRule                         // a policy routing rule was added or removed
	EventNetconf                      // a netconf sysctl changed (rp_filter, forwarding: the only ones the kernel announces)
)

// Event is one netlink notification, reduced to what the invariants'
// declarations and the logs need.
type Event struct {
	Kind      EventKind
	Gone      bool // removed (RTM_DEL*), not added or changed
	LinkIndex int
	Link      string       // the interface's name, when known
	Prefix    netip.Prefix // EventAddr: the address; EventRoute: the destination; EventRule: the source
	IP        netip.Addr   // EventNeigh: the neighbour
	Table     int          // EventRoute, EventRule: the routing table
	Family    int          // EventNetconf: 4 or 6
	Sysctl    string       // EventNetconf: the knob that changed (rp_filter, forwarding)
	Err       string       // EventLost: why
}

// MainTable is the kernel's main routing table (RT_TABLE_MAIN).
const MainTable = 254

// String is the event as a log reads it: the cause of a repair.
func (e Event) String() string {
	link := e.Link
	if link == "" {
		link = "ifindex " + strconv.Itoa(e.LinkIndex)
	}
	verb := func(added, removed string) string {
		if e.Gone {
			return removed
		}
		return added
	}
	switch e.Kind {
	case EventAddr:
		return fmt.Sprintf("address %s %s %s", e.Prefix, verb("added to", "removed from"), link)
	case EventLink:
		return fmt.Sprintf("link %s %s", link, verb("appeared or changed", "removed"))
	case EventRoute:
		dst := e.Prefix.String()
		if e.Prefix.Bits() == 0 {
			dst = "default"
		}
		return fmt.Sprintf("route %s %s", dst, verb("added or replaced", "removed"))
	case EventNeigh:
		return fmt.Sprintf("neighbour %s on %s %s", e.IP, link, verb("changed", "removed"))
	case EventRule:
		return fmt.Sprintf("rule from %s to table %d %s", e.Prefix, e.Table, verb("added", "removed"))
	case EventNetconf:
		return fmt.Sprintf("sysctl net.ipv%d.conf.%s.%s changed", e.Family, link, e.Sysctl)
	case EventLost:
		return "netlink events lost (" + e.Err + ")"
	}
	return "unknown event"
}

// EventDriven is an invariant that declares which kernel events can break
// it, so that a watcher re-checks it on those and no others. last is its
// latest findings (their subjects: the gateway found, the route chosen).
// Every invariant is also re-checked when an interface appears or
// changes (its subjects may change), when events were lost, and at each
// resync; one that declares nothing (arp_ignore and most sysctls, a fou
// port, a module: no netlink event says they changed) only then.
type EventDriven interface {
	Invariant
	BrokenBy(e Event, last []Finding) bool
}

// BreakFunc is one declaration: whether e can break an invariant whose
// latest findings are last.
type BreakFunc func(e Event, last []Finding) bool

// OnEvents is inv declaring the events that can break it: any of brk.
func OnEvents(inv Invariant, brk ...BreakFunc) EventDriven {
	return eventDriven{Invariant: inv, brk: brk}
}

type eventDriven struct {
	Invariant
	brk []BreakFunc
}

func (d eventDriven) BrokenBy(e Event, last []Finding) bool {
	for _, b := range d.brk {
		if b(e, last) {
			return true
		}
	}
	return false
}

// AddrEvent is any address added or removed but a kernel-made IPv6
// link-local one: connected subnets come and go with addresses.
func AddrEvent(e Event, _ []Finding) bool {
	return e.Kind == EventAddr && !(e.Prefix.Addr().Is6() && e.Prefix.Addr().IsLinkLocalUnicast())
}

// RouteEventIn is a route of one of tables added, replaced or removed.
func RouteEventIn(tables ...int) BreakFunc {
	return func(e Event, _ []Finding) bool {
		if e.Kind != EventRoute {
			return false
		}
		for _, t := range tables {
			if e.Table == t {
				return true
			}
		}
		return false
	}
}

// RuleEventTo is a policy routing rule to one of tables added or removed.
func RuleEventTo(tables ...int) BreakFunc {
	return func(e Event, _ []Finding) bool {
		return e.Kind == EventRule && slices.Contains(tables, e.Table)
	}
}

// SysctlEvent is a change of one of the IPv4 (fam 4) or IPv6 sysctls
// the kernel announces (netconf: rp_filter and forwarding; never
// arp_ignore or arp_announce), of any interface, all or default.
func SysctlEvent(fam int, name string) BreakFunc {
	return func(e Event, _ []Finding) bool {
		return e.Kind == EventNetconf && e.Family == fam && e.Sysctl == name
	}
}

// BrokenBy implements EventDriven: a change of the sysctl, when the kernel
// announces it (rp_filter does; arp_ignore and arp_announce do not, and
// are re-checked at each resync only).
func (s EffectiveSysctl) BrokenBy(e Event, last []Finding) bool {
	return SysctlEvent(4, s.Name)(e, last)
}

// NeighEventOfSubject is a change of the neighbour entry of an IP the
// invariant last reported on (the gateway it found, the director).
func NeighEventOfSubject(e Event, last []Finding) bool {
	if e.Kind != EventNeigh {
		return false
	}
	for _, f := range last {
		if ip, err := netip.ParseAddr(f.Subject); err == nil && ip == e.IP {
			return true
		}
	}
	return false
}

// Audit marks inv as an audit: no change of this host can make it hold
// (a director that does not answer yet). A watcher reports it and never
// repairs or fights over it.
func Audit(inv EventDriven) EventDriven { return audit{inv} }

type audit struct{ EventDriven }

func (audit) isAudit() {}

// IsAudit reports whether inv was marked with Audit.
func IsAudit(inv Invariant) bool {
	_, ok := inv.(interface{ isAudit() })
	return ok
}

// Narrowable is an invariant over many VIPs, one finding each, whose event
// names the VIP: a watcher re-checks (and repairs) only the VIPs the
// events named, so its reaction does not grow with the VIP count.
type Narrowable interface {
	EventDriven
	// Narrow is the invariant over those of ips that are its own.
	Narrow(ips []netip.Addr) Invariant
}

// vipCheck is an invariant with one finding per VIP, broken by an event
// of one of its VIPs' addresses.
type vipCheck struct {
	vips  []netip.Addr
	set   map[netip.Addr]bool
	check func(v *View, vips []netip.Addr) ([]Finding, error)
}

func newVIPCheck(vips []netip.Addr, check func(v *View, vips []netip.Addr) ([]Finding, error)) vipCheck {
	set := make(map[netip.Addr]bool, len(vips))
	for _, ip := range vips {
		set[ip] = true
	}
	return vipCheck{vips: vips, set: set, check: check}
}

func (c vipCheck) Check(v *View) ([]Finding, error) { return c.check(v, c.vips) }

func (c vipCheck) BrokenBy(e Event, _ []Finding) bool {
	return e.Kind == EventAddr && c.set[e.Prefix.Addr()]
}

func (c vipCheck) Narrow(ips []netip.Addr) Invariant {
	var sub []netip.Addr
	for _, ip := range ips {
		if c.set[ip] {
			sub = append(sub, ip)
		}
	}
	return vipCheck{vips: sub, set: c.set, check: c.check}
}
