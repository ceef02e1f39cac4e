package watch

import (
	"errors"
	"log/slog"
	"maps"
	"net/netip"
	"slices"
	"time"

	"github.com/rsprep/rsprep/realserver"
)

// recheck observes the checks s covers and repairs (or reports) their
// drift. causes names the events behind it, per check ID ("*": all).
//
// A repairing watcher observes under the namespace's lock, and the repair
// starts from that observation: one address dump less than observing
// first and again under the lock, which at 10,000 VIPs is most of a
// repair's time. --on-drift report changes nothing and takes no lock.
func (w *watcher) recheck(s Scope, causes map[string][]string, resync bool) {
	// A down's intent is final until an apply: stand down at once, even
	// with nothing to repair (the lock makes it certain in repair).
	if d, ok := w.cfg.State.StandDownFor(w.target.Name, w.target.Mode.VIPList()); ok {
		w.stood = &realserver.StoodDownError{Down: d}
		return
	}
	idx := w.selectInvs(s)
	if resync {
		clear(w.cfg.State.Answers) // ask the network afresh (see newWatcher)
	}
	before := map[string]bool{} // what already failed: drift is counted and reported once
	for _, f := range w.failing(idx) {
		before[fightKey(f)] = true
	}
	if len(idx) == 0 {
		w.publish(resync)
		return
	}
	if w.cfg.Report {
		if err := w.observe(s); err != nil {
			w.cfg.Log.Warn("cannot observe the host; trying again at the next event or resync", "err", oneLine(err))
			return
		}
		if resync {
			w.resync = time.Now()
		}
		drifted := w.noteDrift(idx, before, causes)
		w.publish(resync || len(drifted) > 0)
		return
	}
	observed, drifts := false, false
	res, err := w.cfg.State.RepairLocked(w.ctx, w.cfg.Host, w.target.Name, w.target.Mode.VIPList(), w.cfg.Log, w.cfg.LockWait,
		func(v *realserver.View) ([]realserver.Invariant, error) {
			if err := w.observeOn(v, s); err != nil {
				return nil, err
			}
			observed = true
			drifted := w.noteDrift(idx, before, causes)
			drifts = len(drifted) > 0
			return w.planRepair(s, drifted, causes), nil
		})
	if observed && resync {
		w.resync = time.Now()
	}
	w.expectEchoes(res.Changes)
	w.repaired(err, observed)
	w.publish(resync || drifts)
}

// expectEchoes notes the addresses a repair added: the kernel's event for
// each is the repair's own echo, which the loop drops once instead of
// observing the host again for it (at 10,000 VIPs, an address dump).
func (w *watcher) expectEchoes(cs []realserver.Change) {
	clear(w.echoes)
	for _, c := range cs {
		if c.Kind == realserver.KindAddrAdd {
			w.echoes[echoKey{c.Addr.Link, c.Addr.Prefix}] = true
		}
	}
}

// echo reports (once) whether e is the echo of the last repair's own
// address change.
func (w *watcher) echo(e Event) bool {
	k := echoKey{e.Link, e.Prefix}
	if e.Kind != KindAddr || e.Gone || !w.echoes[k] {
		return false
	}
	delete(w.echoes, k)
	return true
}

// echoKey is an address on its interface.
type echoKey struct {
	link   string
	prefix netip.Prefix
}

// noteDrift is the failing findings of idx, counting (and with --on-drift
// report, logging) those that were not failing before.
func (w *watcher) noteDrift(idx []int, before map[string]bool, causes map[string][]string) []realserver.Finding {
	drifted := w.failing(idx)
	for _, f := range drifted {
		if before[fightKey(f)] {
			continue
		}
		w.drift[f.ID]++
		if c := causeOf(causes, f.ID); len(c) > 0 && c[0] != "resync" {
			w.causes[f.ID] = c
		}
		if w.cfg.Report {
			w.logFinding(slog.LevelWarn, "drift (--on-drift report: not repairing)", f, causes)
		}
	}
	return drifted
}

// failing is the failing findings of the invariants idx.
func (w *watcher) failing(idx []int) []realserver.Finding {
	var out []realserver.Finding
	for _, i := range idx {
		for _, f := range w.results[i] {
			if !f.OK {
				out = append(out, f)
			}
		}
	}
	return out
}

// fightKey is what the damper counts: one check of one subject (the same
// VIP deleted again and again is a fight; different VIPs deleted one after
// another are not).
func fightKey(f realserver.Finding) string { return f.ID + " " + f.Subject }

// planRepair is what a repair gives the engine: the whole mode, except for
// subjects the damper holds back: the engine sees those as holding, so it
// neither fixes them nor fails its postcondition. The whole mode, not only
// the drifted invariants: a VIP is re-bound only once the mode's ARP
// sysctls are in place again (the engine orders sysctls before addresses),
// whatever else undid them. An audit (realserver.Audit: the director not
// answering yet) is reported, never repaired or fought over.
func (w *watcher) planRepair(s Scope, drifted []realserver.Finding, causes map[string][]string) []realserver.Invariant {
	now := time.Now()
	var fix []realserver.Finding
	started := map[string][]string{} // check ID → subjects whose fight starts now
	for _, f := range drifted {
		if w.audits[f.ID] || w.damper.Damped(fightKey(f), now) {
			continue
		}
		ok, begins := w.damper.Allow(fightKey(f), now)
		if begins {
			started[f.ID] = append(started[f.ID], f.Subject)
		}
		if ok {
			fix = append(fix, f)
		}
	}
	for _, id := range slices.Sorted(maps.Keys(started)) {
		w.logFight(id, started[id])
	}
	if len(fix) == 0 {
		return nil
	}
	invs := make([]realserver.Invariant, len(w.invs))
	for i := range w.invs {
		invs[i] = w.forEngine(i, s, now)
	}
	for _, f := range fix {
		w.logFinding(slog.LevelWarn, "repairing drift", f, causes)
		w.repairs[f.ID]++
	}
	return invs
}

// repaired logs how a locked re-check ended: observed says whether it got
// as far as observing the host.
func (w *watcher) repaired(err error, observed bool) {
	var nc *realserver.NotConvergedError
	var sd *realserver.StoodDownError
	var in *realserver.InterruptedError
	switch {
	case errors.As(err, &sd):
		w.stood = sd
	case errors.As(err, &in):
		w.cfg.Log.Info("stopping during a repair: "+oneLine(err), "mode", w.target.Name)
	case errors.As(err, &nc):
		for _, f := range nc.Failing {
			w.cfg.Log.Warn("repair did not converge", "mode", w.target.Name, "invariant", f.ID, "subject", f.Subject, "want", f.Want, "got", f.Got)
		}
	case err != nil && !observed:
		w.cfg.Log.Warn("cannot observe the host; trying again at the next event or resync", "err", oneLine(err))
	case err != nil:
		w.cfg.Log.Error("repair failed; trying again at the next event or resync", "mode", w.target.Name, "err", oneLine(err))
	}
}

// forEngine is invariant i as the engine sees it during a repair. The
// subjects damped at now count as holding, so the engine plans no fix for
// them. What the check really found is kept as i's findings: the engine's
// last check is its postcondition, the host as the repair left it, so no
// observation of its own follows a repair.
func (w *watcher) forEngine(i int, s Scope, now time.Time) realserver.Invariant {
	inv, some := w.invFor(i, s)
	return realserver.CheckFunc(func(v *realserver.View) ([]realserver.Finding, error) {
		fs, err := inv.Check(v)
		if err != nil {
			return nil, err
		}
		w.keep(i, fs, some)
		held := slices.Clone(fs)
		for n := range held {
			if !held[n].OK && w.damper.Damped(fightKey(held[n]), now) {
				held[n].OK, held[n].Fix = true, nil
			}
		}
		return held, nil
	})
}
