package realserver

import "github.com/rsprep/rsprep/realserver/persist"

// State is one network namespace's record and lock (persist.Files) as the
// engine uses them: Load reads the record, BeginWrite and ApplyLocked run
// under the lock.
type State struct {
	persist.Files
	// Cache, if set, keeps the record between the runs of one
	// long-running caller (ApplyLocked); nil: every run reads it.
	Cache *RecordCache
	// Answers, if set, keeps the network's answers (ARP probes) between
	// the observations of one long-running caller until it clears them:
	// watch asks the gateway again at each resync, not at every event
	// (see NewView). Nil: each run asks once.
	Answers map[Question]Answer
}

// NewView starts an observation of h that shares s.Answers, if set.
func (s State) NewView(h Host) *View {
	v := NewView(h)
	if s.Answers != nil {
		v.arp = s.Answers
	}
	return v
}
