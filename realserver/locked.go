package realserver

import (
	"log/slog"
	"time"
)

// Engine starts a run of mode in this namespace: it observes host afresh
// (another rsprep may have changed it since preflight) while it reads the
// namespace's record. Call it under the lock.
func (s State) Engine(host Host, mode string, log *slog.Logger) (*Engine, error) {
	first := NewView(host)
	rec, err := s.LoadWhile(first.Prefetch)
	if err != nil {
		return nil, err
	}
	return &Engine{Host: host, Record: rec, Mode: mode, Log: log, First: first}, nil
}

// ApplyLocked is one apply as a long-running caller (rsprep watch) makes
// it: take the namespace's lock (waiting at most wait), apply invs through
// the Engine (record, rollback), and release the lock at once, so that
// verify, apply and down by hand keep working between repairs. With
// s.Cache the record is read only when somebody else wrote it since.
func (s State) ApplyLocked(host Host, mode string, invs []Invariant, log *slog.Logger, wait time.Duration) (Result, error) {
	unlock, err := s.Lock(wait)
	if err != nil {
		return Result{Mode: mode}, err
	}
	defer unlock()
	eng, err := s.Engine(host, mode, log)
	if err != nil {
		return Result{Mode: mode}, err
	}
	res, err := eng.Apply(invs, false)
	s.Cache.keep(s, eng.Record, err)
	return res, err
}
