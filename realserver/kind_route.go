package realserver

import (
	"fmt"
	"log/slog"
)

// The route kinds: KindRouteAdd adds Route, KindRouteDel removes it, and
// KindRouteReplace replaces PrevRoute by Route atomically (same dst and
// metric). KindRouteUnshadow is for a Route that already stands behind
// PrevRoute at one dst and metric: it removes PrevRoute, so Route takes
// effect. It is the replace the kernel refuses as a duplicate (EEXIST),
// and is recorded as that replace.
const (
	KindRouteAdd      Kind = "route-add"
	KindRouteDel      Kind = "route-del"
	KindRouteReplace  Kind = "route-replace"
	KindRouteUnshadow Kind = "route-unshadow"
)

func init() {
	RegisterKind(KindDef{
		Kind:      KindRouteAdd,
		Phase:     5, // after the addresses, before the default route moves (a keep-route)
		Run:       func(h Host, c Change) error { return h.AddRoute(c.Route) },
		Say:       func(c Change) string { return c.Route.ip() + "route add " + c.Route.String() },
		Inverse:   WithKind(KindRouteDel),
		OwnerKey:  routeAddKey,
		Update:    updateRoute, // a route rsprep added, replaced: nothing to put back
		StillOurs: routeAddedUndo,
		Evidence:  true,
		Report: func(_ *View, c Change, m *ModeOwned) (string, error) {
			m.Routes = append(m.Routes, OwnedRoute{Route: c.Route.String()})
			return "", nil
		},
		Subject: routeSubject,
	})
	RegisterKind(KindDef{
		Kind:      KindRouteDel,
		Phase:     7,
		DownPhase: 2,
		Run:       func(h Host, c Change) error { return h.DelRoute(c.Route) },
		Say:       func(c Change) string { return c.Route.ip() + "route del " + c.Route.String() },
		Inverse:   WithKind(KindRouteAdd),
		// A stale route leaves rsprep's own table: nothing to put back,
		// and the route it recorded adding is settled.
		Record: func(c Change) (Change, bool) { return c, c.Route.Table == 0 },
		Settles: func(c, old Change) bool {
			return c.Route.Table != 0 && old.Kind == KindRouteAdd && old.Route.Table == c.Route.Table &&
				old.Route.Dst == c.Route.Dst && old.Route.Metric == c.Route.Metric && old.Route.Gw == c.Route.Gw
		},
	})
	RegisterKind(KindDef{
		Kind:      KindRouteReplace,
		Phase:     6,
		DownPhase: 1,
		Run:       func(h Host, c Change) error { return h.AddRoute(c.Route) },
		Say:       func(c Change) string { return c.Route.ip() + "route replace " + c.Route.String() },
		Inverse: func(c Change) Change {
			c.Route, c.PrevRoute = c.PrevRoute, c.Route
			return c
		},
		OwnerKey:  defaultRouteKey,
		Update:    updateReplace,
		StillOurs: replaceStillOurs,
		Evidence:  true,
		Report: func(_ *View, c Change, m *ModeOwned) (string, error) {
			m.Routes = append(m.Routes, OwnedRoute{Route: c.Route.String(), Replaced: c.PrevRoute.String()})
			return "", nil
		},
		Subject:  routeSubject,
		LogAttrs: replacedAttrs,
	})
	RegisterKind(KindDef{
		Kind:  KindRouteUnshadow,
		Phase: 6,
		Run:   func(h Host, c Change) error { return h.DelRoute(c.PrevRoute) },
		Say:   func(c Change) string { return c.PrevRoute.ip() + "route del " + c.PrevRoute.String() },
		// PrevRoute back in place of Route: in effect as before. Route,
		// which stood unused behind it, is not put back (the host can only
		// replace the first route of a metric, not insert one ahead).
		Inverse: func(c Change) Change {
			c.Kind, c.Route, c.PrevRoute = KindRouteReplace, c.PrevRoute, c.Route
			return c
		},
		OwnerKey: defaultRouteKey,
		// What it did: PrevRoute replaced by Route.
		Record:   func(c Change) (Change, bool) { c.Kind = KindRouteReplace; return c, true },
		LogAttrs: replacedAttrs,
	})
}

func routeAddKey(c Change) string {
	if c.Route.Table != 0 {
		return fmt.Sprintf("route %d %s metric %d", c.Route.Table, c.Route.Dst, c.Route.Metric)
	}
	return "route " + c.Route.Dst.String()
}

func defaultRouteKey(c Change) string { return fmt.Sprintf("default metric %d", c.Route.Metric) }

func routeSubject(c Change) string { return "route " + c.Route.String() }

func replacedAttrs(c Change) []slog.Attr {
	if c.PrevRoute.Dst.IsValid() {
		return []slog.Attr{slog.String("replaced", c.PrevRoute.String())}
	}
	return nil
}

func updateRoute(old, c Change) (Change, bool) {
	differs := !old.Route.Equal(c.Route)
	old.Route = c.Route
	return old, differs
}

// updateReplace: what down gives back is the route rsprep replaced last,
// unless that was rsprep's own (a new --dip): a gateway that DHCP or an
// operator moved since rsprep's first run is the one the network wants
// now, and the one rsprep first found is stale.
func updateReplace(old, c Change) (Change, bool) {
	newPrev := c.PrevRoute.Gw != old.Route.Gw || c.PrevRoute.Link != old.Route.Link
	differs := newPrev && !old.PrevRoute.Equal(c.PrevRoute) || !old.Route.Equal(c.Route)
	if newPrev {
		old.PrevRoute = c.PrevRoute
	}
	old.Route = c.Route
	return old, differs
}

// replaceStillOurs puts the replaced default route back while rsprep's is
// the first of its metric.
func replaceStillOurs(v *View, c, undo Change) (*Change, string, error) {
	routes, err := v.TableRoutes(Family(c.Route.Dst.Addr()), 0)
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
		} else {
			prevBack = prevBack || (c.PrevRoute.Gw.IsValid() && r.Gw == c.PrevRoute.Gw)
		}
	}
	switch {
	case first == nil:
		return nil, fmt.Sprintf("left the default route alone: rsprep's route via %s is gone (it was %s before rsprep)", c.Route.Gw, c.PrevRoute), nil
	case first.Gw != c.Route.Gw:
		return nil, fmt.Sprintf("left default route via %s alone: rsprep set it via %s, it has been changed since (it was %s before rsprep)",
			first.Gw, c.Route.Gw, c.PrevRoute), nil
	case prevBack:
		// Somebody put the previous route back beside rsprep's (a
		// network manager re-adding its own gateway appends it at the
		// same metric): replacing rsprep's with it again would be
		// refused as a duplicate, and removing rsprep's is the undo.
		del := Change{Kind: KindRouteDel, Mode: c.Mode, Route: c.Route}
		return &del, "", nil
	}
	return &undo, "", nil
}

// routeAddedUndo removes a route rsprep added while it is as rsprep added
// it. In rsprep's own table everything is rsprep's, so there only the
// next hop is compared and a route gone is no news; in main (a
// keep-route, a default route where there was none) a route gone or
// changed is left alone and said so.
func routeAddedUndo(v *View, c, inv Change) (*Change, string, error) {
	routes, err := v.TableRoutes(Family(c.Route.Dst.Addr()), c.Route.Table)
	if err != nil {
		return nil, "", err
	}
	var now *Route
	for i, r := range routes {
		if r.Dst != c.Route.Dst || r.Metric != c.Route.Metric {
			continue
		}
		if c.Route.Table != 0 && r.Gw == c.Route.Gw || sameRoute(r, c.Route) {
			return &inv, "", nil
		}
		if now == nil {
			now = &routes[i]
		}
	}
	switch {
	case c.Route.Table != 0:
		return nil, "", nil
	case now == nil:
		return nil, fmt.Sprintf("left route %s alone: rsprep added it as %s, it has been removed since", c.Route.Dst, c.Route), nil
	}
	return nil, fmt.Sprintf("left route %s alone: rsprep added it as %s, it has been changed since to %s", c.Route.Dst, c.Route, *now), nil
}
