package main

import (
	"context"
	"errors"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/rsprep/rsprep/realserver"
	"github.com/rsprep/rsprep/realserver/persist"
)

// apply makes every invariant of the mode hold, records what it changed,
// and rolls back on failure; with --dry-run it prints the plan instead.
// From a config file it also undoes what rsprep owns that the file does
// not declare; from the command line it only adds.
func (r *modeRun) apply() int {
	eng, unlock, err := r.startEngine()
	if err != nil {
		return r.fail(err)
	}
	defer unlock()
	ctx, stop := stopOnSignal()
	defer stop()
	var res realserver.Result
	if r.fromConfig {
		res, err = eng.ConvergeContext(ctx, r.declared(), r.o.dryRun)
		if err == nil && !r.o.dryRun {
			err = r.endUndeclaredDrains()
		}
	} else {
		res, err = eng.ApplyContext(ctx, r.mode.Invariants(), r.o.dryRun)
	}
	logFailing(r.log, r.name, err)
	var nc *realserver.NotConvergedError
	if !r.o.dryRun && (err == nil || errors.As(err, &nc)) {
		// The namespace is rsprep's to keep again: a watch started
		// later keeps it (see persist.StandDown).
		if cerr := r.state.ClearStandDown(r.name, r.mode.VIPList()); cerr != nil && err == nil {
			err = cerr
		}
	}
	return r.finish(res, err)
}

// stopOnSignal is a context that SIGINT or SIGTERM cancels, with a
// realserver.SignalError as its cause: the run stops at its next safe
// point and rolls back, instead of dying half-way. stop ends it.
func stopOnSignal() (ctx context.Context, stop func()) {
	ctx, cancel := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case sig := <-sigs:
			cancel(realserver.SignalError{Signal: sig})
		case <-done:
		}
	}()
	return ctx, func() {
		signal.Stop(sigs)
		close(done)
		cancel(nil)
	}
}

// down undoes what the record says rsprep did for the mode, and only that;
// with --dry-run it prints the plan instead. With --all, or from a config
// file (the unit's stop), it undoes everything rsprep owns here, whatever
// the file declares now.
func (r *modeRun) down() int {
	eng, unlock, err := r.startEngine()
	if err != nil {
		return r.fail(err)
	}
	defer unlock()
	if !r.o.dryRun {
		// Under the lock, before the first change: a running watch
		// stands down instead of putting back what this removes.
		if err := r.state.AddStandDown(r.standDown()); err != nil {
			return r.fail(err)
		}
	}
	var res realserver.Result
	if r.all || r.fromConfig {
		res, err = eng.DownAll(r.o.dryRun)
	} else {
		eng.Undo = r.mode
		res, err = eng.Down(r.mode.VIPList(), r.o.dryRun)
	}
	for _, n := range res.Notes {
		r.log.Warn(n)
	}
	if err == nil && !r.o.dryRun {
		_, err = r.endDrain() // a drain of these VIPs ends with them
	}
	return r.finish(res, err)
}

// finish prints a change's result (what it did, or its plan) and maps the
// run's error to an exit code.
func (r *modeRun) finish(res realserver.Result, err error) int {
	if werr := writeResult(r.stdout, r.o.output, r.act, res, r.o.dryRun); werr != nil && err == nil {
		err = werr
	}
	if err != nil {
		return r.fail(err)
	}
	return exitOK
}

// startEngine is how apply and down reach the engine: one observation
// serves the mode's preflight and the run. A dry run takes it holding the
// namespace's turn shared; a writer before the lock (bad input leaves no
// trace), and again under the lock only if another rsprep wrote in
// between (see realserver.State.BeginWrite). A dry run's engine plans
// against a copy of the record. unlock (never nil) releases the turn once
// the result is out.
func (r *modeRun) startEngine() (eng *realserver.Engine, unlock func(), err error) {
	var view *realserver.View
	if r.o.dryRun {
		unlock, err = asReader(r.state, r.o.lockWait, func() (err error) {
			if view, err = r.state.Observe(r.host); err == nil {
				err = r.preflight(view)
			}
			return err
		})
	} else {
		view, unlock, err = r.state.BeginWrite(r.host, r.preflight, r.o.lockWait)
	}
	if err != nil {
		return nil, nil, err
	}
	if unlock == nil {
		unlock = func() {}
	}
	if eng, err = realserver.NewEngine(view, r.name, r.log); err != nil {
		unlock()
		return nil, nil, err
	}
	if r.o.dryRun {
		eng.Record = eng.Record.Clone()
	}
	return eng, unlock, nil
}

// preflight is the mode's; down --all has none.
func (r *modeRun) preflight(v *realserver.View) error {
	if r.mode == nil {
		return nil
	}
	return r.mode.Preflight(v)
}

// declared is the whole state a config file declares: its mode's.
func (r *modeRun) declared() realserver.Declared {
	return realserver.Declared{Mode: r.name, VIPs: r.mode.VIPList(), Invs: r.mode.Invariants()}
}

// standDown is the intent this down leaves for a running watch: of every
// mode for down --all and down --config (they undo everything), else of
// this mode's VIPs (of the whole mode when it names none).
func (r *modeRun) standDown() persist.StandDown {
	d := persist.StandDown{Mode: r.name, PID: os.Getpid(), At: time.Now()}
	if r.all || r.fromConfig {
		d.Mode = persist.AllModes
		return d
	}
	d.VIPs = r.mode.VIPList()
	return d
}
