package realserver

import (
	"context"
	"errors"
	"net/netip"
	"slices"
)

// A config file declares the whole state of its namespace: whatever reads
// it converges to exactly what it declares (Converge), an audit reports
// what rsprep owns beyond it (UndeclaredFindings), and a stop leaves
// nothing (DownAll). The command line adds instead (Apply): two
// concurrent applies give the union.
//
// What invariants declare is found much as a dry run finds its plan: on a
// Sim of the host with what rsprep owns undone (where it is still
// rsprep's), check the invariants; what their fixes would own is
// declared. Anything else rsprep owns is not, whatever its kind: a VIP
// dropped from the file, a pinned neighbour or keep-route whose option was
// dropped, another mode's state, and the sysctls once nothing declared
// needs them. It is undone with down's rules: only rsprep's own, and only
// while it is still the value rsprep wrote.

// UndeclaredID is the invariant ID of an owned object nothing declares.
const UndeclaredID = "own.undeclared"

// Declared is the whole desired state of a namespace: one mode's
// invariants and the VIPs they bind. The zero value declares nothing.
type Declared struct {
	Mode string
	VIPs []netip.Addr
	Invs []Invariant
}

// Converge is Apply, then the undoing of what rsprep owns here that d does
// not declare. The VIPs go before the sysctls that suppress their ARP, as
// in down. A failure rolls back the whole run; an apply that ran but left
// a check failing (a director that does not answer) still undoes what is
// not declared, and then reports the failing check.
func (e *Engine) Converge(d Declared, dryRun bool) (Result, error) {
	return e.ConvergeContext(context.Background(), d, dryRun)
}

// ConvergeContext is Converge that ctx can stop at a safe point, as
// ApplyContext.
func (e *Engine) ConvergeContext(ctx context.Context, d Declared, dryRun bool) (Result, error) {
	saved := e.Record.snapshot()
	res, err := e.ApplyContext(ctx, d.Invs, dryRun)
	var nc *NotConvergedError
	if err != nil && !errors.As(err, &nc) {
		return res, err
	}
	pruned, notes, perr := e.prune(d, dryRun, res.Changes, saved)
	res.Changes = append(res.Changes, pruned...)
	res.Notes = append(res.Notes, notes...)
	if perr != nil {
		return res, perr
	}
	return res, err
}

// DownAll undoes everything rsprep owns in this namespace, whatever any
// config declares (rsprep down --all, and the units' stop).
func (e *Engine) DownAll(dryRun bool) (Result, error) {
	res := Result{Mode: e.Mode, OK: true}
	if err := e.dropStale(dryRun); err != nil {
		return res, err
	}
	var err error
	res.Changes, res.Notes, err = e.prune(Declared{}, dryRun, nil, e.Record.snapshot())
	return res, err
}

// prune undoes what rsprep owns that d does not declare, saves the record,
// and on failure rolls back prior (this run's earlier changes) and its own,
// putting the record back to saved.
func (e *Engine) prune(d Declared, dryRun bool, prior []Change, saved recordSnapshot) (plan []Change, notes []string, err error) {
	v := e.view()
	drop, notes, err := undeclared(v, e.Record, d) // reads a pending record's addresses without decoding them
	if err != nil {
		return nil, nil, &ObserveError{Err: err}
	}
	if len(drop) == 0 {
		return nil, notes, nil
	}
	if err := e.Record.decode(); err != nil { // to disown what goes
		return nil, nil, err
	}
	addrs, err := v.Addrs()
	if err != nil {
		return nil, nil, &ObserveError{Err: err}
	}
	shown := showsProto(addrs)
	for _, c := range drop {
		var undo *Change
		var note string
		if c.Kind == KindAddrAdd { // by its mark, as down judges it
			undo, _, err = addrUndo(v, c, shown)
		} else {
			undo, note, err = undoIfStillOurs(v, c)
		}
		if err != nil {
			return nil, nil, &ObserveError{Err: err}
		}
		if note != "" {
			notes = append(notes, note)
		}
		if undo != nil {
			plan = append(plan, *undo)
		}
	}
	sortDown(plan)
	if dryRun {
		return plan, notes, nil
	}
	e.Record.Disown(drop)
	if done, err := runPlan(context.Background(), e.Host, plan, e.logChange); err != nil { // as down: once begun, it finishes
		return plan, notes, e.rollback(append(slices.Clone(prior), done...), saved, err)
	}
	if err := e.Record.Save(); err != nil {
		return plan, notes, e.rollback(append(slices.Clone(prior), plan...), saved, err)
	}
	return plan, notes, nil
}
