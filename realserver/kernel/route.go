package kernel

import (
	"fmt"
	"net"
	"net/netip"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/rsprep/rsprep/realserver"
)

// Routes implements realserver.Host: unicast IPv4 routes of the main table.
func (h *Host) Routes() ([]realserver.Route, error) { return h.TableRoutes(4, 0) }

// TableRoutes implements realserver.Host: unicast routes of one family of
// a table.
func (h *Host) TableRoutes(fam, table int) ([]realserver.Route, error) {
	if table == 0 {
		table = unix.RT_TABLE_MAIN
	}
	nlFam, dflt := netlink.FAMILY_V4, realserver.DefaultDst
	if fam == 6 {
		nlFam, dflt = netlink.FAMILY_V6, realserver.DefaultDst6
	}
	filter := &netlink.Route{Table: table}
	nl, err := h.nl()
	if err != nil {
		return nil, err
	}
	rs, err := retryDump("route", func() ([]netlink.Route, error) {
		h.dumpsSent["route"]++
		return nl.RouteListFiltered(nlFam, filter, netlink.RT_FILTER_TABLE)
	})
	if err != nil {
		return nil, err
	}
	names := h.namer()
	out := make([]realserver.Route, 0, len(rs))
	for _, r := range rs {
		if r.Type != unix.RTN_UNICAST {
			continue
		}
		// Newer netlink versions give a default route Dst 0.0.0.0/0, older
		// ones nil: both are the default route.
		dst := dflt
		if r.Dst != nil {
			ip, _ := netip.AddrFromSlice(r.Dst.IP)
			ones, _ := r.Dst.Mask.Size()
			dst = netip.PrefixFrom(ip.Unmap(), ones)
		}
		gw, _ := netip.AddrFromSlice(r.Gw)
		link := r.LinkIndex
		if gw == (netip.Addr{}) && len(r.MultiPath) > 0 {
			gw, _ = netip.AddrFromSlice(r.MultiPath[0].Gw)
			link = r.MultiPath[0].LinkIndex
		}
		rt := realserver.Route{Dst: dst, Gw: gw.Unmap(), Link: names.name(link), Metric: r.Priority, Protocol: int(r.Protocol), AdvMSS: r.AdvMSS}
		if table != unix.RT_TABLE_MAIN {
			rt.Table = table
		}
		out = append(out, rt)
	}
	if names.err != nil {
		return nil, names.err
	}
	return out, nil
}

func (h *Host) toNetlinkRoute(r realserver.Route) (*netlink.Route, error) {
	nr := &netlink.Route{Table: unix.RT_TABLE_MAIN, Priority: r.Metric, Protocol: netlink.RouteProtocol(r.Protocol), Scope: netlink.SCOPE_UNIVERSE, AdvMSS: r.AdvMSS}
	if r.Table != 0 {
		nr.Table = r.Table
	}
	// An IPv6 default route names its destination, ::/0, so that the
	// request is IPv6 even without a gateway.
	if !r.IsDefault() || r.Dst.Addr().Is6() {
		nr.Dst = &net.IPNet{IP: r.Dst.Addr().AsSlice(), Mask: net.CIDRMask(r.Dst.Bits(), r.Dst.Addr().BitLen())}
	}
	if r.Gw.IsValid() {
		nr.Gw = r.Gw.AsSlice()
	} else {
		nr.Scope = netlink.SCOPE_LINK
	}
	if r.Link != "" {
		l, err := h.link(r.Link)
		if err != nil {
			return nil, err
		}
		nr.LinkIndex = l.Attrs().Index
	}
	if nr.Protocol == 0 {
		nr.Protocol = unix.RTPROT_STATIC
	}
	return nr, nil
}

// AddRoute implements realserver.Host with replace semantics.
func (h *Host) AddRoute(r realserver.Route) error {
	nr, err := h.toNetlinkRoute(r)
	if err != nil {
		return err
	}
	nl, err := h.nl()
	if err == nil {
		err = nl.RouteReplace(nr)
	}
	if err != nil {
		return fmt.Errorf("setting route %s: %w", r, err)
	}
	return nil
}

// DelRoute implements realserver.Host.
func (h *Host) DelRoute(r realserver.Route) error {
	nr, err := h.toNetlinkRoute(r)
	if err != nil {
		if isGone(err) {
			return nil
		}
		return err
	}
	nl, err := h.nl()
	if err == nil {
		err = nl.RouteDel(nr)
	}
	if err != nil && !isGone(err) {
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
