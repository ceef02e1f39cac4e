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

// connected are the routes the kernel makes for the subnets of the IPv4
// addresses on up interfaces.
func (s *Sim) connected() []Route {
	var out []Route
	for _, a := range s.addrs {
		i := s.findLink(a.Link)
		if !a.Prefix.Addr().Is4() || a.Prefix.Bits() == 32 || i < 0 || !s.links[i].Up || s.links[i].Loopback {
			continue
		}
		out = append(out, Route{Dst: a.Prefix.Masked(), Link: a.Link, Protocol: unix.RTPROT_KERNEL})
	}
	return out
}

// loadRoutes reads main's routes from the seed, and table's.
func (s *Sim) loadRoutes(table int) error {
	err := errors.Join(s.load("links"), s.load("addrs"), s.load("routes"))
	if err == nil && table != 0 {
		err = s.load(fmt.Sprintf("table %d", table))
	}
	return err
}

// Routes implements Host.
func (s *Sim) Routes() ([]Route, error) { return s.TableRoutes(0) }

// TableRoutes implements Host: connected routes are made in main only.
func (s *Sim) TableRoutes(table int) ([]Route, error) {
	if err := s.loadRoutes(table); err != nil {
		return nil, err
	}
	var out []Route
	if table == 0 {
		out = s.connected()
	}
	for _, r := range s.routes {
		if r.Table == table {
			out = append(out, r)
		}
	}
	return out, nil
}

// onLink finds the up interface whose subnet holds gw.
func (s *Sim) onLink(gw netip.Addr) (string, bool) {
	for _, r := range s.connected() {
		if r.Dst.Contains(gw) {
			return r.Link, true
		}
	}
	return "", false
}

// AddRoute implements Host: replace semantics on (dst, metric), and, as
// the kernel does, a gateway must be reachable on-link.
func (s *Sim) AddRoute(r Route) error {
	if err := s.loadRoutes(r.Table); err != nil {
		return err
	}
	if r.Gw.IsValid() {
		link, ok := s.onLink(r.Gw)
		if !ok || (r.Link != "" && r.Link != link) {
			return fmt.Errorf("route %s: %w", r, syscall.ENETUNREACH)
		}
		r.Link = link
	}
	if r.Link != "" && s.findLink(r.Link) < 0 {
		return fmt.Errorf("route %s: %w", r, syscall.ENODEV)
	}
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

// DelRoute implements Host.
func (s *Sim) DelRoute(r Route) error {
	if err := s.loadRoutes(r.Table); err != nil {
		return err
	}
	s.routes = slices.DeleteFunc(s.routes, func(x Route) bool {
		return x.Table == r.Table && x.Dst == r.Dst && x.Metric == r.Metric && (!r.Gw.IsValid() || x.Gw == r.Gw)
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
