package main

import "github.com/rsprep/rsprep/realserver"

// apply makes every invariant of the mode hold, records what it changed,
// and rolls back on failure; with --dry-run it prints the plan instead.
func (r *modeRun) apply() int {
	eng, unlock, err := r.startEngine()
	if err != nil {
		return r.fail(err)
	}
	defer unlock()
	res, err := eng.Apply(r.mode.Invariants(), r.o.dryRun)
	logFailing(r.log, r.name, err)
	return r.finish(res, err)
}

// down undoes what the record says rsprep did for the mode, and only that;
// with --dry-run it prints the plan instead.
func (r *modeRun) down() int {
	eng, unlock, err := r.startEngine()
	if err != nil {
		return r.fail(err)
	}
	defer unlock()
	eng.Undo = r.mode
	res, err := eng.Down(r.mode.VIPList(), r.o.dryRun)
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
				err = r.mode.Preflight(view)
			}
			return err
		})
	} else {
		view, unlock, err = r.state.BeginWrite(r.host, r.mode.Preflight, r.o.lockWait)
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
