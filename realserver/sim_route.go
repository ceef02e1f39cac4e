package realserver

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"syscall"

	"golang.org/x/sys/unix"
)

// connected are the routes the kernel makes for the subnets of the
// addresses of family fam (4 or 6) on up interfaces, one per subnet: IPv4
// for each address but a /32 and those on lo; IPv6 for each but ::1, a
// /128 on lo included, at metric 256.
func (s *Sim) connected(fam int) []Route {
	var out []Route
	for _, a := range s.addrs {
		i := s.findLink(a.Link)
		ip := a.Prefix.Addr()
		if Family(ip) != fam || i < 0 || !s.links[i].Up ||
			(fam == 4 && (a.Prefix.Bits() == 32 || s.links[i].Loopback)) || ip == netip.IPv6Loopback() {
			continue
		}
		r := Route{Dst: a.Prefix.Masked(), Link: a.Link, Protocol: unix.RTPROT_KERNEL, Src: ip}
		if fam == 6 {
			r.Metric, r.Src = 256, netip.Addr{}
		}
		if !slices.ContainsFunc(out, func(x Route) bool { return x.Dst == r.Dst && x.Link == r.Link }) {
			out = append(out, r)
		}
	}
	return out
}

// addressRoute tells a route the kernel made for an address's subnet
// (connected makes those again from the addresses) from other routes.
func (s *Sim) addressRoute(r Route) bool {
	if r.Protocol != unix.RTPROT_KERNEL || r.Gw.IsValid() || r.Table != 0 {
		return false
	}
	return slices.ContainsFunc(s.addrs, func(a Addr) bool { return a.Link == r.Link && a.Prefix.Masked() == r.Dst })
}

// deviceDown tells a route the kernel made for a device itself whose
// device is down now: the kernel takes such routes away with the device
// and makes them again when it comes up.
func (s *Sim) deviceDown(r Route) bool {
	if r.Protocol != unix.RTPROT_KERNEL || r.Gw.IsValid() {
		return false
	}
	i := s.findLink(r.Link)
	return i >= 0 && !s.links[i].Up
}

// loadRoutes reads main's routes of family fam from the seed, and table's.
func (s *Sim) loadRoutes(fam, table int) error {
	main := "routes"
	if fam == 6 {
		main = "routes6"
	}
	err := errors.Join(s.load("links"), s.load("addrs"), s.load(main))
	if err == nil && table != 0 {
		err = s.load(fmt.Sprintf("table %d %d", fam, table))
	}
	return err
}

// Routes implements Host.
func (s *Sim) Routes() ([]Route, error) { return s.TableRoutes(4, 0) }

// TableRoutes implements Host: connected routes are made in main only.
func (s *Sim) TableRoutes(fam, table int) ([]Route, error) {
	if err := s.loadRoutes(fam, table); err != nil {
		return nil, err
	}
	var out []Route
	if table == 0 {
		out = s.connected(fam)
	}
	for _, r := range s.routes {
		if r.Table == table && Family(r.Dst.Addr()) == fam && !s.deviceDown(r) {
			out = append(out, r)
		}
	}
	return out, nil
}

// onLink finds the interface a gateway is on: for an IPv6 link-local one,
// the device the route names (the kernel requires one); else the up
// interface whose subnet holds gw.
func (s *Sim) onLink(gw netip.Addr, dev string) (string, bool) {
	if gw.Is6() && gw.IsLinkLocalUnicast() {
		return dev, dev != ""
	}
	for _, r := range s.connected(Family(gw)) {
		if r.Dst.Contains(gw) {
			return r.Link, true
		}
	}
	return "", false
}

// AddRoute implements Host: replace semantics on (dst, metric), and, as
// the kernel does, a gateway must be reachable on-link unless the next hop
// says onlink (then it needs its device), each path of a multipath route
// names its device, and an IPv6 route without a metric gets 1024
// (IP6_RT_PRIO_USER).
func (s *Sim) AddRoute(r Route) error {
	fam := Family(r.Dst.Addr())
	if err := s.loadRoutes(fam, r.Table); err != nil {
		return err
	}
	if fam == 6 && r.Metric == 0 {
		r.Metric = 1024
	}
	hops := slices.Clone(r.Nexthops)
	if len(hops) < 2 {
		hops = []Nexthop{{Gw: r.Gw, Link: r.Link, OnLink: r.OnLink}}
	}
	for i, h := range hops {
		if r.NhID != 0 {
			break // the fake keeps no nexthop objects: it takes the paths as read
		}
		if h.Gw.IsValid() && !h.OnLink {
			link, ok := s.onLink(h.Gw, h.Link)
			if !ok || (h.Link != "" && h.Link != link) {
				return fmt.Errorf("route %s: %w", r, syscall.ENETUNREACH)
			}
			hops[i].Link = link
		}
		if (h.OnLink || len(hops) > 1) && hops[i].Link == "" {
			return fmt.Errorf("route %s: a next hop needs a device: %w", r, syscall.EINVAL)
		}
		if hops[i].Link != "" && s.findLink(hops[i].Link) < 0 {
			return fmt.Errorf("route %s: %w", r, syscall.ENODEV)
		}
	}
	if len(r.Nexthops) >= 2 {
		r.Nexthops = hops
		for i := range r.Nexthops {
			r.Nexthops[i].Weight = max(r.Nexthops[i].Weight, 1)
		}
		hops = r.Nexthops
	}
	r.Gw, r.Link, r.OnLink = hops[0].Gw, hops[0].Link, hops[0].OnLink
	// Like the kernel's replace: the first route of that destination and
	// metric is replaced, unless the same route stands further on (then it
	// is a duplicate: EEXIST).
	if ReplaceIsDuplicate(s.routes, r) {
		return fmt.Errorf("route %s: %w", r, syscall.EEXIST)
	}
	i := slices.IndexFunc(s.routes, func(x Route) bool { return x.Table == r.Table && x.Dst == r.Dst && x.Metric == r.Metric })
	if i >= 0 {
		s.routes[i] = r
	} else {
		s.routes = append(s.routes, r)
	}
	return nil
}

// DelRoute implements Host: for IPv6, no metric matches any (as
// ip6_route_del does).
func (s *Sim) DelRoute(r Route) error {
	v6 := r.Dst.Addr().Is6()
	if err := s.loadRoutes(Family(r.Dst.Addr()), r.Table); err != nil {
		return err
	}
	s.routes = slices.DeleteFunc(s.routes, func(x Route) bool {
		return x.Table == r.Table && x.Dst == r.Dst && (x.Metric == r.Metric || v6 && r.Metric == 0) && (!r.Gw.IsValid() || x.Gw == r.Gw)
	})
	return nil
}

// Neighbors implements Host.
func (s *Sim) Neighbors() ([]Neighbor, error) {
	if err := s.load("neighs"); err != nil {
		return nil, err
	}
	return slices.Clone(s.neighs), nil
}

// SetNeighbor implements Host (replace semantics: an old FAILED entry is
// overwritten).
func (s *Sim) SetNeighbor(n Neighbor) error {
	if err := errors.Join(s.load("links"), s.load("neighs")); err != nil {
		return err
	}
	if s.findLink(n.Link) < 0 {
		return fmt.Errorf("neighbour on %s: %w", n.Link, syscall.ENODEV)
	}
	n.State = NeighPermanent
	s.neighs = slices.DeleteFunc(s.neighs, func(x Neighbor) bool { return x.Link == n.Link && x.IP == n.IP })
	s.neighs = append(s.neighs, n)
	return nil
}

// DelNeighbor implements Host.
func (s *Sim) DelNeighbor(n Neighbor) error {
	if err := s.load("neighs"); err != nil {
		return err
	}
	s.neighs = slices.DeleteFunc(s.neighs, func(x Neighbor) bool { return x.Link == n.Link && x.IP == n.IP })
	return nil
}

// RefreshNeighbor is what an ARP answer does to a learned entry for ip on
// link: its MAC and REACHABLE, never to a PERMANENT one (the kernel does
// not let a reply override a static entry); it creates none (arp_accept=0).
func (s *Sim) RefreshNeighbor(link string, ip netip.Addr, mac net.HardwareAddr) {
	for i, n := range s.neighs {
		if n.Link == link && n.IP == ip && n.State != NeighPermanent {
			s.neighs[i].MAC, s.neighs[i].State = mac, NeighReachable
		}
	}
}
