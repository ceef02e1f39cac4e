package realserver

import (
	"log/slog"
	"time"
)

// ApplyLocked is one apply as a long-running caller (rsprep watch) makes
// it: take the namespace's lock (waiting at most wait), observe the host
// afresh under it, apply invs through the Engine (record, rollback), and
// release the lock at once, so that verify, apply and down by hand keep
// working between repairs.
func (s State) ApplyLocked(host Host, mode string, invs []Invariant, log *slog.Logger, wait time.Duration) (Result, error) {
	unlock, err := s.Lock(wait)
	if err != nil {
		return Result{Mode: mode}, err
	}
	defer unlock()
	first := NewView(host)
	rec, err := s.LoadWhile(first.Prefetch)
	if err != nil {
		return Result{Mode: mode}, err
	}
	eng := &Engine{Host: host, Record: rec, Mode: mode, Log: log, First: first}
	return eng.Apply(invs, false)
}

// VerifyLocked observes under the namespace's lock: for a watcher whose
// unlocked observation failed because another rsprep is rewriting the
// table (an interrupted dump), it waits its turn, as verify does.
func (s State) VerifyLocked(host Host, invs []Invariant, wait time.Duration) ([]Finding, error) {
	unlock, err := s.Lock(wait)
	if err != nil {
		return nil, err
	}
	defer unlock()
	return NewView(host).Verify(invs)
}
