package watch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/netip"
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
func (w *watcher) observe(s Scope) error {
	err := w.observeOn(w.cfg.State.NewView(w.cfg.Host), s)
	if !errors.Is(err, realserver.ErrKeepsChanging) {
		return err
	}
	unlock, lerr := w.cfg.State.RLock(w.cfg.LockWait)
	if lerr != nil {
		return fmt.Errorf("%w (and waiting for the writer: %v)", err, lerr)
	}
	defer unlock()
	return w.observeOn(w.cfg.State.NewView(w.cfg.Host), s)
}

func (w *watcher) observeOn(v *realserver.View, s Scope) error {
	for _, i := range w.selectInvs(s) {
		inv, some := w.invFor(i, s)
		fs, err := v.Verify([]realserver.Invariant{inv})
		if err != nil {
			return err
		}
		w.keep(i, fs, some)
	}
	if s.Full { // a full look: refresh the interface names too
		if links, err := v.Links(); err == nil {
			clear(w.names)
			for _, l := range links {
				w.names[l.Index] = l.Name
			}
		}
	}
	return nil
}

// invFor is invariant i as the scope re-checks it: the whole of it, or
// only the VIPs its events named (some).
func (w *watcher) invFor(i int, s Scope) (inv realserver.Invariant, some bool) {
	if ips := s.narrowed(i); ips != nil {
		if n, ok := w.invs[i].(realserver.Narrowable); ok {
			return n.Narrow(ips), true
		}
	}
	return w.invs[i], false
}

// keep records invariant i's latest findings and the check IDs they name;
// with some, fs are the findings of some of its subjects, which replace
// those subjects' findings.
func (w *watcher) keep(i int, fs []realserver.Finding, some bool) {
	if some {
		w.merge(i, fs)
		return
	}
	w.results[i] = fs
	w.at[i] = nil
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

// merge replaces the findings of fs's subjects in invariant i's findings
// (one each: a Narrowable's), adding those it had none for.
func (w *watcher) merge(i int, fs []realserver.Finding) {
	if w.at[i] == nil {
		w.at[i] = make(map[string]int, len(w.results[i]))
		for n, f := range w.results[i] {
			w.at[i][f.Subject] = n
		}
	}
	for _, f := range fs {
		if n, ok := w.at[i][f.Subject]; ok {
			w.results[i][n] = f
			continue
		}
		w.at[i][f.Subject] = len(w.results[i])
		w.results[i] = append(w.results[i], f)
		w.ids[i][f.ID] = true
	}
}

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

// status is the watcher's state for the textfile.
func (w *watcher) status() Status {
	s := Status{Mode: w.target.Name, Repairs: map[string]int{}, Drift: map[string]int{}, Fights: w.fights(time.Now()), LastResync: w.resync}
	for i, fs := range w.results {
		s.Checks = append(s.Checks, fs...)
		for id := range w.ids[i] {
			s.Repairs[id], s.Drift[id] = w.repairs[id], w.drift[id]
			if !s.Fights[id] {
				s.Fights[id] = false
			}
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

// fights is the check IDs with a subject damped at now.
func (w *watcher) fights(now time.Time) map[string]bool {
	out := map[string]bool{}
	for _, k := range w.damper.Fights(now) {
		id, _, _ := strings.Cut(k, " ") // fightKey: ID, space, subject
		out[id] = true
	}
	return out
}

// publish hands the status on when it changed, or always with force (a
// resync refreshes the textfile's timestamp), and STATUS= when its line
// changed. Both are worked out from the failing findings alone: at 10,000
// VIPs a copy of every finding at every re-check would be most of a
// repair's time.
func (w *watcher) publish(force bool) {
	var key strings.Builder
	total, failing, first := 0, 0, ""
	for _, fs := range w.results {
		total += len(fs)
		for _, f := range fs {
			if f.OK {
				continue
			}
			if failing == 0 {
				first = f.ID + " " + f.Subject
			}
			failing++
			key.WriteString(f.ID + " " + f.Subject + "\n")
		}
	}
	repairs := 0
	for _, n := range w.repairs {
		repairs += n
	}
	fights := w.fights(time.Now())
	fmt.Fprintf(&key, "%d %v %v %v", total, w.repairs, w.drift, fights)
	if k := key.String(); force || k != w.lastKey {
		w.lastKey = k
		if w.cfg.Publish != nil {
			if err := w.cfg.Publish(w.status()); err != nil {
				w.cfg.Log.Warn("writing the status", "err", oneLine(err))
			}
		}
	}
	if sum := summary(w.target.Name, total, failing, first, repairs, slices.Sorted(maps.Keys(fights))); sum != w.lastSummary {
		w.lastSummary = sum
		w.notify("STATUS=" + sum)
	}
}

func oneLine(err error) string { return strings.Join(strings.Fields(err.Error()), " ") }
