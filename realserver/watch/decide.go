package watch

import (
	"maps"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/rsprep/rsprep/realserver"
)

// Scope is which invariants (by index in the mode's list) a burst of
// events can have broken, or everything. An invariant's set is nil for
// the whole of it, or the VIPs the events named (realserver.Narrowable):
// a removed VIP is re-checked alone, not with the 9,999 others.
type Scope struct {
	Full bool
	Invs map[int]map[netip.Addr]bool
}

// FullScope is a re-check of everything: at a resync, when an interface
// appears or changes, when events were lost.
func FullScope() Scope { return Scope{Full: true} }

// Affects decides which invariants one event can have broken. It is pure:
// the loop folds a burst of events through it, and the tests drive it
// with synthetic events and invariants. last[i] is invariant i's latest
// findings.
//
//   - An interface appearing, changing (up/down, flags) or going away:
//     everything. A new interface inherits conf/default and may get
//     sysctl.d wildcards from udev; its up state and ARP capability change
//     the subjects of every per-interface check.
//   - Lost events: everything.
//   - Any other event: the invariants that declare it can break them
//     (realserver.EventDriven); the mode knows which, watch does not.
func Affects(e Event, invs []realserver.Invariant, last [][]realserver.Finding) Scope {
	if e.Kind == KindLink || e.Kind == KindLost {
		return FullScope()
	}
	var s Scope
	for i, inv := range invs {
		d, ok := inv.(realserver.EventDriven)
		if !ok {
			continue
		}
		var l []realserver.Finding
		if i < len(last) {
			l = last[i]
		}
		if !d.BrokenBy(e, l) {
			continue
		}
		if s.Invs == nil {
			s.Invs = map[int]map[netip.Addr]bool{}
		}
		s.Invs[i] = nil
		if _, ok := inv.(realserver.Narrowable); ok && e.Kind == KindAddr {
			s.Invs[i] = map[netip.Addr]bool{e.Prefix.Addr(): true}
		}
	}
	return s
}

// Add widens s by o.
func (s *Scope) Add(o Scope) {
	if s.Full || o.Full {
		s.Full, s.Invs = true, nil
		return
	}
	if len(o.Invs) == 0 {
		return
	}
	if s.Invs == nil {
		s.Invs = map[int]map[netip.Addr]bool{}
	}
	for i, ips := range o.Invs {
		cur, had := s.Invs[i]
		switch {
		case !had:
			s.Invs[i] = maps.Clone(ips)
		case cur == nil || ips == nil:
			s.Invs[i] = nil // the whole invariant
		default:
			maps.Copy(cur, ips)
		}
	}
}

// narrowed is the VIPs of invariant i the scope re-checks, sorted; nil
// for the whole invariant.
func (s Scope) narrowed(i int) []netip.Addr {
	if s.Full || s.Invs[i] == nil {
		return nil
	}
	return slices.SortedFunc(maps.Keys(s.Invs[i]), netip.Addr.Compare)
}

// Empty reports that nothing needs a re-check.
func (s Scope) Empty() bool { return !s.Full && len(s.Invs) == 0 }

// Has reports whether the scope covers invariant i (or some of it).
func (s Scope) Has(i int) bool {
	_, ok := s.Invs[i]
	return s.Full || ok
}

func (s Scope) String() string {
	if s.Full {
		return "everything"
	}
	var out []string
	for _, i := range slices.Sorted(maps.Keys(s.Invs)) {
		out = append(out, strconv.Itoa(i))
	}
	return strings.Join(out, ",")
}
