package watch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/rsprep/rsprep/realserver"
)

// all is every invariant's index.
func (w *watcher) all() []int {
	idx := make([]int, len(w.invs))
	for i := range idx {
		idx[i] = i
	}
	return idx
}

// selectInvs is the invariants a scope covers, in the mode's order.
func (w *watcher) selectInvs(s Scope) []int {
	if s.Full {
		return w.all()
	}
	return slices.Sorted(maps.Keys(s.Invs))
}

// causeKeys is what noteCause files an event under: the check IDs the
// scope's invariants last reported, or "*" for everything.
func (w *watcher) causeKeys(s Scope) []string {
	if s.Full {
		return []string{"*"}
	}
	var keys []string
	for i := range s.Invs {
		for id := range w.ids[i] {
			keys = append(keys, id)
		}
	}
	return keys
}

// observe checks the invariants idx on one fresh view and keeps their
// findings, without the lock, like verify. When the tables keep changing
// under every dump (another rsprep writing a large set), it waits for its
// turn as verify does, holding the lock shared, and observes again.
func (w *watcher) observe(idx []int) error {
	err := w.observeOn(w.cfg.State.NewView(w.cfg.Host), idx)
	if !errors.Is(err, realserver.ErrKeepsChanging) {
		return err
	}
	unlock, lerr := w.cfg.State.RLock(w.cfg.LockWait)
	if lerr != nil {
		return fmt.Errorf("%w (and waiting for the writer: %v)", err, lerr)
	}
	defer unlock()
	return w.observeOn(w.cfg.State.NewView(w.cfg.Host), idx)
}

func (w *watcher) observeOn(v *realserver.View, idx []int) error {
	for _, i := range idx {
		fs, err := v.Verify(w.invs[i : i+1])
		if err != nil {
			return err
		}
		w.keep(i, fs)
	}
	if len(idx) == len(w.invs) { // a full look: refresh the interface names too
		if links, err := v.Links(); err == nil {
			clear(w.names)
			for _, l := range links {
				w.names[l.Index] = l.Name
			}
		}
	}
	return nil
}

// keep records invariant i's latest findings and the check IDs they name.
func (w *watcher) keep(i int, fs []realserver.Finding) {
	w.results[i] = fs
	ids := make(map[string]bool, 1)
	audit := realserver.IsAudit(w.invs[i])
	for _, f := range fs {
		ids[f.ID] = true
		if audit {
			w.audits[f.ID] = true
		}
	}
	w.ids[i] = ids
}

// recheck observes the checks s covers and repairs (or reports) their
// drift. causes names the events behind it, per check ID ("*": all).
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
	if len(idx) > 0 {
		if err := w.observe(idx); err != nil {
			w.cfg.Log.Warn("cannot observe the host; trying again at the next event or resync", "err", oneLine(err))
			return
		}
	}
	if resync {
		w.resync = time.Now()
	}
	drifted := w.failing(idx)
	if len(drifted) == 0 {
		w.publish(resync)
		return
	}
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
	if w.cfg.Report {
		w.publish(true)
		return
	}
	w.repair(idx, drifted, causes)
	w.publish(true)
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

// repair runs the engine on the whole mode, one locked apply, except for
// subjects the damper holds back: the engine sees those as holding, so it
// neither fixes them nor fails its postcondition. The whole mode, not only
// the drifted invariants: a VIP is re-bound only once the mode's ARP
// sysctls are in place again (the engine orders sysctls before addresses),
// whatever else undid them. An audit (realserver.Audit: the director not
// answering yet) is reported, never repaired or fought over.
func (w *watcher) repair(idx []int, drifted []realserver.Finding, causes map[string][]string) {
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
		return
	}
	invs := make([]realserver.Invariant, len(w.invs))
	for i := range w.invs {
		invs[i] = w.forEngine(i, now)
	}
	for _, f := range fix {
		w.logFinding(slog.LevelWarn, "repairing drift", f, causes)
		w.repairs[f.ID]++
	}
	_, err := w.cfg.State.RepairLocked(w.ctx, w.cfg.Host, w.target.Name, w.target.Mode.VIPList(), invs, w.cfg.Log, w.cfg.LockWait)
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
	case err != nil:
		w.cfg.Log.Error("repair failed; trying again at the next event or resync", "mode", w.target.Name, "err", oneLine(err))
	}
}

// forEngine is invariant i as the engine sees it during a repair. The
// subjects damped at now count as holding, so the engine plans no fix for
// them. What the check really found is kept as i's findings: the engine's
// last check is its postcondition, the host as the repair left it, so no
// observation of its own follows a repair.
func (w *watcher) forEngine(i int, now time.Time) realserver.Invariant {
	return realserver.CheckFunc(func(v *realserver.View) ([]realserver.Finding, error) {
		fs, err := w.invs[i].Check(v)
		if err != nil {
			return nil, err
		}
		w.keep(i, fs)
		held := slices.Clone(fs)
		for n := range held {
			if !held[n].OK && w.damper.Damped(fightKey(held[n]), now) {
				held[n].OK, held[n].Fix = true, nil
			}
		}
		return held, nil
	})
}

// logFinding logs one drifted check with its subject, old value and cause,
// as journald fields (INVARIANT=, SUBJECT=, GOT=, CAUSE=).
func (w *watcher) logFinding(level slog.Level, msg string, f realserver.Finding, causes map[string][]string) {
	w.cfg.Log.LogAttrs(context.Background(), level, msg,
		slog.String("mode", w.target.Name), slog.String("invariant", f.ID), slog.String("subject", f.Subject),
		slog.String("want", f.Want), slog.String("got", f.Got), slog.String("cause", strings.Join(causeOf(causes, f.ID), "; ")))
}

// logFight is the one error that names a fight: which check (and
// subjects), how often, what keeps undoing it as far as the events show.
func (w *watcher) logFight(id string, subjects []string) {
	what := "nothing the netlink events show (a sysctl, seen at a resync)"
	if c := w.causes[id]; len(c) > 0 {
		what = strings.Join(c, "; ")
	}
	first := id + " " + subjects[0]
	subject := subjects[0]
	if len(subjects) > 1 {
		subject += fmt.Sprintf(" and %d more", len(subjects)-1)
	}
	n := w.damper.Repairs(first)
	w.cfg.Log.Error(fmt.Sprintf("something keeps undoing %s %s: repaired %d times within %v, undone again each time by: %s; not repairing it until %s (everything else is still kept)",
		id, subject, n, w.cfg.RepairWindow, what, w.damper.Until(first).Format(time.TimeOnly)),
		"mode", w.target.Name, "invariant", id, "subject", subject, "repairs", n, "window", w.cfg.RepairWindow.String(), "cause", what)
}

// causeOf is the events behind a check's re-check.
func causeOf(causes map[string][]string, id string) []string {
	if c := causes[id]; len(c) > 0 {
		return c
	}
	return causes["*"]
}

// status is the watcher's state for the textfile and STATUS=.
func (w *watcher) status() Status {
	s := Status{Mode: w.target.Name, Repairs: map[string]int{}, Drift: map[string]int{}, Fights: map[string]bool{}, LastResync: w.resync}
	now := time.Now()
	for _, fs := range w.results {
		s.Checks = append(s.Checks, fs...)
		for _, f := range fs {
			s.Repairs[f.ID], s.Drift[f.ID] = w.repairs[f.ID], w.drift[f.ID]
			s.Fights[f.ID] = s.Fights[f.ID] || w.damper.Damped(fightKey(f), now)
		}
	}
	// Checks of an earlier config keep their counters: a counter never
	// goes back.
	for id, n := range w.repairs {
		s.Repairs[id] = n
	}
	for id, n := range w.drift {
		s.Drift[id] = n
		if _, ok := s.Repairs[id]; !ok {
			s.Repairs[id] = 0
		}
	}
	for id := range s.Repairs {
		if _, ok := s.Drift[id]; !ok {
			s.Drift[id] = 0
		}
	}
	return s
}

// publish hands the status on when it changed, or always with force (a
// resync refreshes the textfile's timestamp).
func (w *watcher) publish(force bool) {
	s := w.status()
	if k := s.key(); force || k != w.lastKey {
		w.lastKey = k
		if w.cfg.Publish != nil {
			if err := w.cfg.Publish(s); err != nil {
				w.cfg.Log.Warn("writing the status", "err", oneLine(err))
			}
		}
	}
	if sum := s.Summary(); sum != w.lastSummary {
		w.lastSummary = sum
		w.notify("STATUS=" + sum)
	}
}

func oneLine(err error) string { return strings.Join(strings.Fields(err.Error()), " ") }
