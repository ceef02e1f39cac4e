package realserver

import (
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strings"
)

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
	cands, held, err := undoable(v, own, declaredAddr)
	if err != nil {
		return nil, nil, err
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
	drop, err = undeclaredOnSim(v, cands, d)
	return drop, notes, err
}

// undoing is a thing rsprep owns (c, its record entry) and the change
// that undoes it now.
type undoing struct{ c, undo Change }

// undoable is what of own is still as rsprep left it and not obviously
// declared, with its undo; held names the addresses a record names that
// were re-added since without rsprep's mark (they keep the sysctls).
func undoable(v *View, own []Change, declaredAddr func(mode string, ip netip.Addr) bool) (cands []undoing, held []string, err error) {
	addrs, err := v.Addrs() // read already, by owned
	if err != nil {
		return nil, nil, err
	}
	shown := showsProto(addrs)
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
	return cands, held, nil
}

// undeclaredOnSim is what of cands d does not declare: cands are undone
// on a Sim of the host in down's order, as down would; an address goes
// (d's VIPs were set aside already), anything else goes unless checking
// d's invariants on the Sim wants it back.
func undeclaredOnSim(v *View, cands []undoing, d Declared) (drop []Change, err error) {
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
		return drop, nil
	}
	declared, err := declares(v, sim, d)
	if err != nil {
		return nil, err
	}
	for _, c := range rest {
		if declared != nil && !declared[c.ownerKey()] {
			drop = append(drop, c)
		}
	}
	return drop, nil
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
