package realserver

import (
	"net/netip"
	"strings"

	"github.com/rsprep/rsprep/realserver/input"
	"golang.org/x/sys/unix"
)

// DefaultRoute returns the IPv4 default route the kernel uses: of
// several, the one with the lowest metric (on a tie, the first listed,
// which is the one the kernel picks). ok is false when there is no default
// route.
func DefaultRoute(v *View) (r Route, ok bool, err error) { return DefaultRouteOf(v, 4) }

// DefaultRouteOf is DefaultRoute of family fam (4 or 6).
func DefaultRouteOf(v *View, fam int) (r Route, ok bool, err error) {
	routes, err := v.TableRoutes(fam, 0)
	if err != nil {
		return Route{}, false, err
	}
	for _, x := range routes {
		if x.IsDefault() && (!ok || x.Metric < r.Metric) {
			r, ok = x, true
		}
	}
	return r, ok, nil
}

// HostDefaultRoute is the default route as the host has it apart from
// rsprep: the one the kernel uses, unless rsprep's record says rsprep put
// it there (NAT's default via the DIP), then the one rsprep replaced. A
// mode that pins "the default gateway" pins this one, so another mode's
// route change is never read as a new gateway.
func HostDefaultRoute(v *View) (Route, bool, error) {
	r, ok, err := DefaultRoute(v)
	if err != nil || !ok {
		return r, ok, err
	}
	recorded, err := v.Recorded()
	if err != nil {
		return Route{}, false, err
	}
	for _, c := range recorded {
		if c.Kind == KindRouteReplace && c.Route.IsDefault() && c.Route.Gw == r.Gw && c.Route.Metric == r.Metric && c.PrevRoute.Dst.IsValid() {
			return c.PrevRoute, true, nil
		}
	}
	return r, true, nil
}

// ReplaceIsDuplicate reports whether replacing the first route of r's
// table, destination and metric with r is what the kernel refuses as a
// duplicate (EEXIST): a route it takes for r stands further on among them
// (fib_table_insert looks for an exact match from the first on, and only
// a match that is the first itself is a no-op). Two default routes at one
// metric arise when a network manager puts its own back beside rsprep's.
func ReplaceIsDuplicate(routes []Route, r Route) bool {
	ahead := false
	for _, x := range routes {
		if x.Table != r.Table || x.Dst != r.Dst || x.Metric != r.Metric {
			continue
		}
		if sameRoute(x, r) {
			return ahead
		}
		ahead = true
	}
	return false
}

// sameRoute is whether the kernel takes a and b, of one destination and
// metric, for the same route: every attribute (the kernel compares the
// whole route; rsprep writes a route with no protocol as static).
// Replacing with another protocol is no duplicate (seen on 6.18: a
// replace with proto boot took the place of the first).
func sameRoute(a, b Route) bool {
	a.Protocol, b.Protocol = staticIfNone(a.Protocol), staticIfNone(b.Protocol)
	return a.Equal(b)
}

func staticIfNone(proto int) int {
	if proto == 0 {
		return unix.RTPROT_STATIC
	}
	return proto
}

// Connected lists the directly connected IPv4 subnets of up interfaces:
// the gateway-less routes of the main table, which is what the kernel
// requires a gateway to be inside.
func Connected(v *View) ([]Route, error) { return ConnectedOf(v, 4) }

// ConnectedOf is Connected of family fam (4 or 6); IPv6's include each
// interface's fe80::/64.
func ConnectedOf(v *View, fam int) ([]Route, error) {
	routes, err := v.TableRoutes(fam, 0)
	if err != nil {
		return nil, err
	}
	var out []Route
	for _, r := range routes {
		if r.Gw.IsValid() || r.IsDefault() || r.Link == "" {
			continue
		}
		l, ok, err := v.Link(r.Link)
		if err != nil {
			return nil, err
		}
		if ok && l.Up && !l.Loopback {
			out = append(out, r)
		}
	}
	return out, nil
}

// OnLink finds the up interface whose directly connected subnet holds ip
// (the longest such prefix, as the kernel's lookup would), of ip's family.
// A zoned address (fe80::1%eth0) is on-link only on its zone's interface.
func OnLink(v *View, ip netip.Addr) (link string, ok bool, err error) {
	conn, err := ConnectedOf(v, Family(ip))
	if err != nil {
		return "", false, err
	}
	zone := ip.Zone()
	ip = ip.WithZone("")
	best := -1
	for _, r := range conn {
		if zone != "" && r.Link != zone {
			continue
		}
		if r.Dst.Contains(ip) && r.Dst.Bits() > best {
			link, best = r.Link, r.Dst.Bits()
		}
	}
	return link, best >= 0, nil
}

// CheckHostOnLink rejects a next hop (a DIP, a gateway) that is the
// network or the broadcast address of its directly connected subnet: no
// host has it, a route via the broadcast address fails, and one via the
// network address black-holes everything. /31 and /32 subnets have no such
// addresses, nor has IPv6 (whose subnets are not checked).
func CheckHostOnLink(v *View, what string, ip netip.Addr) error {
	if !ip.Is4() {
		return nil
	}
	conn, err := Connected(v)
	if err != nil {
		return err
	}
	for _, r := range conn {
		if !r.Dst.Contains(ip) || r.Dst.Bits() >= 31 {
			continue
		}
		switch ip {
		case r.Dst.Masked().Addr():
			return input.Errorf("%s %s is the network address of %s on %s, not a host", what, ip, r.Dst, r.Link)
		case lastAddr(r.Dst):
			return input.Errorf("%s %s is the broadcast address of %s on %s, not a host", what, ip, r.Dst, r.Link)
		}
	}
	return nil
}

// lastAddr is an IPv4 prefix's last (broadcast) address.
func lastAddr(p netip.Prefix) netip.Addr {
	a := p.Masked().Addr().As4()
	host := uint32(1)<<(32-p.Bits()) - 1
	n := uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3]) | host
	return netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)})
}

// DescribeConnected renders connected subnets for an error message, so an
// operator sees what the host does have: "eth0 192.168.10.0/24, eth1 …".
func DescribeConnected(conn []Route) string {
	if len(conn) == 0 {
		return "no up interface has a connected subnet of that family"
	}
	parts := make([]string, 0, len(conn))
	for _, r := range conn {
		parts = append(parts, r.Link+" "+r.Dst.String())
	}
	return "connected: " + strings.Join(parts, ", ")
}

// CheckVIPsOffPath rejects a VIP the host's own traffic must reach on the
// wire: the next hop of a configured route (the default gateway among
// them), or the network or broadcast address of a directly connected
// subnet. Bound on lo or a tunnel it would be local (`ip route get` says
// `local … dev lo`): the host would stop reaching its gateway. A VIP
// already on the host is local already and is not checked, so a no-op
// apply or verify reads no route for it.
func CheckVIPsOffPath(v *View, vips []netip.Addr) error {
	var absent []netip.Addr
	for _, ip := range vips {
		if present, err := v.AddrsOf(ip); err != nil {
			return &ObserveError{Err: err}
		} else if len(present) == 0 {
			absent = append(absent, ip)
		}
	}
	hops, err := nextHops(v, absent)
	if err != nil {
		return &ObserveError{Err: err}
	}
	for _, ip := range absent {
		if r, ok := hops[ip]; ok {
			return input.Errorf("VIP %s is the next hop of the route %s: bound on this host it would make its own gateway local", ip, r)
		}
		if !ip.Is4() {
			continue
		}
		if err := CheckHostOnLink(v, "VIP", ip); err != nil {
			return KeepInput(err)
		}
	}
	return nil
}

// nextHops maps the next hops of the main table's routes to a route via
// each, reading only the families of ips.
func nextHops(v *View, ips []netip.Addr) (map[netip.Addr]Route, error) {
	hops := map[netip.Addr]Route{}
	read := map[int]bool{}
	for _, ip := range ips {
		fam := Family(ip)
		if read[fam] {
			continue
		}
		read[fam] = true
		routes, err := v.TableRoutes(fam, 0)
		if err != nil {
			return nil, err
		}
		for _, r := range routes {
			if r.Gw.IsValid() {
				hops[r.Gw] = r
			}
		}
	}
	return hops, nil
}
