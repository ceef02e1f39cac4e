package realserver

import (
	"fmt"
	"strings"
)

// NotConvergedError means apply ran but the invariants still do not hold.
type NotConvergedError struct{ Failing []Finding }

func (e *NotConvergedError) Error() string {
	f := e.Failing[0]
	return fmt.Sprintf("applied, but %d check(s) still fail, first: %s %s want %s got %s", len(e.Failing), f.ID, f.Subject, f.Want, f.Got)
}

// ChangeError means a kernel change failed; what the run had changed was
// rolled back (or, if rollback failed too, says what was left).
type ChangeError struct {
	Change      Change
	Err         error
	RolledBack  int      // changes undone
	Kept        []string // modules this run loaded: never unloaded
	RollbackErr error    // undoing a change on the host failed
	RecordErr   error    // the host is rolled back, but not the record
}

func (e *ChangeError) Error() string {
	return e.Change.failed(e.Err) + rollbackSummary(e.RolledBack, e.Kept, e.RollbackErr, e.RecordErr)
}

// rollbackSummary says how a rollback went. Only a failed host write leaves
// the host partly changed; a record that could not be put back only
// over-claims what rsprep owns, which down handles.
func rollbackSummary(undone int, kept []string, hostErr, recordErr error) string {
	var s string
	switch {
	case hostErr != nil:
		s = fmt.Sprintf("; rollback failed, the host is partly changed: %v", hostErr)
	case undone > 0:
		s = fmt.Sprintf("; rolled back the %d change(s) this run made", undone)
	case len(kept) == 0:
		s = "; nothing was changed"
	}
	if len(kept) > 0 {
		s += fmt.Sprintf("; left module(s) %s loaded (rsprep never unloads a module)", strings.Join(kept, ", "))
	}
	if recordErr != nil {
		s += fmt.Sprintf("; could not restore the record: %v", recordErr)
	}
	return s
}
func (e *ChangeError) Unwrap() error { return e.Err }
