package main

import (
	"github.com/rsprep/rsprep/realserver"
	"github.com/rsprep/rsprep/realserver/persist"
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
		view, err := realserver.Observe(r.host, realserver.RecordOnUse(readRecord))
		if err != nil {
			return err
		}
		if err := r.mode.Preflight(view); err != nil {
			return err
		}
		found, err = view.Verify(r.mode.Invariants())
		return err
	})
	if unlock == nil {
		unlock = func() {}
	}
	return found, unlock, err
}

// readRecord is this namespace's record for verify, which reads it only
// when a check asks for it, to suggest fixes that depend on a value rsprep
// replaced (NAT's keep-routes). Verify runs without root, where the record
// is unreadable: then it checks without it.
func readRecord() *realserver.Record {
	netns, err := persist.CurrentNetns()
	if err != nil {
		return nil
	}
	rec, err := realserver.State{Files: persist.Files{Dir: stateDir(), Netns: netns}}.Load()
	if err != nil {
		return nil
	}
	return rec
}
