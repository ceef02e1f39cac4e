package realserver

import "github.com/rsprep/rsprep/realserver/persist"

// RecordCache keeps the record one long-running caller (rsprep watch) read
// or wrote last, with the identity of the file it is, so that a repair
// reads the record again only when somebody else has written it: at
// 10,000 VIPs, decoding its 10,000 changes under the lock was a large part
// of every repair. Every writer of the record holds the namespace's lock
// and saves by renaming a new file over it, so under the lock an unchanged
// identity is an unchanged record. Not safe for concurrent use.
type RecordCache struct {
	rec *Record
	id  persist.FileID
}

// load is s.loadPending, from the cache while the file is the one it holds. A
// nil cache always reads.
func (c *RecordCache) load(s State) (*Record, error) {
	if c == nil {
		return s.loadPending()
	}
	id, ok, err := persist.Identify(s.RecordPath())
	if err == nil && ok && c.rec != nil && id == c.id {
		return c.rec, nil
	}
	c.rec = nil
	return s.loadPending()
}

// keep holds rec, as a run under the lock left it, for the next run. Only
// a run that ended well is kept: then rec is what the file holds (the
// engine saved it, or had nothing to save). After a failure, or for a
// record the engine may still settle (Unproven, a legacy file), the next
// run reads the file again.
func (c *RecordCache) keep(s State, rec *Record, runErr error) {
	if c == nil {
		return
	}
	c.rec = nil
	if runErr != nil || rec == nil || rec.Unproven || rec.legacyPath != "" || rec.path != s.RecordPath() {
		return
	}
	if id, ok, err := persist.Identify(s.RecordPath()); err == nil && ok {
		c.rec, c.id = rec, id
	}
}
