package nat

import (
	"fmt"
	"net/netip"

	"golang.org/x/sys/unix"

	"github.com/rsprep/rsprep/realserver"
)

// defaultRoute is route.default: the default route the kernel uses (the
// lowest metric of several) goes via the DIP. The fix replaces that very
// route (same destination and metric: the kernel swaps it atomically, no
// moment without a default route) and records the one it replaces, which
// down puts back; with no default route at all it adds one. When the
// route via the DIP already stands behind the one in effect at its metric,
// the fix removes the one ahead instead (see KindRouteUnshadow).
//
// An IPv6 DIP's route is added at the kernel's own default metric (1024,
// where router advertisements put theirs); a link-local DIP's zone names
// the route's device.
func defaultRoute(dip netip.Addr) realserver.Invariant {
	fam, gw := realserver.Family(dip), dip.WithZone("")
	return realserver.OnEvents(realserver.CheckFunc(func(v *realserver.View) ([]realserver.Finding, error) {
		f := realserver.Finding{ID: "route.default", Subject: defaultSubject(dip), Want: "via " + dip.String() + " (lowest metric)"}
		cur, ok, err := realserver.DefaultRouteOf(v, fam)
		if err != nil {
			return nil, err
		}
		link, onLink, err := realserver.OnLink(v, dip)
		if err != nil {
			return nil, err
		}
		want := realserver.Route{Dst: realserver.DefaultDst, Gw: gw, Link: link, Protocol: unix.RTPROT_STATIC}
		if fam == 6 {
			want.Dst, want.Metric = realserver.DefaultDst6, ip6DefaultMetric
		}
		switch {
		case ok && cur.Gw == gw && (fam == 4 || cur.Link == link) && len(cur.Nexthops) < 2:
			// One path: a multipath route whose first hop is the DIP
			// (IPv6 makes one of a route appended at its metric) sends
			// part of the replies around the director.
			f.OK, f.Got = true, cur.String()
			return []realserver.Finding{f}, nil
		case ok:
			f.Got = cur.String()
			want.Metric = cur.Metric
			fix := realserver.Change{Kind: realserver.KindRouteReplace, Route: want, PrevRoute: cur}
			routes, err := v.TableRoutes(fam, 0)
			if err != nil {
				return nil, err
			}
			if realserver.ReplaceIsDuplicate(routes, want) {
				// A network manager put its own route back ahead of the
				// one via the DIP, at its metric: the kernel refuses the
				// replace as a duplicate, and removing cur is the same
				// replacement (recorded as one, so down puts cur back).
				fix.Kind = realserver.KindRouteUnshadow
			}
			f.Fix = []realserver.Change{fix}
		default:
			f.Got = "no default route"
			f.Fix = []realserver.Change{{Kind: realserver.KindRouteAdd, Route: want}}
		}
		if !onLink {
			f.Fix, f.Detail = nil, "the DIP is not on-link, so no route can go via it"
		}
		return []realserver.Finding{f}, nil
	}), realserver.RouteEventIn(realserver.MainTable))
}

// keepRoutes is route.keep: each --keep-route destination has a route via
// the previous default gateway. The route is added before the default
// moves (Plan's phases), so management traffic never takes the DIP.
//
// A route rsprep does not own that already covers the destination, not via
// the DIP, is left alone and counts: rsprep never replaces an operator's
// route (down would then delete it).
func (n NAT) keepRoutes(dip netip.Addr) realserver.Invariant {
	keeps, gw := n.keepRoutesOf(dip), dip.WithZone("")
	return realserver.OnEvents(realserver.CheckFunc(func(v *realserver.View) ([]realserver.Finding, error) {
		if len(keeps) == 0 {
			return nil, nil
		}
		prev, known, err := previousDefault(v, dip)
		if err != nil {
			return nil, err
		}
		routes, err := v.TableRoutes(realserver.Family(dip), 0)
		if err != nil {
			return nil, err
		}
		out := make([]realserver.Finding, 0, len(keeps))
		for _, dst := range keeps {
			f := realserver.Finding{ID: "route.keep", Subject: dst.String(), Want: "not via the DIP", Got: "absent"}
			// Every path of the previous default, with its source and
			// metrics: management traffic goes on exactly as before.
			keep := prev.Attributes()
			keep.Dst, keep.Protocol = dst, unix.RTPROT_STATIC
			if dst.Addr().Is6() {
				keep.Metric = ip6DefaultMetric // as the kernel would make it: down finds it so
			}
			if known {
				f.Want = keep.String() + " (the previous default gateway)"
			}
			have, found := routeTo(routes, dst)
			switch {
			case found && have.Gw != gw:
				f.OK, f.Got = true, have.String()
				if known && (have.Gw != prev.Gw || have.Link != prev.Link) {
					if ours, err := addedByRsprep(v, have); err != nil {
						return nil, err
					} else if ours {
						// rsprep's, via the gateway before the last one
						// (DHCP or an operator moved it): follow it.
						f.OK, f.Fix = false, []realserver.Change{{Kind: realserver.KindRouteAdd, Route: keep}}
					} else {
						f.Detail = "kept by a route rsprep did not add"
					}
				}
			case found:
				f.Got = have.String()
				f.Detail = fmt.Sprintf("a route to %s via the DIP exists and rsprep does not own it: remove it, or drop this --keep-route", dst)
			case !known:
				f.Detail = "the previous default gateway is unknown: the default route already goes via the DIP, and rsprep's record does not say what it was before"
			default:
				f.Fix = []realserver.Change{{Kind: realserver.KindRouteAdd, Route: keep}}
			}
			out = append(out, f)
		}
		return out, nil
	}), realserver.RouteEventIn(realserver.MainTable))
}

// previousDefault is the default route as it was before rsprep pointed it
// at the DIP: from the record once rsprep has replaced it (the route rsprep
// last replaced that was not its own, so a second apply does not take the
// DIP for the previous gateway, and a gateway DHCP moved since is
// followed), else the current default route while it is not yet via the
// DIP.
func previousDefault(v *realserver.View, dip netip.Addr) (realserver.Route, bool, error) {
	dip = dip.WithZone("")
	recorded, err := v.Recorded()
	if err != nil {
		return realserver.Route{}, false, err
	}
	for _, c := range recorded {
		if c.Kind == realserver.KindRouteReplace && c.Route.IsDefault() && c.Route.Dst.Addr().Is4() == dip.Is4() && c.PrevRoute.Dst.IsValid() && c.PrevRoute.Gw != dip {
			return c.PrevRoute, true, nil
		}
	}
	cur, ok, err := realserver.DefaultRouteOf(v, realserver.Family(dip))
	if err != nil || !ok || cur.Gw == dip {
		return realserver.Route{}, false, err
	}
	return cur, true, nil
}

// routeTo finds the route for exactly dst with the lowest metric.
func routeTo(routes []realserver.Route, dst netip.Prefix) (realserver.Route, bool) {
	var best realserver.Route
	found := false
	for _, r := range routes {
		if r.Dst == dst && (!found || r.Metric < best.Metric) {
			best, found = r, true
		}
	}
	return best, found
}

// addedByRsprep reports whether r is a route rsprep's record says it
// added, as it added it.
func addedByRsprep(v *realserver.View, r realserver.Route) (bool, error) {
	recorded, err := v.Recorded()
	if err != nil {
		return false, err
	}
	for _, c := range recorded {
		if c.Kind == realserver.KindRouteAdd && c.Route.Dst == r.Dst && c.Route.Metric == r.Metric && c.Route.Gw == r.Gw {
			return true, nil
		}
	}
	return false, nil
}

// ip6DefaultMetric is the metric the kernel gives an IPv6 route added
// without one, and router advertisements their default routes.
const ip6DefaultMetric = 1024

// defaultSubject names a family's default route in findings: "default"
// for IPv4 (as before dual stack), "default6" for IPv6.
func defaultSubject(dip netip.Addr) string {
	if dip.Is4() {
		return "default"
	}
	return "default6"
}
