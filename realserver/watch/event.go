// Package watch keeps a mode's invariants true after apply: it listens to
// the namespace's netlink events, re-checks what an event can have broken,
// re-checks everything at each resync (sysctls send no events), repairs
// drift through the same engine as apply, and stops repairing a check that
// something keeps undoing (damping) instead of fighting it forever.
package watch

import (
	"fmt"
	"net/netip"
	"strconv"
)

// Kind is the netlink group an event came from.
type Kind int

const (
	KindAddr  Kind = iota + 1 // an address was added or removed
	KindLink                  // an interface appeared, changed or went away
	KindRoute                 // a route was added or removed
	KindNeigh                 // a neighbour entry changed
	KindLost                  // the kernel dropped events (a full socket): anything may have changed
)

// Event is one netlink notification, reduced to what the decision and the
// logs need.
type Event struct {
	Kind      Kind
	Gone      bool // removed (RTM_DEL*), not added or changed
	LinkIndex int
	Link      string       // the interface's name, when known
	Prefix    netip.Prefix // KindAddr: the address; KindRoute: the destination
	IP        netip.Addr   // KindNeigh: the neighbour
	Table     int          // KindRoute: the routing table
	Err       string       // KindLost: why
}

// mainTable is the kernel's main routing table (RT_TABLE_MAIN), which
// rsprep's route checks read; localTable (RT_TABLE_LOCAL) holds the
// kernel's routes of local addresses, never rsprep's.
const (
	mainTable  = 254
	localTable = 255
)

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
	case KindAddr:
		return fmt.Sprintf("address %s %s %s", e.Prefix, verb("added to", "removed from"), link)
	case KindLink:
		return fmt.Sprintf("link %s %s", link, verb("appeared or changed", "removed"))
	case KindRoute:
		dst := e.Prefix.String()
		if e.Prefix.Bits() == 0 {
			dst = "default"
		}
		return fmt.Sprintf("route %s %s", dst, verb("added or replaced", "removed"))
	case KindNeigh:
		return fmt.Sprintf("neighbour %s on %s %s", e.IP, link, verb("changed", "removed"))
	case KindLost:
		return "netlink events lost (" + e.Err + ")"
	}
	return "unknown event"
}
