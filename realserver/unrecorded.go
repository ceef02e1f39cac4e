package realserver

import (
	"fmt"
	"strings"
)

// UnrecordedError means down found no record in the namespace, yet
// rsprep's marks or the state its mode makes: only a record says what was
// there before rsprep, so those are left as they are (exit 1).
type UnrecordedError struct {
	Mode string
	Left int // the things named in the result's notes
}

func (e *UnrecordedError) Error() string {
	return fmt.Sprintf("no record of what rsprep changed in this namespace (lost, e.g. with /run): %d thing(s) rsprep %s marks or sets could not be restored, see the notes", e.Left, e.Mode)
}

// unrecorded lists, when the namespace has no record at all, what down of
// e.Undo cannot restore: the addresses carrying rsprep's mark (those in
// plan it removes by the mark alone), and each value the mode sets that
// holds now. Nil when there is a record, or nothing of the kind.
func (e *Engine) unrecorded(v *View, plan []Change) ([]string, error) {
	if !e.Record.absent || e.Undo == nil {
		return nil, nil
	}
	removing := map[Addr]bool{}
	for _, c := range plan {
		if c.Kind == KindAddrDel {
			removing[Addr{Link: c.Addr.Link, Prefix: c.Addr.Prefix}] = true
		}
	}
	addrs, err := v.Addrs()
	if err != nil {
		return nil, err
	}
	var notes []string
	for _, a := range addrs {
		switch {
		case !a.Ours():
		case removing[Addr{Link: a.Link, Prefix: a.Prefix}]:
			notes = append(notes, fmt.Sprintf("no record: removed %s from %s by rsprep's mark alone", a.Prefix, a.Link))
		default:
			notes = append(notes, fmt.Sprintf("no record: %s on %s carries rsprep's mark and is left bound", a.Prefix, a.Link))
		}
	}
	fs, err := v.Verify(e.Undo.Invariants())
	if err != nil {
		return append(notes, fmt.Sprintf("no record: could not read what else %s sets: %v", e.Mode, err)), nil
	}
	for _, f := range fs {
		if f.OK && recordRestores(f) {
			notes = append(notes, fmt.Sprintf("no record: left %s %s as it is (%s): %s sets it so, and only a record says what it was before", f.ID, f.Subject, f.Got, e.Mode))
		}
	}
	return notes, nil
}

// recordRestores reports whether a holding finding is state that down
// restores from a record: not the VIPs (their mark tells), not a check
// of the director, not a module or lo (never undone).
func recordRestores(f Finding) bool {
	switch {
	case f.ID == "vip.bound", f.ID == "vip.exclusive", f.ID == "link.up" && f.Subject == "lo":
		return false
	case strings.HasPrefix(f.ID, "module."), strings.HasPrefix(f.ID, "dip."):
		return false
	}
	return true
}
