package realserver

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"

	"github.com/rsprep/rsprep/realserver/persist"
)

// Record is what rsprep changed in one network namespace and so owns: the
// values it found before its first change, and what it wrote. It is saved
// before changes run (write-ahead), so a crash never loses a prior value.
type Record struct {
	Version int      `json:"version"`
	Netns   string   `json:"netns"`
	Changes []Change `json:"changes"`

	// Unproven: the record is keyed by the namespace's inode only (a
	// kernel without the netns cookie, or an rsprep before it), so it may
	// be a freed namespace's. The engine trusts it only once something it
	// describes is found in place (Engine.dropStale).
	Unproven bool `json:"-"`

	path       string
	legacyPath string // the inode-keyed file it was loaded from, removed once saved under the cookie

	// pending is the JSON array of Changes while nobody has needed them
	// yet (see loadRecord): then Changes is empty, and decode fills it.
	// Never an empty array: a record without changes is not pending.
	pending    []byte
	loadedFrom string // the file pending came from, for decode's error

	// absent: no record file was found (none written yet, or lost: a
	// wiped /run). Down then says what only a record could restore.
	absent bool
}

// Clone is a copy of r that is never saved (dry runs).
func (r *Record) Clone() *Record {
	return &Record{Version: r.Version, Netns: r.Netns, Changes: slices.Clone(r.Changes), Unproven: r.Unproven, pending: r.pending, loadedFrom: r.loadedFrom, absent: r.absent}
}

// RecordError means a record exists but cannot be trusted.
type RecordError struct {
	Path string
	Err  error
}

func (e *RecordError) Error() string {
	return fmt.Sprintf("state record %s is unreadable (%v): not trusting it; inspect it, then move it aside to start afresh", e.Path, e.Err)
}
func (e *RecordError) Unwrap() error { return e.Err }

// LoadRecord reads the record at path; a missing file is an empty record.
func LoadRecord(path, netns string) (*Record, error) {
	r, err := loadRecord(path, netns)
	if err == nil {
		err = r.decode()
	}
	if err != nil {
		return nil, err
	}
	return r, nil
}

// loadRecord is LoadRecord with the changes left pending: the whole file
// is checked to be JSON, and its version and netns read, but the changes
// are decoded only when a run needs them (decode). At 10,000 VIPs their
// decoding was most of a no-op apply's time, and a no-op apply never
// needs them: it plans nothing, so owns nothing new. A record that is
// torn or not JSON is still refused here, before any run starts; only a
// change that is valid JSON but not a valid change is found later, when
// decoded (also a RecordError).
func loadRecord(path, netns string) (*Record, error) {
	r := &Record{Version: 1, Netns: netns, path: path}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		r.absent = true
		return r, nil
	}
	if errors.Is(err, os.ErrPermission) {
		// Not a damaged record, just one this user may not read.
		return nil, fmt.Errorf("reading state record %s: permission denied (needs root)", path)
	}
	if err != nil {
		return nil, &RecordError{Path: path, Err: err}
	}
	head, err := persist.ReadHead(data)
	if err != nil {
		return nil, &RecordError{Path: path, Err: err}
	}
	r.Version, r.Netns = head.Version, head.Netns
	switch changes := bytes.TrimSpace(head.Changes); {
	case len(changes) == 0 || string(changes) == "null":
	case changes[0] != '[':
		// Not a list: decoding it says so as it always did.
		if err := json.Unmarshal(data, &Record{}); err != nil {
			return nil, &RecordError{Path: path, Err: err}
		}
	case len(bytes.TrimSpace(changes[1:len(changes)-1])) > 0: // not []
		r.pending, r.loadedFrom = changes, path
	}
	if r.Version != 1 || r.Netns != netns {
		return nil, &RecordError{Path: path, Err: fmt.Errorf("version %d for %q, want version 1 for %q", r.Version, r.Netns, netns)}
	}
	return r, nil
}

// decode makes Changes the record's changes, decoding those loadRecord
// left pending. Everything that reads or edits Changes of a loaded record
// calls it first.
func (r *Record) decode() error {
	if r.pending == nil {
		return nil
	}
	// Size the list once (a hint: one "kind" per change). Left to grow, the
	// decoder copied it over and over.
	cs := make([]Change, 0, bytes.Count(r.pending, []byte(`"kind"`)))
	if err := json.Unmarshal(r.pending, &cs); err != nil {
		return &RecordError{Path: r.loadedFrom, Err: err}
	}
	r.Changes, r.pending = cs, nil
	return nil
}

// empty reports whether the record names no change, without decoding it.
func (r *Record) empty() bool { return len(r.Changes) == 0 && r.pending == nil }

// mustBeDecoded guards the methods that edit Changes: editing a record
// whose changes are still pending would lose them on the next save.
func (r *Record) mustBeDecoded() {
	if r.pending != nil {
		panic("realserver: a record's changes edited before they were decoded")
	}
}

// Save writes the record atomically: a temporary file in the same
// directory, synced, then renamed over the old one. A record that owns
// nothing (down undid the last of it) is saved too, empty: it is how a
// later down or status tells "rsprep undid all it did here" from "the
// record was lost" (absent, see Engine.unrecorded).
func (r *Record) Save() error {
	if r.path == "" {
		return nil // an in-memory record (tests, dry runs)
	}
	if err := r.decode(); err != nil {
		return err
	}
	data, err := r.marshal()
	if err != nil {
		return err
	}
	if err := persist.WriteRecord(r.path, data); err != nil {
		return err
	}
	r.absent = false
	if r.legacyPath != "" { // now saved under the cookie
		os.Remove(r.legacyPath)
		r.legacyPath = ""
	}
	return nil
}

// marshal is the record file's bytes (see persist.MarshalRecord).
func (r *Record) marshal() ([]byte, error) {
	return persist.MarshalRecord(r.Version, r.Netns, r.Changes)
}

// Own notes that rsprep is about to make changes. For a thing rsprep already
// owns it keeps the oldest prior value (the value before rsprep first
// touched it) and updates what rsprep wrote (the kind's Update). It
// reports whether the record changed (and so must be saved).
func (r *Record) Own(cs []Change) (changed bool) { return r.own(cs, true) }

// OwnsAll reports whether Own(cs) would change nothing: rsprep owns all of
// it already, as it is (watch re-adding a VIP someone removed). Then a run
// needs no copy of the record to roll back to.
func (r *Record) OwnsAll(cs []Change) bool { return !r.own(cs, false) }

// own is Own, or with write false only whether it would change the
// record (then it writes nothing, and stops at the first change).
func (r *Record) own(cs []Change, write bool) (changed bool) {
	r.mustBeDecoded()
	if write {
		r.Changes = slices.Grow(r.Changes, len(cs))
	}
	index := r.ownerIndex(cs)
	var settling []Change
	for _, c := range cs {
		if c.def().Settles != nil {
			settling = append(settling, c)
		}
		entry, keep := c.recordEntry()
		if !keep {
			continue
		}
		key := entry.ownerKey()
		i, ok := index[key]
		if !ok {
			if !write {
				return true
			}
			index[key] = len(r.Changes)
			r.Changes = append(r.Changes, entry)
			changed = true
			continue
		}
		update := entry.def().Update
		if update == nil {
			continue
		}
		next, differs := update(r.Changes[i], entry)
		if !differs {
			continue
		}
		if !write {
			return true
		}
		r.Changes[i], changed = next, true
	}
	for _, c := range settling {
		if r.settle(c, write) {
			if !write {
				return true
			}
			changed = true
		}
	}
	return changed
}

// settle forgets the entries c settles (see KindDef.Settles), or with
// write false only reports whether there are any.
func (r *Record) settle(c Change, write bool) bool {
	settled := func(old Change) bool { return c.def().Settles(c, old) }
	if !write {
		return slices.ContainsFunc(r.Changes, settled)
	}
	n := len(r.Changes)
	r.Changes = slices.DeleteFunc(r.Changes, settled)
	return len(r.Changes) != n
}

// Disown forgets the things named by cs.
func (r *Record) Disown(cs []Change) {
	drop := make(map[string]bool, len(cs))
	for _, c := range cs {
		drop[c.ownerKey()] = true
	}
	r.disown(drop)
}

// disown forgets the things whose ownerKey is in drop.
func (r *Record) disown(drop map[string]bool) {
	r.mustBeDecoded()
	r.Changes = slices.DeleteFunc(r.Changes, func(c Change) bool { return drop[c.ownerKey()] })
}

// snapshot and restore let a failed run put the record back as it found it,
// its changes pending if they were.
// The zero snapshot was never taken: restoring it changes nothing.
type recordSnapshot struct {
	changes []Change
	pending []byte
	taken   bool
}

func (r *Record) snapshot() recordSnapshot {
	return recordSnapshot{slices.Clone(r.Changes), r.pending, true}
}

func (r *Record) restore(s recordSnapshot) {
	if s.taken {
		r.Changes, r.pending = s.changes, s.pending
	}
}
