package realserver

import (
	"fmt"
	"log/slog"
)

// A change kind is one registered KindDef: what a change of that kind does
// (Run), undoes (Inverse), says (Say, and the keys that make two changes
// the same one), what the record keeps of it and how a later run updates
// that, how down decides it is still rsprep's (StillOurs), how status
// reports it, and its place in a plan (Phase, DownPhase). Adding a kind is
// one file that calls RegisterKind from its init, in the package that
// owns it: the generic kinds live here (kind_*.go), tunnel's (fou ports,
// an ip6tnl device's mode, the MSS clamp's policy rules) in tunnel/.
//
// Change stays plain data, the record's JSON line, and its behaviour is
// looked up by Kind: the record's format on disk, its line-by-line skim
// (record_skim.go) and every test's Change literal are unchanged, and no
// decoder has to know the kinds. A KindDef is a struct of functions rather
// than an interface so that a kind states only where it differs from the
// defaults (nil fields), which are applied in one place (the Change
// methods in change.go). Kinds register from init, as database/sql
// drivers do: a record names its kinds by string, and every binary that
// reads one links the packages that define them (cmd/rsprep imports
// every mode).
type KindDef struct {
	Kind Kind
	// Phase orders an apply's plan, lower first: modules first (they
	// create devices), sysctls before any address (the host never
	// answers ARP for a VIP in between), routes after addresses.
	// DownPhase orders a teardown's (see Down): VIPs first, sysctls
	// last. Changes of equal phase keep their order.
	Phase, DownPhase int

	// Run makes the change on h, through a Host method. Required.
	Run func(h Host, c Change) error
	// Say is the change as the command an operator would type. Required.
	Say func(c Change) string
	// Inverse is the change that undoes c. Nil: never undone.
	Inverse func(c Change) Change

	// Identity makes two planned changes the same change, which runs
	// once (two findings may each plan all.arp_ignore=1). Nil: Say.
	Identity func(c Change) string
	// OwnerKey names the one thing the record entry of c owns: one
	// sysctl, one address, one default route. Nil: Identity.
	OwnerKey func(c Change) string
	// Record is what the record keeps of c; keep false: nothing, down
	// never undoes it. Nil: c itself.
	Record func(c Change) (entry Change, keep bool)
	// Update is the record entry old once rsprep makes c to the thing
	// old owns already (the value before rsprep's first change stays),
	// and whether it differs from old. Nil: never differs.
	Update func(old, c Change) (entry Change, differs bool)
	// Settles reports whether c ends the record entry old without
	// anything to put back (a stale route leaving rsprep's own table).
	Settles func(c, old Change) bool

	// StillOurs is undo (c's Inverse) while what c made is still as
	// rsprep made it; else nil, with a note when somebody changed it
	// since. Nil: undo, unchecked.
	StillOurs func(v *View, c, undo Change) (*Change, string, error)
	// Shared: the thing is every mode's (an ARP sysctl): down restores
	// it only once no VIP of any mode is left, else once none of c's
	// mode is.
	Shared bool
	// Evidence: what c made being still in place (StillOurs) proves that
	// a record keyed by an inode alone is this namespace's (anyInPlace).
	Evidence bool

	// Report lists the record entry c in what its mode owns (status);
	// a note is for the namespace. Nil: not listed.
	Report func(v *View, c Change, m *ModeOwned) (note string, err error)
	// Subject names what c owns, for an operator. Nil: OwnerKey.
	Subject func(c Change) string
	// LogAttrs are what a log line of c carries beside its Say.
	LogAttrs func(c Change) []slog.Attr
	// Failed says that c failed with err. Nil: "Say: err".
	Failed func(c Change, err error) string
}

// kinds holds every registered kind. It is written only by the init
// functions that register them, before main runs.
var kinds = map[Kind]*KindDef{}

// RegisterKind makes a kind known to the engine. It is called from an init
// function, once per kind; a kind registered twice, or without Run or
// Say, is a programming error.
func RegisterKind(d KindDef) {
	switch {
	case d.Kind == "" || d.Run == nil || d.Say == nil:
		panic(fmt.Sprintf("realserver: kind %q registered without a name, Run or Say", d.Kind))
	case kinds[d.Kind] != nil:
		panic(fmt.Sprintf("realserver: kind %q registered twice", d.Kind))
	}
	kinds[d.Kind] = &d
}

// unknownKind stands for a kind nobody registered (a record written by a
// newer rsprep): it says its name and refuses to run.
func unknownKind(k Kind) *KindDef {
	return &KindDef{
		Kind: k,
		Run:  func(Host, Change) error { return fmt.Errorf("unknown change kind %q", k) },
		Say:  func(Change) string { return string(k) },
	}
}

// def is c's kind.
func (c Change) def() *KindDef {
	if d := kinds[c.Kind]; d != nil {
		return d
	}
	return unknownKind(c.Kind)
}
