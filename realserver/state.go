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
}
