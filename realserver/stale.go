package realserver

import (
	"errors"
	"fmt"
	"os"

	"github.com/rsprep/rsprep/realserver/persist"
)

// Load reads the namespace's record.
//
// On a kernel with the netns cookie, a namespace without a record of its
// own may still have one an rsprep before the cookie wrote, keyed by the
// inode: it is loaded Unproven (it may be a freed namespace's), to be
// saved under the cookie once the engine has found it in place.
// On a kernel without the cookie every record is keyed by the inode and
// loaded Unproven.
func (s State) Load() (*Record, error) {
	rec, err := s.loadPending()
	if err != nil {
		return nil, err
	}
	if err := rec.decode(); err != nil {
		return nil, err
	}
	return rec, nil
}

// LoadPending is Load with the record's changes left pending (see
// loadRecord): verify reads from it only what it needs.
func (s State) LoadPending() (*Record, error) { return s.loadPending() }

// loadPending is Load with the record's changes left pending (see
// loadRecord), for a writer's observation.
func (s State) loadPending() (*Record, error) {
	rec, err := loadRecord(s.RecordPath(), s.Netns.String())
	if err != nil {
		return nil, err
	}
	if s.Netns.Cookie == 0 {
		rec.Unproven = !rec.empty()
		return rec, nil
	}
	if !rec.empty() {
		return rec, nil
	}
	legacy := s.LegacyRecordPath()
	old, err := loadRecord(legacy, persist.Netns{Inode: s.Netns.Inode}.String())
	if err != nil || old.empty() {
		return rec, err
	}
	old.Netns, old.path, old.legacyPath, old.Unproven = rec.Netns, rec.path, legacy, true
	return old, nil
}

// anyInPlace reports whether anything the record says rsprep wrote is
// still as rsprep wrote it: an address, a sysctl at rsprep's value (and
// not at the one it replaced), a route, a pinned neighbour. A record with
// nothing in place governs nothing down would undo anyway, so dropping it
// loses nothing; one with something in place is kept, which on a kernel
// without the cookie can still mistake a coincidence for evidence (see
// realserver/README.md, "Safety").
func (r *Record) anyInPlace(v *View) (bool, error) {
	if err := r.decode(); err != nil {
		return false, err
	}
	for _, c := range r.Changes {
		if !c.def().Evidence {
			continue
		}
		undo, _, err := undoIfStillOurs(v, c)
		if err != nil || undo != nil {
			return undo != nil, err
		}
	}
	return false, nil
}

// dropStale settles an Unproven record before the engine uses it: if
// nothing of it is in place, it was a freed namespace's (whose inode this
// one reuses) and is removed, and said so; otherwise it is this one's.
func (e *Engine) dropStale(dryRun bool) error {
	if !e.Record.Unproven {
		return nil
	}
	if e.first == nil {
		e.first = NewView(e.Host)
	}
	if err := e.Record.decode(); err != nil {
		return err
	}
	in, err := e.Record.anyInPlace(e.first)
	if err != nil {
		return &ObserveError{Err: err}
	}
	e.Record.Unproven = false
	if in {
		return nil
	}
	n := len(e.Record.Changes)
	e.Record.Changes = nil
	if dryRun {
		e.Log.Warn("would remove a stale record: none of what it says rsprep changed is in place (a freed network namespace's, whose inode this one reuses)", "changes", n)
		return nil
	}
	if err := e.Record.discard(); err != nil {
		return err
	}
	e.Log.Warn("removed a stale record: none of what it says rsprep changed is in place (a freed network namespace's, whose inode this one reuses)", "changes", n)
	return nil
}

// discard removes the record's files (and a legacy one it was loaded from).
func (r *Record) discard() error {
	for _, p := range []string{r.path, r.legacyPath} {
		if p == "" {
			continue
		}
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("removing stale record %s: %w", p, err)
		}
	}
	r.legacyPath = ""
	return nil
}
