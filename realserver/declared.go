package realserver

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strings"
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

// owned is what rsprep owns in v's namespace: rec's changes, and the
// addresses that carry rsprep's mark but that rec does not name (as
// additions of no mode: a lost record's). Of a record whose changes are
// still pending it leaves out, undecoded, the addresses declared says it
// need not see.
func owned(v *View, rec *Record, declared func(mode string, ip netip.Addr) bool) ([]Change, error) {
	addrs, err := v.Addrs()
	if err != nil {
		return nil, err
	}
	var out []Change
	if rec != nil {
		var ok bool
		out, ok = rec.skim(func(mode, _ string, p netip.Prefix) bool { return declared(mode, p.Addr()) })
		if !ok {
			if err := rec.decode(); err != nil {
				return nil, err
			}
			out = rec.Changes
		}
	}
	listed := map[Addr]bool{}
	for _, c := range out {
		if c.Kind == KindAddrAdd {
			listed[Addr{Link: c.Addr.Link, Prefix: c.Addr.Prefix}] = true
		}
	}
	var lost []Change
	for _, a := range addrs {
		// A marked address the record may have left out above is
		// declared also as a lost record's: no need to tell them apart.
		if a.Ours() && !listed[Addr{Link: a.Link, Prefix: a.Prefix}] && !declared("", a.Prefix.Addr()) {
			lost = append(lost, Change{Kind: KindAddrAdd, Addr: a})
		}
	}
	if len(lost) == 0 {
		return out, nil
	}
	return append(slices.Clip(out), lost...), nil
}

// undeclared is what rsprep owns here, still as rsprep left it, that d
// does not declare, with notes on what it keeps. A thing somebody changed
// since rsprep, or that is gone, is not counted: down leaves it alone
// too. As in down, while a VIP rsprep once added stays bound without its
// mark (somebody re-added it), the sysctls stay: it needs ARP suppression.
//
// An address is declared if it is one of d's VIPs, added by d's mode (or
// by no mode: a lost record's). Anything else is declared if checking d's
// invariants on a Sim of the host, where what rsprep owns and d does not
// obviously keep is undone, wants it.
func undeclared(v *View, rec *Record, d Declared) (drop []Change, notes []string, err error) {
	vips := make(map[netip.Addr]bool, len(d.VIPs))
	for _, ip := range d.VIPs {
		vips[ip] = true
	}
	declaredAddr := func(mode string, ip netip.Addr) bool { return vips[ip] && (mode == d.Mode || mode == "") }
	own, err := owned(v, rec, declaredAddr)
	if err != nil {
		return nil, nil, err
	}
	addrs, err := v.Addrs() // read already, by owned
	if err != nil {
		return nil, nil, err
	}
	shown := showsProto(addrs)
	type undoing struct{ c, undo Change }
	var cands []undoing
	var held []string
	for _, c := range own {
		var undo *Change
		if c.Kind == KindAddrTake && declaredAddr(c.Mode, c.Addr.Prefix.Addr()) {
			continue // taken for a declared VIP (--take-vip-from-arp-interface): given back when the VIP goes
		}
		if c.Kind == KindAddrAdd {
			if declaredAddr(c.Mode, c.Addr.Prefix.Addr()) {
				continue
			}
			var left string
			if undo, left, err = addrUndo(v, c, shown); left != "" {
				held = append(held, left)
			}
		} else {
			undo, _, err = undoIfStillOurs(v, c)
		}
		if err != nil {
			return nil, nil, err
		}
		if undo != nil { // else gone, or somebody else's now
			cands = append(cands, undoing{c, *undo})
		}
	}
	if len(held) > 0 {
		n := len(cands)
		cands = slices.DeleteFunc(cands, func(u undoing) bool { return u.c.def().Shared })
		if len(cands) < n {
			notes = append(notes, fmt.Sprintf("kept the sysctls rsprep set: %s stays bound (re-added without rsprep's mark: somebody's), and without them this host would answer ARP for it", strings.Join(held, ", ")))
		}
	}
	if len(d.Invs) == 0 {
		drop := make([]Change, len(cands))
		for i, u := range cands {
			drop[i] = u.c
		}
		return drop, notes, nil
	}
	// Undone on the Sim in down's order, as down would.
	sort.SliceStable(cands, func(i, j int) bool { return cands[i].undo.def().DownPhase < cands[j].undo.def().DownPhase })
	sim := NewSim(v)
	var rest []Change
	for _, u := range cands {
		switch {
		case simUndo(sim, u.c, u.undo) != nil:
			// The Sim cannot model undoing it: keep it, as declared.
		case u.c.Kind == KindAddrAdd:
			drop = append(drop, u.c)
		default:
			rest = append(rest, u.c)
		}
	}
	if len(rest) == 0 {
		return drop, notes, nil
	}
	declared, err := declares(v, sim, d)
	if err != nil {
		return nil, nil, err
	}
	for _, c := range rest {
		if declared != nil && !declared[c.ownerKey()] {
			drop = append(drop, c)
		}
	}
	return drop, notes, nil
}

// simUndo runs undo on sim. An unpinned gateway's entry is learned again
// (its MAC is what rsprep pinned, or it would not be rsprep's still), so
// that a declared pin is found from it without asking the network.
func simUndo(sim *Sim, c, undo Change) error {
	if err := undo.Run(sim); err != nil {
		return err
	}
	if undo.Kind == KindNeighDel {
		sim.SeedNeighbor(Neighbor{Link: c.Neigh.Link, IP: c.Neigh.IP, MAC: c.Neigh.MAC, State: NeighReachable})
	}
	return nil
}

// addrUndo is the removal of the address c added, if it is still bound
// and still rsprep's: a record's address re-added since without rsprep's
// mark is somebody else's, as down judges it (then left names it).
func addrUndo(v *View, c Change, shown bool) (undo *Change, left string, err error) {
	present, err := v.AddrsOf(c.Addr.Prefix.Addr())
	if err != nil {
		return nil, "", err
	}
	for _, a := range present {
		switch {
		case a.Link != c.Addr.Link || a.Prefix != c.Addr.Prefix:
		case unmarked(a, shown):
			return nil, a.Prefix.String() + " on " + a.Link, nil
		default:
			return &Change{Kind: KindAddrDel, Mode: c.Mode, Addr: a}, "", nil
		}
	}
	return nil, "", nil
}

// declares checks d's invariants on sim (the host without what rsprep
// owns and d does not obviously keep) and returns the owner keys of the
// fixes they want: what an apply would own. As in apply, the fixes run on
// the Sim round by round (at most maxRounds): undoing can take a device
// down, and what some checks want appears only once it is up again (the
// routes a tunnel device's address makes, which --mss copies). A nil map
// with no error: the Sim could not follow a fix, and everything counts as
// declared, since undoing what is declared would be the worse mistake.
func declares(v *View, sim *Sim, d Declared) (map[string]bool, error) {
	keys := map[string]bool{}
	for round := 0; round < maxRounds; round++ {
		sv := NewView(sim)
		sv.arp = v.arp // the network's answers are the host's
		fs, err := sv.Verify(d.Invs)
		if err != nil {
			return nil, fmt.Errorf("finding what %s declares: %w", d.Mode, err)
		}
		plan := planFixes(fs, d.Mode)
		for _, c := range plan {
			keys[c.ownerKey()] = true
		}
		if len(plan) == 0 {
			break
		}
		for _, c := range plan {
			if err := c.Run(sim); err != nil {
				return nil, nil // the Sim cannot follow: everything counts as declared
			}
		}
	}
	return keys, nil
}

// UndeclaredFindings reports, as drift, each object rsprep owns in v's
// namespace that d does not declare. Without v's record (verify without
// root cannot read it) the marked addresses are all it can see.
func UndeclaredFindings(v *View, d Declared) ([]Finding, error) {
	rec, _ := v.record() // an unreadable record is none here, as for Recorded
	drop, _, err := undeclared(v, rec, d)
	if err != nil {
		return nil, err
	}
	out := make([]Finding, 0, len(drop))
	for _, c := range drop {
		by := "owned by rsprep " + c.Mode
		if c.Mode == "" {
			by = "owned by rsprep (its mark; no record names it)"
		}
		out = append(out, Finding{
			ID: UndeclaredID, Subject: c.subject(), Want: "not declared: undone",
			Got: by, Detail: "apply --config, or down --all, undoes it",
		})
	}
	return out, nil
}
