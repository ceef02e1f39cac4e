package realserver

// The Sim's seeding helpers and its rendering: not part of Host, for
// the engine's dry run and tests to set up a state and compare one.

import (
	"fmt"
	"sort"
	"strings"
)

// AddLink creates an interface; its sysctls start as conf/default's values.
func (s *Sim) AddLink(l Link) {
	s.load("links")
	l.Index = s.next
	s.next++
	s.links = append(s.links, l)
	s.made[l.Name] = true
	for name := range simSysctls {
		if v, err := s.Sysctl(SysctlKey{Iface: "default", Name: name}); err == nil {
			s.sysctls[SysctlKey{Iface: l.Name, Name: name}.Path()] = v
		}
	}
	s.addForwardingKeys(l.Name)
}

// SeedAddr adds an address without rules.
func (s *Sim) SeedAddr(a Addr) {
	s.load("addrs")
	s.addrs = append(s.addrs, a)
	s.freezeConf(a)
}

// SeedSysctl sets a sysctl as if written explicitly (no propagation).
func (s *Sim) SeedSysctl(iface, name string, v int) {
	s.SeedSysctlKey(SysctlKey{Iface: iface, Name: name}, v)
}

// SeedSysctlKey is SeedSysctl of any key (an IPv6 one: accept_ra).
func (s *Sim) SeedSysctlKey(k SysctlKey, v int) {
	p := k.Path()
	s.sysctls[p] = v
	s.ownSet[p] = true
}

// SeedRoute adds a route without rules.
func (s *Sim) SeedRoute(r Route) {
	s.loadRoutes(Family(r.Dst.Addr()), r.Table)
	s.routes = append(s.routes, r)
}

// SeedNeighbor adds a neighbour entry without rules.
func (s *Sim) SeedNeighbor(n Neighbor) {
	s.load("neighs")
	s.neighs = append(s.neighs, n)
}

// freezeConf mirrors ipv4_devconf_setall: once an interface has an IPv4
// address, all its conf values count as set, and writes to conf/default no
// longer reach it. (Whether the kernel counts a seeded interface's value as
// set is not observable; an IPv4 address is the usual reason.)
func (s *Sim) freezeConf(a Addr) {
	if !a.Prefix.Addr().Is4() {
		return
	}
	for name := range simSysctls {
		s.ownSet[SysctlKey{Iface: a.Link, Name: name}.Path()] = true
	}
}

// Render prints the whole state as sorted `ip`/`sysctl` lines, so tests can
// compare states and golden files can show them.
func (s *Sim) Render() string {
	var lines []string
	for _, l := range s.links {
		lines = append(lines, fmt.Sprintf("link %s type %s up=%v noarp=%v", l.Name, l.Type, l.Up, l.NoARP))
	}
	for _, a := range s.addrs {
		line := fmt.Sprintf("addr %s dev %s", a.Prefix, a.Link)
		if a.Label != "" {
			line += " label " + a.Label
		}
		if a.Proto != 0 {
			line += fmt.Sprintf(" proto %d", a.Proto)
		}
		lines = append(lines, line)
	}
	for k, v := range s.sysctls {
		lines = append(lines, fmt.Sprintf("sysctl %s=%d", k, v))
	}
	for _, r := range s.routes {
		lines = append(lines, "route "+r.String())
	}
	for _, n := range s.neighs {
		lines = append(lines, fmt.Sprintf("neigh %s dev %s lladdr %s %s", n.IP, n.Link, n.MAC, n.State))
	}
	for _, r := range s.rules {
		lines = append(lines, "rule "+r.String())
	}
	for _, p := range s.fou {
		lines = append(lines, "fou "+p.String())
	}
	for l, m := range s.modes {
		lines = append(lines, fmt.Sprintf("tunnel %s mode %s", l, m))
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n") + "\n"
}
