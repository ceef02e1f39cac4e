package kernel

import (
	"fmt"
	"net/netip"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/rsprep/rsprep/realserver"
)

// Routes implements realserver.Host: unicast IPv4 routes of the main table.
func (h *Host) Routes() ([]realserver.Route, error) { return h.TableRoutes(4, 0) }

// TableRoutes implements realserver.Host: unicast routes of one family of
// a table, attribute for attribute (see routemsg.go).
func (h *Host) TableRoutes(fam, table int) ([]realserver.Route, error) {
	if table == 0 {
		table = unix.RT_TABLE_MAIN
	}
	family := uint8(unix.AF_INET)
	if fam == 6 {
		family = unix.AF_INET6
	}
	// Links are named once the dump is read (see Addrs).
	var links [][]int
	out, err := retryDump("route", func() ([]realserver.Route, error) {
		h.dumpsSent["route"]++
		var out []realserver.Route
		links = links[:0]
		req := appendMsg(nil, unix.RTM_GETROUTE, unix.NLM_F_DUMP, family, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
		err := h.rtnl.dump(req, unix.RTM_NEWROUTE, func(body []byte) {
			if r, t, l, ok := parseRoute(body); ok && t == table {
				if t != unix.RT_TABLE_MAIN {
					r.Table = t
				}
				out, links = append(out, r), append(links, l)
			}
		})
		return out, err
	})
	if err != nil {
		return nil, err
	}
	names := h.namer()
	for i := range out {
		r := &out[i]
		for j := range r.Nexthops {
			r.Nexthops[j].Link = names.name(links[i][j])
		}
		if len(r.Nexthops) > 0 {
			r.Gw, r.Link, r.OnLink = r.Nexthops[0].Gw, r.Nexthops[0].Link, r.Nexthops[0].OnLink
		} else {
			r.Link = names.name(links[i][0])
		}
		if len(r.Nexthops) < 2 {
			r.Nexthops = nil // one path: as Gw and Link
		}
	}
	if names.err != nil {
		return nil, names.err
	}
	return out, nil
}

// routeRequest sends one route request for r.
func (h *Host) routeRequest(typ, flags uint16, r realserver.Route) error {
	hops := []string{r.Link}
	if len(r.Nexthops) >= 2 {
		hops = hops[:0]
		for _, n := range r.Nexthops {
			hops = append(hops, n.Link)
		}
	}
	links := make([]int, len(hops))
	for i, name := range hops {
		if name == "" {
			continue
		}
		l, err := h.link(name)
		if err != nil {
			return err
		}
		links[i] = l.Attrs().Index
	}
	encode := func(_ int, b []byte) []byte { return appendRouteRequest(b, typ, flags, r, links) }
	return h.rtnl.do(1, encode, func(_ int, err error) error { return err })[0]
}

// AddRoute implements realserver.Host with replace semantics.
func (h *Host) AddRoute(r realserver.Route) error {
	if err := h.routeRequest(unix.RTM_NEWROUTE, unix.NLM_F_CREATE|unix.NLM_F_REPLACE, r); err != nil {
		return fmt.Errorf("setting route %s: %w", r, err)
	}
	return nil
}

// DelRoute implements realserver.Host.
func (h *Host) DelRoute(r realserver.Route) error {
	if err := h.routeRequest(unix.RTM_DELROUTE, 0, r); err != nil && !isGone(err) {
		return fmt.Errorf("removing route %s: %w", r, err)
	}
	return nil
}

// Neighbors implements realserver.Host.
func (h *Host) Neighbors() ([]realserver.Neighbor, error) {
	nl, err := h.nl()
	if err != nil {
		return nil, err
	}
	ns, err := retryDump("neighbour", func() ([]netlink.Neigh, error) {
		h.dumpsSent["neighbour"]++
		return nl.NeighList(0, netlink.FAMILY_V4)
	})
	if err != nil {
		return nil, err
	}
	names := h.namer()
	out := make([]realserver.Neighbor, 0, len(ns))
	for _, n := range ns {
		ip, ok := netip.AddrFromSlice(n.IP)
		if !ok {
			continue
		}
		out = append(out, realserver.Neighbor{Link: names.name(n.LinkIndex), IP: ip.Unmap(), MAC: n.HardwareAddr, State: neighState(n.State)})
	}
	if names.err != nil {
		return nil, names.err
	}
	return out, nil
}

func neighState(s int) realserver.NeighState {
	switch {
	case s&netlink.NUD_PERMANENT != 0:
		return realserver.NeighPermanent
	case s&(netlink.NUD_REACHABLE|netlink.NUD_DELAY|netlink.NUD_PROBE) != 0:
		return realserver.NeighReachable
	case s&netlink.NUD_STALE != 0:
		return realserver.NeighStale
	case s&netlink.NUD_FAILED != 0:
		return realserver.NeighFailed
	case s&netlink.NUD_INCOMPLETE != 0:
		return realserver.NeighIncomplete
	}
	return realserver.NeighOther
}

func (h *Host) toNetlinkNeigh(n realserver.Neighbor) (*netlink.Neigh, error) {
	l, err := h.link(n.Link)
	if err != nil {
		return nil, err
	}
	return &netlink.Neigh{LinkIndex: l.Attrs().Index, Family: netlink.FAMILY_V4, State: netlink.NUD_PERMANENT, IP: n.IP.AsSlice(), HardwareAddr: n.MAC}, nil
}

// SetNeighbor implements realserver.Host: NLM_F_CREATE|NLM_F_REPLACE, so an
// old FAILED entry does not block it (unlike `ip neigh add`).
func (h *Host) SetNeighbor(n realserver.Neighbor) error {
	nn, err := h.toNetlinkNeigh(n)
	if err != nil {
		return err
	}
	nl, err := h.nl()
	if err == nil {
		err = nl.NeighSet(nn)
	}
	if err != nil {
		return fmt.Errorf("pinning %s lladdr %s on %s: %w", n.IP, n.MAC, n.Link, err)
	}
	return nil
}

// DelNeighbor implements realserver.Host.
func (h *Host) DelNeighbor(n realserver.Neighbor) error {
	nn, err := h.toNetlinkNeigh(n)
	if err != nil {
		if isGone(err) {
			return nil
		}
		return err
	}
	nl, err := h.nl()
	if err == nil {
		err = nl.NeighDel(nn)
	}
	if err != nil && !isGone(err) {
		return fmt.Errorf("removing neighbour %s on %s: %w", n.IP, n.Link, err)
	}
	return nil
}
