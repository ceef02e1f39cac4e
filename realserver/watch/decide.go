package watch

import (
	"maps"
	"slices"
	"strings"
)

// Scope is which checks a burst of events can have broken: some check IDs,
// or everything.
type Scope struct {
	Full bool
	IDs  map[string]bool
}

// FullScope is a re-check of everything: at a resync, when an interface
// appears or changes, when events were lost.
func FullScope() Scope { return Scope{Full: true} }

func scopeOf(ids ...string) Scope {
	s := Scope{IDs: make(map[string]bool, len(ids))}
	for _, id := range ids {
		s.IDs[id] = true
	}
	return s
}

// Affects decides which checks one event can have broken. It is pure: the
// loop folds a burst of events through it, and the tests drive it with
// synthetic events.
//
//   - An address added or removed: the VIP checks (bound on lo/tunl0, on no
//     ARP-capable interface). Kernel-made IPv6 link-local addresses are
//     never a VIP.
//   - An interface appearing, changing (up/down, flags) or going away:
//     everything. A new interface inherits conf/default and may get
//     sysctl.d wildcards from udev; its up state and ARP capability change
//     the subjects of the arp.*, rp.filter, link.* and vip.* checks.
//   - A route of the main table: the default route via the DIP, the
//     keep-routes, the pinned gateway (it is the default route's next
//     hop), and --mss's copy of main (mss.clamp), which must follow main
//     or VIP replies keep going to an old gateway. And ra.defrtr: an
//     RA's default route showing up means RAs give default routers again
//     (the sysctl itself sends no event).
//   - A route of another table but local: mss.clamp (rsprep's own table).
//     The local table changes with every address and is not rsprep's.
//   - A neighbour entry: the pinned gateway.
//   - Lost events: everything.
func Affects(e Event) Scope {
	switch e.Kind {
	case KindAddr:
		if e.Prefix.Addr().Is6() && e.Prefix.Addr().IsLinkLocalUnicast() {
			return Scope{}
		}
		return scopeOf("vip.bound", "vip.exclusive")
	case KindRoute:
		switch e.Table {
		case mainTable:
			return scopeOf("route.default", "route.keep", "gw.pinned", "mss.clamp", "ra.defrtr")
		case localTable:
			return Scope{}
		}
		return scopeOf("mss.clamp")
	case KindNeigh:
		return scopeOf("gw.pinned")
	case KindLink, KindLost:
		return FullScope()
	}
	return Scope{}
}

// Add widens s by o.
func (s *Scope) Add(o Scope) {
	if s.Full || o.Full {
		s.Full, s.IDs = true, nil
		return
	}
	if len(o.IDs) == 0 {
		return
	}
	if s.IDs == nil {
		s.IDs = map[string]bool{}
	}
	maps.Copy(s.IDs, o.IDs)
}

// Empty reports that nothing needs a re-check.
func (s Scope) Empty() bool { return !s.Full && len(s.IDs) == 0 }

// Has reports whether the scope covers check id.
func (s Scope) Has(id string) bool { return s.Full || s.IDs[id] }

func (s Scope) String() string {
	if s.Full {
		return "everything"
	}
	return strings.Join(slices.Sorted(maps.Keys(s.IDs)), ",")
}
