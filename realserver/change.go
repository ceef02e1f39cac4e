package realserver

import (
	"fmt"
	"net/netip"
	"slices"
	"sort"
)

// Kind names one sort of kernel change.
type Kind string

const (
	KindModule       Kind = "module"        // load a kernel module (never undone)
	KindSysctl       Kind = "sysctl"        // write From → To
	KindLinkUp       Kind = "link-up"       // set Link administratively up
	KindLinkDown     Kind = "link-down"     // set Link administratively down
	KindAddrDel      Kind = "addr-del"      // remove Addr
	KindAddrAdd      Kind = "addr-add"      // add Addr
	KindAddrTake     Kind = "addr-take"     // remove Addr (a VIP on an ARP-capable interface); down gives it back as it was
	KindRouteAdd     Kind = "route-add"     // add Route
	KindRouteDel     Kind = "route-del"     // remove Route
	KindRouteReplace Kind = "route-replace" // Prev → Route, atomically (same dst and metric)
	KindNeighSet     Kind = "neigh-set"     // write Neigh (PERMANENT); PrevNeigh is what it replaced
	KindNeighDel     Kind = "neigh-del"     // remove Neigh
	KindFouAdd       Kind = "fou-add"       // open the fou receive port Fou
	KindFouDel       Kind = "fou-del"       // close it
	KindTunnelMode   Kind = "tunnel-mode"   // set Link's tunnel mode From → To (TunnelMode values)
	KindRuleAdd      Kind = "rule-add"      // add Rule
	KindRuleDel      Kind = "rule-del"      // remove Rule

	// Route already stands behind PrevRoute at one dst and metric:
	// remove PrevRoute, so Route takes effect. It is the replace the
	// kernel refuses as a duplicate (EEXIST), and recorded as that replace.
	KindRouteUnshadow Kind = "route-unshadow"
)

// phase orders a plan: modules first (they create devices), sysctls before
// any address (so the host never answers ARP for a VIP in between), routes
// after addresses, and a keep-route before the default route moves.
var phase = map[Kind]int{
	KindModule: 0, KindSysctl: 1, KindLinkUp: 2, KindFouAdd: 2, KindTunnelMode: 2, KindAddrDel: 3, KindAddrTake: 3, KindAddrAdd: 4,
	KindRouteAdd: 5, KindRouteReplace: 6, KindRouteUnshadow: 6, KindRouteDel: 7, KindNeighDel: 8, KindNeighSet: 9,
	KindRuleAdd: 7, KindRuleDel: 7, KindLinkDown: 10, KindFouDel: 10,
}

// Change is one planned kernel change, as plain data: it is printed by
// --dry-run, recorded before it runs, undone by rollback and by down.
type Change struct {
	Kind      Kind      `json:"kind"`
	Mode      string    `json:"mode,omitempty"`
	Module    string    `json:"module,omitempty"`
	Sysctl    SysctlKey `json:"sysctl,omitzero"`
	From      int       `json:"from,omitempty"`
	To        int       `json:"to,omitempty"`
	Link      string    `json:"link,omitempty"`
	Addr      Addr      `json:"addr,omitzero"`
	Route     Route     `json:"route,omitzero"`
	PrevRoute Route     `json:"prev_route,omitzero"`
	Neigh     Neighbor  `json:"neigh,omitzero"`
	PrevNeigh *Neighbor `json:"prev_neigh,omitempty"`
	Fou       FouPort   `json:"fou,omitzero"`
	Rule      Rule      `json:"rule,omitzero"`
}

// Inverse is the change that undoes c; ok is false for changes rsprep
// never undoes (loading a module).
func (c Change) Inverse() (inv Change, ok bool) {
	inv = c
	switch c.Kind {
	case KindSysctl:
		inv.From, inv.To = c.To, c.From
	case KindLinkUp:
		inv.Kind = KindLinkDown
	case KindLinkDown:
		inv.Kind = KindLinkUp
	case KindAddrAdd:
		inv.Kind = KindAddrDel
	case KindAddrDel, KindAddrTake:
		inv.Kind = KindAddrAdd
	case KindRouteAdd:
		inv.Kind = KindRouteDel
	case KindRouteDel:
		inv.Kind = KindRouteAdd
	case KindRouteReplace:
		inv.Route, inv.PrevRoute = c.PrevRoute, c.Route
	case KindRouteUnshadow:
		// PrevRoute back in place of Route: in effect as before. Route,
		// which stood unused behind it, is not put back (the host can only
		// replace the first route of a metric, not insert one ahead).
		inv.Kind, inv.Route, inv.PrevRoute = KindRouteReplace, c.PrevRoute, c.Route
	case KindNeighSet:
		// A learned entry comes back by itself; only somebody else's
		// static entry is worth putting back.
		if c.PrevNeigh == nil || c.PrevNeigh.State != NeighPermanent {
			inv.Kind, inv.PrevNeigh = KindNeighDel, nil
		} else {
			inv.Neigh, inv.PrevNeigh = *c.PrevNeigh, &c.Neigh
		}
	case KindNeighDel:
		inv.Kind = KindNeighSet
	case KindFouAdd:
		inv.Kind = KindFouDel
	case KindFouDel:
		inv.Kind = KindFouAdd
	case KindTunnelMode:
		inv.From, inv.To = c.To, c.From
	case KindRuleAdd:
		inv.Kind = KindRuleDel
	case KindRuleDel:
		inv.Kind = KindRuleAdd
	default:
		return Change{}, false
	}
	return inv, true
}

// Run performs the change on h.
func (c Change) Run(h Host) error {
	switch c.Kind {
	case KindModule:
		return h.LoadModule(c.Module)
	case KindSysctl:
		return h.SetSysctl(c.Sysctl, c.To)
	case KindLinkUp, KindLinkDown:
		return h.SetLinkUp(c.Link, c.Kind == KindLinkUp)
	case KindAddrAdd:
		return h.AddAddr(c.Addr)
	case KindAddrDel, KindAddrTake:
		return h.DelAddr(c.Addr)
	case KindRouteAdd, KindRouteReplace:
		return h.AddRoute(c.Route)
	case KindRouteDel:
		return h.DelRoute(c.Route)
	case KindRouteUnshadow:
		return h.DelRoute(c.PrevRoute)
	case KindNeighSet:
		return h.SetNeighbor(c.Neigh)
	case KindNeighDel:
		return h.DelNeighbor(c.Neigh)
	case KindFouAdd:
		return h.AddFouPort(c.Fou)
	case KindFouDel:
		return h.DelFouPort(c.Fou)
	case KindTunnelMode:
		return h.SetTunnelMode(c.Link, TunnelMode(c.To))
	case KindRuleAdd:
		return h.AddRule(c.Rule)
	case KindRuleDel:
		return h.DelRule(c.Rule)
	}
	return fmt.Errorf("unknown change kind %q", c.Kind)
}

// String renders the change as the command an operator would type.
func (c Change) String() string {
	switch c.Kind {
	case KindModule:
		return "modprobe " + c.Module
	case KindSysctl:
		return fmt.Sprintf("sysctl -w %s=%d", c.Sysctl.Dotted(), c.To)
	case KindLinkUp:
		return "ip link set dev " + c.Link + " up"
	case KindLinkDown:
		return "ip link set dev " + c.Link + " down"
	case KindAddrAdd, KindAddrDel, KindAddrTake:
		verb := map[Kind]string{KindAddrAdd: "add", KindAddrDel: "del", KindAddrTake: "del"}[c.Kind]
		s := fmt.Sprintf("ip addr %s %s dev %s", verb, c.Addr.Prefix, c.Addr.Link)
		if c.Addr.Label != "" {
			s += " label " + c.Addr.Label
		}
		if c.Kind == KindAddrAdd {
			s += c.Addr.addOptions()
		}
		return s
	case KindRouteAdd:
		return c.Route.ip() + "route add " + c.Route.String()
	case KindRouteReplace:
		return c.Route.ip() + "route replace " + c.Route.String()
	case KindRouteDel:
		return c.Route.ip() + "route del " + c.Route.String()
	case KindRouteUnshadow:
		return c.PrevRoute.ip() + "route del " + c.PrevRoute.String()
	case KindNeighSet:
		return fmt.Sprintf("ip neigh replace %s lladdr %s dev %s nud permanent", c.Neigh.IP, c.Neigh.MAC, c.Neigh.Link)
	case KindNeighDel:
		return fmt.Sprintf("ip neigh del %s dev %s", c.Neigh.IP, c.Neigh.Link)
	case KindFouAdd:
		return "ip fou add " + c.Fou.String()
	case KindFouDel:
		return "ip fou del " + c.Fou.String()
	case KindTunnelMode:
		return fmt.Sprintf("ip -6 tunnel change %s mode %s", c.Link, TunnelMode(c.To))
	case KindRuleAdd:
		return ipOf(c.Rule.Src.Addr()) + "rule add " + c.Rule.String()
	case KindRuleDel:
		return ipOf(c.Rule.Src.Addr()) + "rule del " + c.Rule.String()
	}
	return string(c.Kind)
}

// ipOf is the ip command for ip's family: "ip " or "ip -6 ".
func ipOf(ip netip.Addr) string {
	if ip.Is6() {
		return "ip -6 "
	}
	return "ip "
}

// identity is what makes two planned changes the same change: two findings
// may each plan "all.arp_ignore=1", and it must run once.
func (c Change) identity() string {
	switch c.Kind {
	case KindSysctl:
		return "sysctl " + c.Sysctl.Path()
	case KindNeighSet, KindNeighDel:
		return string(c.Kind) + " " + c.Neigh.Link + " " + c.Neigh.IP.String()
	}
	return c.String()
}

// Plan orders changes by phase and drops repeats, keeping the first.
func Plan(changes []Change) []Change { return plan(slices.Clone(changes)) }

// plan is Plan in place: it reorders and shortens cs, and returns it.
func plan(cs []Change) []Change {
	seen := make(map[string]bool, len(cs))
	out := cs[:0]
	for _, c := range cs {
		id := c.identity()
		if seen[id] {
			continue
		}
		seen[id] = true
		out = append(out, c)
	}
	sort.SliceStable(out, func(i, j int) bool { return phase[out[i].Kind] < phase[out[j].Kind] })
	return out
}
