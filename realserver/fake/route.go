package fake

import (
	"fmt"
	"net"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"syscall"

	"github.com/rsprep/rsprep/realserver"
)

// connected are the routes the kernel makes for the subnets of the IPv4
// addresses on up interfaces.
func (h *Host) connected() []realserver.Route {
	var out []realserver.Route
	for _, a := range h.addrs {
		i := h.findLink(a.Link)
		if !a.Prefix.Addr().Is4() || a.Prefix.Bits() == 32 || i < 0 || !h.links[i].Up || h.links[i].Loopback {
			continue
		}
		out = append(out, realserver.Route{Dst: a.Prefix.Masked(), Link: a.Link, Protocol: 2})
	}
	return out
}

// Routes implements realserver.Host.
func (h *Host) Routes() ([]realserver.Route, error) { return h.TableRoutes(0) }

// TableRoutes implements realserver.Host: connected routes are made in
// main only.
func (h *Host) TableRoutes(table int) ([]realserver.Route, error) {
	if h.readErr != nil {
		return nil, h.readErr
	}
	var out []realserver.Route
	if table == 0 {
		out = h.connected()
	}
	for _, r := range h.routes {
		if r.Table == table {
			out = append(out, r)
		}
	}
	return out, nil
}

// onLink finds the up interface whose subnet holds gw.
func (h *Host) onLink(gw netip.Addr) (string, bool) {
	for _, r := range h.connected() {
		if r.Dst.Contains(gw) {
			return r.Link, true
		}
	}
	return "", false
}

// AddRoute implements realserver.Host: replace semantics on (dst, metric),
// and, as the kernel does, a gateway must be reachable on-link.
func (h *Host) AddRoute(r realserver.Route) error {
	if err := h.write(); err != nil {
		return err
	}
	if r.Gw.IsValid() {
		link, ok := h.onLink(r.Gw)
		if !ok || (r.Link != "" && r.Link != link) {
			return fmt.Errorf("route %s: %w", r, syscall.ENETUNREACH)
		}
		r.Link = link
	}
	if r.Link != "" && h.findLink(r.Link) < 0 {
		return fmt.Errorf("route %s: %w", r, syscall.ENODEV)
	}
	same := func(x realserver.Route) bool { return x.Table == r.Table && x.Dst == r.Dst && x.Metric == r.Metric }
	i := slices.IndexFunc(h.routes, same)
	if i >= 0 {
		// Like the kernel's replace: the first route of that destination
		// and metric is replaced, unless an identical one stands further
		// on (then it is a duplicate: EEXIST).
		for _, x := range h.routes[i+1:] {
			if same(x) && x.Gw == r.Gw && x.Link == r.Link {
				return fmt.Errorf("route %s: %w", r, syscall.EEXIST)
			}
		}
		h.routes[i] = r
	} else {
		h.routes = append(h.routes, r)
	}
	return nil
}

// DelRoute implements realserver.Host.
func (h *Host) DelRoute(r realserver.Route) error {
	if err := h.write(); err != nil {
		return err
	}
	h.routes = slices.DeleteFunc(h.routes, func(x realserver.Route) bool {
		return x.Table == r.Table && x.Dst == r.Dst && x.Metric == r.Metric && (!r.Gw.IsValid() || x.Gw == r.Gw)
	})
	return nil
}

// Neighbors implements realserver.Host.
func (h *Host) Neighbors() ([]realserver.Neighbor, error) {
	if h.readErr != nil {
		return nil, h.readErr
	}
	return slices.Clone(h.neighs), nil
}

// SetNeighbor implements realserver.Host (replace semantics: an old FAILED
// entry is overwritten).
func (h *Host) SetNeighbor(n realserver.Neighbor) error {
	if err := h.write(); err != nil {
		return err
	}
	if h.findLink(n.Link) < 0 {
		return fmt.Errorf("neighbour on %s: %w", n.Link, syscall.ENODEV)
	}
	n.State = realserver.NeighPermanent
	h.neighs = slices.DeleteFunc(h.neighs, func(x realserver.Neighbor) bool { return x.Link == n.Link && x.IP == n.IP })
	h.neighs = append(h.neighs, n)
	return nil
}

// DelNeighbor implements realserver.Host.
func (h *Host) DelNeighbor(n realserver.Neighbor) error {
	if err := h.write(); err != nil {
		return err
	}
	h.neighs = slices.DeleteFunc(h.neighs, func(x realserver.Neighbor) bool { return x.Link == n.Link && x.IP == n.IP })
	return nil
}

// Resolve implements realserver.Host from what SetWire says, as an ARP
// probe does on the kernel: the answer also refreshes an existing learned
// entry, but never a PERMANENT one (the kernel does not let a reply
// override a static entry), and creates none (arp_accept=0).
func (h *Host) Resolve(link string, ip netip.Addr) (net.HardwareAddr, error) {
	if h.readErr != nil {
		return nil, h.readErr
	}
	mac, ok := h.wire[ip]
	if !ok || mac == nil {
		return nil, fmt.Errorf("no ARP answer from %s on %s", ip, link)
	}
	for i, n := range h.neighs {
		if n.Link == link && n.IP == ip && n.State != realserver.NeighPermanent {
			h.neighs[i].MAC, h.neighs[i].State = mac, realserver.NeighReachable
		}
	}
	return mac, nil
}

// Render prints the whole state as sorted `ip`/`sysctl` lines, so tests can
// compare states and golden files can show them.
func (h *Host) Render() string {
	var lines []string
	for _, l := range h.links {
		lines = append(lines, fmt.Sprintf("link %s type %s up=%v noarp=%v", l.Name, l.Type, l.Up, l.NoARP))
	}
	for _, a := range h.addrs {
		s := fmt.Sprintf("addr %s dev %s", a.Prefix, a.Link)
		if a.Label != "" {
			s += " label " + a.Label
		}
		if a.Proto != 0 {
			s += fmt.Sprintf(" proto %d", a.Proto)
		}
		lines = append(lines, s)
	}
	for k, v := range h.sysctls {
		lines = append(lines, fmt.Sprintf("sysctl %s=%d", k, v))
	}
	for _, r := range h.routes {
		lines = append(lines, "route "+r.String())
	}
	for _, n := range h.neighs {
		lines = append(lines, fmt.Sprintf("neigh %s dev %s lladdr %s %s", n.IP, n.Link, n.MAC, n.State))
	}
	for _, r := range h.rules {
		lines = append(lines, "rule "+r.String())
	}
	for _, p := range h.fou {
		lines = append(lines, "fou "+p.String())
	}
	for l, m := range h.modes {
		lines = append(lines, fmt.Sprintf("tunnel %s mode %s", l, m))
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n") + "\n"
}
