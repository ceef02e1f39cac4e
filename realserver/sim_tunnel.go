package realserver

import (
	"errors"
	"fmt"
	"slices"
	"syscall"
)

// simModuleDeps are the dependencies modprobe loads first, where they
// matter to rsprep: fou6 needs fou's symbols.
var simModuleDeps = map[string][]string{"fou6": {"fou"}}

// simFallbackDevices are the devices a tunnel module creates in every
// namespace (with net.core.fb_tunnels_only_for_init_net=0): down, and
// NOARP except the Ethernet-like taps.
var simFallbackDevices = map[string][]Link{
	"ipip":       {{Name: "tunl0", Type: "ipip", NoARP: true}},
	"ip6_tunnel": {{Name: "ip6tnl0", Type: "ip6tnl", NoARP: true}},
	"sit":        {{Name: "sit0", Type: "sit", NoARP: true}},
	"ip_gre":     {{Name: "gre0", Type: "gre", NoARP: true}, {Name: "gretap0", Type: "gretap"}, {Name: "erspan0", Type: "erspan"}},
	"ip6_gre":    {{Name: "ip6gre0", Type: "ip6gre", NoARP: true}},
}

// LoadModule implements Host: a module loads with its dependencies and
// creates its fallback devices (a device the seed has already is kept).
func (s *Sim) LoadModule(name string) error {
	if s.loaded[name] {
		return nil
	}
	if err := s.load("links"); err != nil {
		return err
	}
	for _, dep := range simModuleDeps[name] {
		if err := s.LoadModule(dep); err != nil {
			return err
		}
	}
	s.loaded[name] = true
	for _, l := range simFallbackDevices[name] {
		if s.findLink(l.Name) >= 0 {
			continue
		}
		s.AddLink(l)
		if l.Type == "ip6tnl" {
			s.modes[l.Name] = ModeIP6IP6 // the fallback device starts as ip6ip6 only
		}
	}
	return nil
}

// Loaded reports whether the simulation loaded a module (or, for fou,
// found its netlink family).
func (s *Sim) Loaded(name string) bool { return s.loaded[name] }

// loadFou reads the seed's fou ports once; ErrNoFou there means fou is
// not loaded yet.
func (s *Sim) loadFou() error {
	if s.have["fou"] || s.seed == nil {
		return nil
	}
	ps, err := s.seed.FouPorts()
	switch {
	case errors.Is(err, ErrNoFou):
	case err != nil:
		return err
	default:
		s.fou, s.loaded["fou"] = slices.Clone(ps), true
	}
	s.have["fou"] = true
	return nil
}

// FouPorts implements Host.
func (s *Sim) FouPorts() ([]FouPort, error) {
	if err := s.loadFou(); err != nil {
		return nil, err
	}
	if !s.loaded["fou"] {
		return nil, ErrNoFou
	}
	return slices.Clone(s.fou), nil
}

// SeedFouPort adds a fou port (somebody else's) without rules.
func (s *Sim) SeedFouPort(p FouPort) { s.fou = append(s.fou, p) }

// AddFouPort implements Host: the generic netlink family exists only once
// fou is loaded; a port of the same family and number that is there
// already is success (rsprep's kernel host treats EEXIST so).
func (s *Sim) AddFouPort(p FouPort) error {
	if err := s.loadFou(); err != nil {
		return err
	}
	if !s.loaded["fou"] {
		return ErrNoFou
	}
	if p.Family != 4 && p.Family != 6 || p.Port == 0 {
		return fmt.Errorf("fou %s: %w", p, syscall.EINVAL)
	}
	if slices.ContainsFunc(s.fou, func(x FouPort) bool { return x.Family == p.Family && x.Port == p.Port }) {
		return nil
	}
	s.fou = append(s.fou, p)
	return nil
}

// DelFouPort implements Host.
func (s *Sim) DelFouPort(p FouPort) error {
	if err := s.loadFou(); err != nil {
		return err
	}
	s.fou = slices.DeleteFunc(s.fou, func(x FouPort) bool { return x.Family == p.Family && x.Port == p.Port })
	return nil
}

// TunnelMode implements Host.
func (s *Sim) TunnelMode(link string) (TunnelMode, error) {
	if m, ok := s.modes[link]; ok {
		return m, nil
	}
	if s.seed == nil || s.made[link] {
		return 0, fmt.Errorf("%s is not an ip6tnl device: %w", link, syscall.EOPNOTSUPP)
	}
	m, err := s.seed.TunnelMode(link)
	if err != nil {
		return 0, err
	}
	s.modes[link] = m
	return m, nil
}

// SetTunnelMode implements Host with the kernel's rule for SIOCCHGTUNNEL:
// ip6ip6, ipip6 or any, on an ip6tnl device.
func (s *Sim) SetTunnelMode(link string, m TunnelMode) error {
	if _, err := s.TunnelMode(link); err != nil {
		return err
	}
	if m != ModeAny && m != ModeIPIP6 && m != ModeIP6IP6 {
		return fmt.Errorf("mode %s: %w", m, syscall.EINVAL)
	}
	s.modes[link] = m
	return nil
}

// Rules implements Host.
func (s *Sim) Rules() ([]Rule, error) {
	if err := s.load("rules"); err != nil {
		return nil, err
	}
	return slices.Clone(s.rules), nil
}

// AddRule implements Host: an identical rule is EEXIST in the kernel
// (NLM_F_EXCL), success for rsprep.
func (s *Sim) AddRule(r Rule) error {
	if err := s.load("rules"); err != nil {
		return err
	}
	if !r.Src.IsValid() || r.Table == 0 {
		return fmt.Errorf("rule %s: %w", r, syscall.EINVAL)
	}
	if !slices.Contains(s.rules, r) {
		s.rules = append(s.rules, r)
	}
	return nil
}

// DelRule implements Host.
func (s *Sim) DelRule(r Rule) error {
	if err := s.load("rules"); err != nil {
		return err
	}
	s.rules = slices.DeleteFunc(s.rules, func(x Rule) bool { return x == r })
	return nil
}
