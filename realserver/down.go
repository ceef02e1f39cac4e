package realserver

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"time"
)

// downPhase orders a teardown: VIPs go first, so the host never answers ARP
// for a VIP after its suppression is lifted (one rsprep took from an
// ARP-capable interface goes back there as the VIP leaves lo); sysctls
// are restored last.
var downPhase = map[Kind]int{
	KindAddrDel: 0, KindAddrAdd: 0, KindRuleDel: 1, KindRouteReplace: 1, KindRouteDel: 2, KindNeighSet: 3, KindNeighDel: 3,
	KindLinkDown: 4, KindFouDel: 4, KindTunnelMode: 4, KindSysctl: 5,
}

// Down undoes what rsprep did for this mode and these VIPs, and only that:
// addresses it added (by its record, or by its label), and, once no VIP of
// the mode is left, the links, routes and neighbours it changed; once no
// VIP of any mode is left, the sysctls. A value somebody changed after
// rsprep is left alone and reported in Notes.
func (e *Engine) Down(vips []netip.Addr, dryRun bool) (Result, error) {
	res := Result{Mode: e.Mode, OK: true}
	if err := e.dropStale(dryRun); err != nil {
		return res, err
	}
	if err := e.Record.decode(); err != nil {
		return res, err
	}
	v := e.view()
	saved := e.Record.snapshot()

	addrPlan, disown, notes, err := e.downAddrs(v, vips)
	if err != nil {
		return res, &ObserveError{Err: err}
	}
	res.Notes = notes
	e.Record.disown(disown)

	var restores []Change
	modeAddrs, anyAddrs := 0, 0
	for _, c := range e.Record.Changes {
		if c.Kind == KindAddrAdd {
			anyAddrs++
			if c.Mode == e.Mode {
				modeAddrs++
			}
		}
	}
	for _, c := range e.Record.Changes {
		switch {
		case c.Kind == KindAddrAdd:
		case c.Kind == KindSysctl && anyAddrs == 0, c.Kind != KindSysctl && c.Mode == e.Mode && modeAddrs == 0:
			restores = append(restores, c)
		}
	}
	plan := slices.Grow(addrPlan, len(restores)) // at 10,000 VIPs, one 4 MB slice is enough
	for _, c := range restores {
		undo, note, err := undoIfStillOurs(v, c)
		if err != nil {
			e.Record.restore(saved)
			return res, &ObserveError{Err: err}
		}
		if note != "" {
			res.Notes = append(res.Notes, note)
		}
		if undo != nil {
			plan = append(plan, *undo)
		}
	}
	e.Record.Disown(restores)
	sort.SliceStable(plan, func(i, j int) bool { return downPhase[plan[i].Kind] < downPhase[plan[j].Kind] })
	res.Changes = plan
	if dryRun {
		e.Record.restore(saved)
		return res, nil
	}
	if done, err := runPlan(e.Host, plan, e.logChange); err != nil {
		return res, e.rollback(done, saved, err)
	}
	return res, e.Record.Save()
}

// downAddrs plans the removal of the VIPs rsprep added, and gives back
// those it took from an ARP-capable interface. It returns the changes, the
// record entries they settle (by ownerKey), and notes on VIPs it leaves.
func (e *Engine) downAddrs(v *View, vips []netip.Addr) (plan []Change, disown map[string]bool, notes []string, err error) {
	want := make(map[netip.Addr]bool, len(vips))
	for _, ip := range vips {
		want[ip] = true
	}
	if _, err := v.Addrs(); err != nil {
		return nil, nil, nil, err
	}
	plan, disown = make([]Change, 0, len(vips)), make(map[string]bool, len(vips))
	planned := make(map[Addr]bool, len(vips)) // by link and prefix
	del := func(a Addr) {
		k := Addr{Link: a.Link, Prefix: a.Prefix}
		if !planned[k] {
			planned[k] = true
			plan = append(plan, Change{Kind: KindAddrDel, Mode: e.Mode, Addr: a})
		}
	}
	owned := make(map[netip.Addr]bool, len(vips))
	for _, c := range e.Record.Changes {
		if c.Kind != KindAddrAdd || c.Mode != e.Mode || !want[c.Addr.Prefix.Addr()] {
			continue
		}
		owned[c.Addr.Prefix.Addr()] = true
		disown[c.ownerKey()] = true
		present, _ := v.AddrsOf(c.Addr.Prefix.Addr())
		for _, a := range present {
			if a.Link == c.Addr.Link && a.Prefix == c.Addr.Prefix {
				del(a)
			}
		}
	}
	for _, ip := range vips {
		present, _ := v.AddrsOf(ip)
		for _, a := range present {
			switch {
			case a.Ours():
				del(a) // rsprep's tag or label: ours even if this boot's record was lost
			case !owned[ip] && !taken(e.Record, a):
				notes = append(notes, fmt.Sprintf("left %s on %s alone: rsprep did not add it", a.Prefix, a.Link))
			}
		}
	}
	for _, c := range e.Record.Changes {
		if c.Kind != KindAddrTake || c.Mode != e.Mode || !want[c.Addr.Prefix.Addr()] {
			continue
		}
		disown[c.ownerKey()] = true
		back, note, err := undoIfStillOurs(v, c)
		if err != nil {
			return nil, nil, nil, err
		}
		if note != "" {
			notes = append(notes, note)
		}
		if back != nil {
			plan = append(plan, *back)
		}
	}
	return plan, disown, notes, nil
}

// taken reports whether rec says rsprep took a from where it is (so it is
// back already, not somebody else's).
func taken(rec *Record, a Addr) bool {
	return slices.ContainsFunc(rec.Changes, func(c Change) bool {
		return c.Kind == KindAddrTake && c.Addr.Link == a.Link && c.Addr.Prefix == a.Prefix
	})
}

// undoIfStillOurs returns the change that undoes c, if what c made is still
// in place; otherwise a note saying why it is left alone.
func undoIfStillOurs(v *View, c Change) (*Change, string, error) {
	inv, ok := c.Inverse()
	if !ok {
		return nil, "", nil
	}
	switch c.Kind {
	case KindAddrTake:
		// Given back as it was: label, scope, flags, and what is left of
		// its lifetimes. One that would have expired meanwhile is not.
		if c.Addr.expired(time.Now()) {
			return nil, fmt.Sprintf("did not give %s back to %s: its valid lifetime ran out while rsprep held it", c.Addr.Prefix, c.Addr.Link), nil
		}
		if _, exists, err := v.Link(c.Addr.Link); err != nil || !exists {
			if err == nil {
				return nil, fmt.Sprintf("did not give %s back to %s: the interface is gone", c.Addr.Prefix, c.Addr.Link), nil
			}
			return nil, "", err
		}
		present, err := v.AddrsOf(c.Addr.Prefix.Addr())
		if err != nil {
			return nil, "", err
		}
		for _, a := range present {
			if a.Link == c.Addr.Link && a.Prefix == c.Addr.Prefix {
				return nil, "", nil // somebody put it back already
			}
		}
		return &inv, "", nil
	case KindSysctl:
		if c.Sysctl.PerInterface() {
			if _, exists, err := v.Link(c.Sysctl.Iface); err != nil {
				return nil, "", err
			} else if !exists {
				return nil, "", nil // the interface is gone, and its setting with it
			}
		}
		cur, err := v.Sysctl(c.Sysctl)
		if err != nil {
			return nil, "", err
		}
		switch cur {
		case c.To:
			return &inv, "", nil
		case c.From:
			return nil, "", nil // already back where it was
		}
		return nil, fmt.Sprintf("left %s=%d alone: rsprep wrote %d, it has been changed since (it was %d before rsprep)",
			c.Sysctl.Dotted(), cur, c.To, c.From), nil
	case KindLinkUp:
		l, exists, err := v.Link(c.Link)
		if err != nil || !exists || !l.Up {
			return nil, "", err
		}
		return &inv, "", nil
	case KindRuleAdd:
		rules, err := v.Rules()
		if err != nil || !slices.Contains(rules, c.Rule) {
			return nil, "", err
		}
		return &inv, "", nil
	case KindRouteAdd:
		routes, err := v.TableRoutes(Family(c.Route.Dst.Addr()), c.Route.Table)
		if err != nil {
			return nil, "", err
		}
		for _, r := range routes {
			if r.Dst == c.Route.Dst && r.Gw == c.Route.Gw && r.Metric == c.Route.Metric {
				return &inv, "", nil
			}
		}
		return nil, "", nil
	case KindRouteReplace:
		routes, err := v.Routes()
		if err != nil {
			return nil, "", err
		}
		var first *Route
		prevBack := false
		for i, r := range routes {
			if !r.IsDefault() || r.Metric != c.Route.Metric {
				continue
			}
			if first == nil {
				first = &routes[i]
			}
			prevBack = prevBack || (c.PrevRoute.Gw.IsValid() && r.Gw == c.PrevRoute.Gw && r != *first)
		}
		switch {
		case first == nil:
			return nil, fmt.Sprintf("left the default route alone: rsprep's route via %s is gone (it was via %s before rsprep)", c.Route.Gw, c.PrevRoute.Gw), nil
		case first.Gw != c.Route.Gw:
			return nil, fmt.Sprintf("left default route via %s alone: rsprep set it via %s, it has been changed since (it was via %s before rsprep)",
				first.Gw, c.Route.Gw, c.PrevRoute.Gw), nil
		case prevBack:
			// Somebody put the previous route back beside rsprep's (a
			// network manager re-adding its own gateway appends it at the
			// same metric): replacing rsprep's with it again would be
			// refused as a duplicate, and removing rsprep's is the undo.
			del := Change{Kind: KindRouteDel, Mode: c.Mode, Route: c.Route}
			return &del, "", nil
		}
		return &inv, "", nil
	case KindNeighSet:
		neighs, err := v.Neighbors()
		if err != nil {
			return nil, "", err
		}
		for _, n := range neighs {
			if n.Link == c.Neigh.Link && n.IP == c.Neigh.IP {
				if n.State == NeighPermanent && bytes.Equal(n.MAC, c.Neigh.MAC) {
					return &inv, "", nil
				}
				return nil, fmt.Sprintf("left neighbour %s on %s alone: rsprep pinned %s, it is %s %s now", n.IP, n.Link, c.Neigh.MAC, n.MAC, n.State), nil
			}
		}
		return nil, "", nil
	case KindFouAdd:
		ports, err := v.FouPorts()
		if errors.Is(err, ErrNoFou) {
			return nil, "", nil
		}
		if err != nil {
			return nil, "", err
		}
		for _, p := range ports {
			if p.Family == c.Fou.Family && p.Port == c.Fou.Port {
				if p.GUE {
					return &inv, "", nil
				}
				return nil, fmt.Sprintf("left fou %s alone: rsprep opened it for GUE, it is %s now", c.Fou, p), nil
			}
		}
		return nil, "", nil
	case KindTunnelMode:
		cur, err := v.TunnelMode(c.Link)
		if err != nil {
			return nil, "", err
		}
		switch cur {
		case TunnelMode(c.To):
			return &inv, "", nil
		case TunnelMode(c.From):
			return nil, "", nil
		}
		return nil, fmt.Sprintf("left %s in mode %s alone: rsprep set %s, it has been changed since (it was %s before rsprep)",
			c.Link, cur, TunnelMode(c.To), TunnelMode(c.From)), nil
	}
	return &inv, "", nil
}
