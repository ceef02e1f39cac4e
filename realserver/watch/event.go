// Package watch keeps a mode's invariants true after apply: it listens to
// the namespace's netlink events, re-checks what an event can have broken
// (each invariant declares that, see realserver.EventDriven), re-checks
// everything at each resync (most sysctls and fou ports send no events), repairs drift
// through the same engine as apply, and stops repairing a check that
// something keeps undoing (damping) instead of fighting it forever.
package watch

import "github.com/rsprep/rsprep/realserver"

// Event is one netlink notification (realserver's: the invariants declare
// which of them can break them).
type Event = realserver.Event

// Kind is the netlink group an event came from.
type Kind = realserver.EventKind

const (
	KindAddr    = realserver.EventAddr
	KindLink    = realserver.EventLink
	KindRoute   = realserver.EventRoute
	KindNeigh   = realserver.EventNeigh
	KindLost    = realserver.EventLost
	KindRule    = realserver.EventRule
	KindNetconf = realserver.EventNetconf
)

const mainTable = realserver.MainTable
