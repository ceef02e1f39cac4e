package main

import (
	"github.com/rsprep/rsprep/realserver"
)

// verify audits every invariant and prints every finding: exit 0 when all
// hold, 1 on drift. It changes nothing and runs without root.
func (r *modeRun) verify() int {
	found, unlock, err := r.observeAndCheck()
	if err != nil {
		return r.fail(err)
	}
	defer unlock()
	drained, err := drainFindings(r.mode.VIPList())
	if err != nil {
		return r.fail(err)
	}
	found = append(found, drained...)
	res := realserver.Result{Mode: r.name, OK: realserver.AllOK(found), Checks: found}
	if err := writeResult(r.stdout, r.o.output, actVerify, res, false); err != nil {
		return r.fail(err)
	}
	if !res.OK {
		return exitDrift
	}
	return exitOK
}

// observeAndCheck is verify's one use of the engine: while no rsprep
// writes the namespace, one observation serves the mode's preflight and
// its checks (one dump per kind). unlock (never nil) releases the turn
// once the result is out.
func (r *modeRun) observeAndCheck() (found []realserver.Finding, unlock func(), err error) {
	unlock, err = asReader(r.state, r.o.lockWait, func() error {
		// The record is read beside the dumps: every verify needs it now,
		// to see what rsprep owns beyond what the run declares.
		view, err := realserver.Observe(r.host, realserver.RecordAlongside(r.readRecord))
		if err != nil {
			return err
		}
		if err := r.mode.Preflight(view); err != nil {
			return err
		}
		d := r.declared()
		if found, err = view.Verify(d.Invs); err != nil {
			return err
		}
		// Whatever rsprep owns here beyond what this run declares is
		// drift too: an audit that says "all hold" must mean it.
		undeclared, err := realserver.UndeclaredFindings(view, d)
		found = append(found, undeclared...)
		if err == nil {
			undeclared, err = undeclaredDrains(d.VIPs)
			found = append(found, undeclared...)
		}
		return err
	})
	if unlock == nil {
		unlock = func() {}
	}
	return found, unlock, err
}

// readRecord is this namespace's record for verify: what rsprep owns, and
// the values it replaced (NAT's keep-routes suggest fixes from them).
// Verify runs without root, where the record is unreadable: then it checks
// without it. It runs on another goroutine, so it names the namespace by
// r.state, never by its own thread's.
func (r *modeRun) readRecord() (*realserver.Record, error) {
	rec, err := r.state.LoadPending() // decoded only as far as verify needs it
	if err != nil {
		return nil, nil
	}
	return rec, nil
}
