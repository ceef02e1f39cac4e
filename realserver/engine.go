package realserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"
)

// maxRounds bounds apply: a change may reveal new subjects (loading ipip
// creates tunl0, whose sysctls can only then be read), so apply checks
// again after each round of fixes.
const maxRounds = 3

// Result is what a run saw and did.
type Result struct {
	Mode    string    `json:"mode"`
	OK      bool      `json:"ok"`
	Checks  []Finding `json:"checks"`
	Changes []Change  `json:"changes,omitempty"` // made, or planned under --dry-run
	Notes   []string  `json:"notes,omitempty"`   // what down left alone, and why
}

// Engine runs one mode's invariants against one host.
type Engine struct {
	Host   Host
	Record *Record
	Mode   string
	Log    *slog.Logger
	// Undo is the mode as down runs it (Mode.ForDown), if the caller has
	// it: down removes an address carrying rsprep's mark that no record
	// names only from the mode's own VIP devices. Nil: from any device.
	Undo Mode

	first         *View               // the observation the run starts from (NewEngine); nil: observe afresh
	answers       map[Question]Answer // the network's answers in this run, shared by its views (see view)
	recordSaved   bool                // Apply saved this run's plan to the record
	recordSnapped bool                // Apply copied the record for a rollback before changing it
	simulated     bool                // Host is a Sim of the host: a dry run (see dryRun)
}

// Apply makes every invariant true: check, fix each finding, check again.
// A failing change rolls back every change of this run. With dryRun it
// returns the plan, every round of it, and changes nothing.
func (e *Engine) Apply(invs []Invariant, dryRun bool) (Result, error) {
	return e.ApplyContext(context.Background(), invs, dryRun)
}

// ApplyContext is Apply that ctx can stop at a safe point: between two
// checks, two changes or two chunks of a batch. A stopped run rolls back
// what it changed, as a failure half-way does, and returns an
// *InterruptedError saying so.
func (e *Engine) ApplyContext(ctx context.Context, invs []Invariant, dryRun bool) (Result, error) {
	res := Result{Mode: e.Mode}
	if err := e.dropStale(dryRun); err != nil {
		return res, err
	}
	if dryRun {
		return e.dryRun(invs)
	}
	// The record as the run found it, for a rollback: copied only once
	// the run is about to change it (at 10,000 VIPs a copy is 6 MB, and a
	// watcher re-adding one VIP it owns changes nothing in it).
	var saved recordSnapshot
	if e.Record.pending != nil { // a copy of its bytes
		saved = e.Record.snapshot()
	}
	var done []Change
	var fs []Finding
	for round := 0; ; round++ {
		if err := interrupted(ctx); err != nil && !e.simulated {
			return res, e.rollback(done, saved, err)
		}
		var err error
		if fs, err = e.verify(invs); err != nil {
			return res, e.rollback(done, saved, err)
		}
		res.Checks = fs
		plan := planFixes(fs, e.Mode)
		if len(plan) == 0 || round == maxRounds {
			break // this check is the postcondition
		}
		// Only now are the record's changes needed: a no-op apply
		// never decodes them (see loadRecord).
		if err := e.Record.decode(); err != nil {
			return res, e.rollback(done, saved, err)
		}
		// A record that already owns the plan (watch re-adding a VIP
		// someone removed) is not written again: at 10,000 VIPs that
		// write is most of a repair.
		owned := e.Record.OwnsAll(plan)
		if !owned && !saved.taken {
			saved = e.Record.snapshot()
		}
		if !owned && e.Record.Own(plan) {
			if err := e.Record.Save(); err != nil {
				return res, e.rollback(done, saved, err)
			}
			e.recordSaved = true
		}
		made, failed := runPlan(ctx, e.Host, plan, e.logChange)
		if len(done) == 0 {
			done = slices.Clip(made) // usually the only round that changes anything
		} else {
			done = append(done, made...)
		}
		if failed != nil {
			if e.simulated {
				return res, failed // nothing to roll back: "nothing was changed"
			}
			return res, e.rollback(done, saved, failed)
		}
		res.Changes = done // each round's plan, all made
	}
	res.OK = AllOK(fs)
	if !res.OK {
		return res, &NotConvergedError{Failing: failing(fs)}
	}
	return res, nil
}

// dryRun is Apply, all of its rounds, run on a Sim seeded from this host's
// first observation, with a copy of the record that is never saved and
// nothing logged. A plan of one round would miss what only an earlier
// change makes visible: on a host without tunl0, loading ipip creates it,
// and only then can a round see it down, read its sysctls and bind the
// VIPs to it. (Declaring in each invariant the devices its fix creates
// would need the same knowledge of the kernel, the values a new device
// inherits from conf/default, spread over the modes; the Sim has it once,
// and the fake that tests the real runs is the same model.) The checks
// are the host's as it is now; the changes are what a real run would make,
// in its order. A change the Sim refuses is the error a real run would
// stop at.
func (e *Engine) dryRun(invs []Invariant) (Result, error) {
	first := e.view()
	now, err := first.Verify(invs)
	if err != nil {
		return Result{Mode: e.Mode}, err
	}
	rec := e.Record.Clone() // no path: never saved
	// The Sim's first round sees what first saw (its reads are cached).
	sim := &Engine{Host: NewSim(first), Record: rec, Mode: e.Mode, Log: slog.New(slog.DiscardHandler), first: first, simulated: true}
	res, err := sim.Apply(invs, false)
	res.Checks, res.OK = now, AllOK(now)
	var nc *NotConvergedError
	if errors.As(err, &nc) {
		err = nil // what will not hold is verify's to say, after the run
	}
	return res, err
}

// verify checks invs on the next observation (see view).
func (e *Engine) verify(invs []Invariant) ([]Finding, error) {
	return e.view().Verify(invs)
}

// view is the observation the run started from the first time, then a
// fresh one. Its record is the run's as it is now, so that a fix can use a
// value rsprep replaced in an earlier run (View.Recorded).
func (e *Engine) view() *View {
	v := e.first
	if v == nil {
		v = NewView(e.Host)
	}
	e.first = nil
	// One ARP probe per question per run: apply checks up to four times,
	// and a silent gateway costs the probe's whole bound at each. The next
	// run (each of watch's passes) asks the network again, so that a
	// swapped router is seen.
	if e.answers == nil {
		e.answers = v.arp
	} else {
		v.arp = e.answers
	}
	v.records = &recordRead{rec: e.Record, done: true}
	return v
}

// rollback undoes this run's changes, newest first, and puts the record back.
func (e *Engine) rollback(done []Change, saved recordSnapshot, cause error) error {
	var errs []error
	var kept []string
	for i := len(done) - 1; i >= 0; i-- {
		inv, ok := done[i].Inverse()
		if !ok { // a module load (see Inverse)
			kept = append([]string{done[i].Module}, kept...)
			continue
		}
		if err := inv.Run(e.Host); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", inv, err))
			continue
		}
		e.Log.Info("rolled back", "change", inv.String())
	}
	e.Record.restore(saved)
	var saveErr error
	if e.recordSaved { // the record on disk holds this run's plan: put it back
		saveErr = e.Record.Save()
		e.recordSaved = saveErr != nil
	}
	var ce *ChangeError
	if errors.As(cause, &ce) {
		ce.RolledBack, ce.Kept, ce.RollbackErr, ce.RecordErr = len(done)-len(kept), kept, errors.Join(errs...), saveErr
		return ce
	}
	return fmt.Errorf("%w%s", cause, rollbackSummary(len(done)-len(kept), kept, errors.Join(errs...), saveErr))
}

// logChange logs a change made: one line at info level.
func (e *Engine) logChange(c Change) {
	ctx, h := context.Background(), e.Log.Handler()
	if !h.Enabled(ctx, slog.LevelInfo) {
		return
	}
	// A record without the caller's PC, unlike Logger.LogAttrs: no
	// handler of rsprep's shows the source, and finding it
	// (runtime.Callers, which faults in the binary's tables on first use)
	// cost a cold N=1 apply about 0.2-0.3 ms of its first line.
	r := slog.NewRecord(time.Now(), slog.LevelInfo, "changed", 0)
	r.AddAttrs(slog.String("mode", e.Mode), slog.String("change", c.String()))
	r.AddAttrs(c.logAttrs()...)
	_ = h.Handle(ctx, r) // as Logger does: a log line that cannot be written stops nothing
}

// planFixes collects the fixes of the failing findings, tagged with mode.
func planFixes(fs []Finding, mode string) []Change {
	n := 0
	for _, f := range fs {
		n += len(f.Fix)
	}
	cs := make([]Change, 0, n)
	for _, f := range fs {
		if f.OK {
			continue
		}
		for _, c := range f.Fix {
			c.Mode = mode
			cs = append(cs, c)
		}
	}
	return plan(cs)
}

func failing(fs []Finding) []Finding {
	var out []Finding
	for _, f := range fs {
		if !f.OK {
			out = append(out, f)
		}
	}
	return out
}
