package realserver

// InvariantDoc is one invariant as the man page describes it: its ID (as
// in Finding.ID) and what holds when it is OK. Each mode's package lists
// its own, beside the invariants themselves.
type InvariantDoc struct{ ID, Text string }
