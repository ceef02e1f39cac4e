package realserver

import (
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"time"

	"github.com/rsprep/rsprep/realserver/persist"
)

// BeginWrite starts a run that changes the namespace (apply, down): it
// observes the host (see Observe), runs preflight on that observation, and
// takes the namespace's lock, which the caller releases when the run is
// done. It returns the observation the run starts from.
//
// Preflight runs before the lock, so that bad input leaves no trace, not
// even a lock file. The lock serializes rsprep's writers, and only them:
// if no other rsprep had a turn since the observation (the lock file's
// count of turns is as it was, see persist.Turn), the observation stands,
// record included; otherwise the host is observed again under the lock.
// Other agents are never serialized: the engine's writes take the
// kernel's "exists" and "gone" as success, and its last check is the
// postcondition.
//
// If the tables kept changing under every dump, which is what another
// rsprep writing looks like, it waits for the lock first (up to wait, as
// the run would anyway) and observes and runs preflight again under it.
// Then only something other than rsprep can still churn the tables: the
// dumps' bounded retry ends that (exit 3).
func (s State) BeginWrite(h Host, preflight func(*View) error, wait time.Duration) (v *View, unlock func(), err error) {
	last := s.LastTurn() // before the first dump
	v, err = s.observeFor(h, preflight)
	if errors.Is(err, ErrKeepsChanging) {
		if unlock, err = s.Lock(wait); err != nil {
			return nil, nil, err
		}
		if v, err = s.observeFor(h, preflight); err != nil {
			unlock()
			return nil, nil, err
		}
		return v, unlock, nil
	}
	if err != nil {
		return nil, nil, err
	}
	unlock, found, err := s.LockTurn(wait)
	if err != nil {
		return nil, nil, err
	}
	if !last.Same(found) { // another rsprep wrote in between
		v.record() // its read is done before the next starts (s.Cache is not for concurrent use)
		if v, err = s.Observe(h); err != nil {
			unlock()
			return nil, nil, err
		}
	}
	return v, unlock, nil
}

// Observe observes h with this namespace's record (see RecordAlongside),
// from s.Cache while nobody else wrote it, and s.Answers if set.
func (s State) Observe(h Host) (*View, error) {
	v, err := Observe(h, RecordAlongside(func() (*Record, error) { return s.Cache.load(s) }))
	if err == nil && s.Answers != nil {
		v.arp = s.Answers // nothing has asked the network yet
	}
	return v, err
}

// observeFor observes h and runs preflight on the observation.
func (s State) observeFor(h Host, preflight func(*View) error) (*View, error) {
	v, err := s.Observe(h)
	if err != nil {
		return nil, err
	}
	if err := preflight(v); err != nil {
		v.record() // its read is done before another starts
		return nil, err
	}
	return v, nil
}

// ApplyLocked is one apply as a long-running caller (rsprep watch) makes
// it: take the namespace's lock (waiting at most wait), observe, apply invs
// through the Engine (record, rollback), and release the lock at once, so
// that verify, apply and down by hand keep working between repairs. With
// s.Cache the record is read only when somebody else wrote it since. Like
// apply by hand, it clears the downs' intents for mode and vips (see
// persist.StandDown) unless it failed and rolled back.
func (s State) ApplyLocked(ctx context.Context, host Host, mode string, vips []netip.Addr, invs []Invariant, log *slog.Logger, wait time.Duration) (Result, error) {
	return s.keepLocked(host, mode, vips, log, wait, func(eng *Engine) (Result, error) { return eng.ApplyContext(ctx, invs, false) })
}

// ConvergeLocked is ApplyLocked for a declared state (a config file's):
// it also undoes what rsprep owns here that d does not declare.
func (s State) ConvergeLocked(ctx context.Context, host Host, d Declared, log *slog.Logger, wait time.Duration) (Result, error) {
	return s.keepLocked(host, d.Mode, d.VIPs, log, wait, func(eng *Engine) (Result, error) { return eng.ConvergeContext(ctx, d, false) })
}

// keepLocked takes the lock, observes, runs and, unless the run failed and
// rolled back, makes mode and vips rsprep's to keep again.
func (s State) keepLocked(host Host, mode string, vips []netip.Addr, log *slog.Logger, wait time.Duration, run func(*Engine) (Result, error)) (Result, error) {
	unlock, err := s.Lock(wait)
	if err != nil {
		return Result{Mode: mode}, err
	}
	defer unlock()
	v, err := s.Observe(host)
	if err != nil {
		return Result{Mode: mode}, err
	}
	res, err := s.engineRun(v, mode, log, run)
	var nc *NotConvergedError
	if err == nil || errors.As(err, &nc) { // it changed what it could: rsprep's to keep
		if cerr := s.ClearStandDown(mode, vips); cerr != nil && err == nil {
			err = cerr
		}
	}
	return res, err
}

// StoodDownError means a down ran in this namespace since the last apply:
// a watcher must put nothing back (see persist.StandDown).
type StoodDownError struct{ Down persist.StandDown }

func (e *StoodDownError) Error() string {
	return e.Down.String() + ": standing down (an apply or a new watch makes it rsprep's to keep again)"
}

// RepairLocked is a watcher's re-check and repair in one turn of the lock.
// Under the lock, before anything is observed, it honours a down's intent
// that covers mode or one of vips and changes nothing (a *StoodDownError),
// so a down by hand and a watch never fight. Then it observes, and decide
// looks at that observation and returns the invariants to apply (nil:
// nothing to repair); the repair starts from the same observation.
func (s State) RepairLocked(ctx context.Context, host Host, mode string, vips []netip.Addr, log *slog.Logger, wait time.Duration,
	decide func(*View) ([]Invariant, error)) (Result, error) {
	unlock, err := s.Lock(wait)
	if err != nil {
		return Result{Mode: mode}, err
	}
	defer unlock()
	if d, ok := s.StandDownFor(mode, vips); ok {
		return Result{Mode: mode}, &StoodDownError{Down: d}
	}
	v, err := s.Observe(host)
	if err != nil {
		return Result{Mode: mode}, err
	}
	invs, err := decide(v)
	if err != nil || invs == nil {
		v.record() // its read is done before another starts (s.Cache is not for concurrent use)
		return Result{Mode: mode, OK: err == nil}, err
	}
	return s.engineRun(v, mode, log, func(eng *Engine) (Result, error) { return eng.ApplyContext(ctx, invs, false) })
}

// engineRun runs run on an Engine of the observation v; the caller holds
// the lock.
func (s State) engineRun(v *View, mode string, log *slog.Logger, run func(*Engine) (Result, error)) (Result, error) {
	eng, err := NewEngine(v, mode, log)
	if err != nil {
		return Result{Mode: mode}, err
	}
	res, err := run(eng)
	s.Cache.keep(s, eng.Record, err)
	return res, err
}
