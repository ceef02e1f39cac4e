package fake

import (
	"fmt"
	"slices"
	"syscall"

	"github.com/rsprep/rsprep/realserver"
)

// moduleDeps are the dependencies modprobe loads first, where they matter
// to rsprep: fou6 needs fou's symbols.
var moduleDeps = map[string][]string{"fou6": {"fou"}}

// fallbackDevices are the devices a tunnel module creates in every
// namespace (with net.core.fb_tunnels_only_for_init_net=0): down, and
// NOARP except the Ethernet-like taps.
var fallbackDevices = map[string][]realserver.Link{
	"ipip":       {{Name: "tunl0", Type: "ipip", NoARP: true}},
	"ip6_tunnel": {{Name: "ip6tnl0", Type: "ip6tnl", NoARP: true}},
	"sit":        {{Name: "sit0", Type: "sit", NoARP: true}},
	"ip_gre":     {{Name: "gre0", Type: "gre", NoARP: true}, {Name: "gretap0", Type: "gretap"}, {Name: "erspan0", Type: "erspan"}},
	"ip6_gre":    {{Name: "ip6gre0", Type: "ip6gre", NoARP: true}},
}

// LoadModule implements realserver.Host.
func (h *Host) LoadModule(name string) error {
	if err := h.write(); err != nil {
		return err
	}
	if !h.modules[name] {
		return fmt.Errorf("modprobe: FATAL: Module %s not found", name)
	}
	h.load(name)
	return nil
}

func (h *Host) load(name string) {
	if h.loaded[name] {
		return
	}
	for _, dep := range moduleDeps[name] {
		h.load(dep)
	}
	h.loaded[name] = true
	for _, l := range fallbackDevices[name] {
		h.AddLink(l)
		if l.Type == "ip6tnl" {
			h.modes[l.Name] = realserver.ModeIP6IP6 // the fallback device starts as ip6ip6 only
		}
	}
}

// Loaded reports whether a module is loaded.
func (h *Host) Loaded(name string) bool { return h.loaded[name] }

// FouPorts implements realserver.Host.
func (h *Host) FouPorts() ([]realserver.FouPort, error) {
	if h.readErr != nil {
		return nil, h.readErr
	}
	if !h.loaded["fou"] {
		return nil, realserver.ErrNoFou
	}
	return slices.Clone(h.fou), nil
}

// AddFouPortRaw seeds a fou port (somebody else's).
func (h *Host) AddFouPortRaw(p realserver.FouPort) { h.fou = append(h.fou, p) }

// AddFouPort implements realserver.Host: the generic netlink family exists
// only once fou is loaded; a port of the same family and number that is
// there already is success (rsprep's kernel host treats EEXIST so).
func (h *Host) AddFouPort(p realserver.FouPort) error {
	if err := h.write(); err != nil {
		return err
	}
	if !h.loaded["fou"] {
		return realserver.ErrNoFou
	}
	if p.Family != 4 && p.Family != 6 || p.Port == 0 {
		return fmt.Errorf("fou %s: %w", p, syscall.EINVAL)
	}
	if slices.ContainsFunc(h.fou, func(x realserver.FouPort) bool { return x.Family == p.Family && x.Port == p.Port }) {
		return nil
	}
	h.fou = append(h.fou, p)
	return nil
}

// DelFouPort implements realserver.Host.
func (h *Host) DelFouPort(p realserver.FouPort) error {
	if err := h.write(); err != nil {
		return err
	}
	h.fou = slices.DeleteFunc(h.fou, func(x realserver.FouPort) bool { return x.Family == p.Family && x.Port == p.Port })
	return nil
}

// TunnelMode implements realserver.Host.
func (h *Host) TunnelMode(link string) (realserver.TunnelMode, error) {
	if h.readErr != nil {
		return 0, h.readErr
	}
	m, ok := h.modes[link]
	if !ok {
		return 0, fmt.Errorf("%s is not an ip6tnl device: %w", link, syscall.EOPNOTSUPP)
	}
	return m, nil
}

// SetTunnelMode implements realserver.Host with the kernel's rule for
// SIOCCHGTUNNEL: ip6ip6, ipip6 or any, on an ip6tnl device.
func (h *Host) SetTunnelMode(link string, m realserver.TunnelMode) error {
	if err := h.write(); err != nil {
		return err
	}
	if _, ok := h.modes[link]; !ok {
		return fmt.Errorf("%s is not an ip6tnl device: %w", link, syscall.EOPNOTSUPP)
	}
	if m != realserver.ModeAny && m != realserver.ModeIPIP6 && m != realserver.ModeIP6IP6 {
		return fmt.Errorf("mode %s: %w", m, syscall.EINVAL)
	}
	h.modes[link] = m
	return nil
}

// Rules implements realserver.Host.
func (h *Host) Rules() ([]realserver.Rule, error) {
	if h.readErr != nil {
		return nil, h.readErr
	}
	return slices.Clone(h.rules), nil
}

// AddRule implements realserver.Host: an identical rule is EEXIST in the
// kernel (NLM_F_EXCL), success for rsprep.
func (h *Host) AddRule(r realserver.Rule) error {
	if err := h.write(); err != nil {
		return err
	}
	if !r.Src.IsValid() || r.Table == 0 {
		return fmt.Errorf("rule %s: %w", r, syscall.EINVAL)
	}
	if !slices.Contains(h.rules, r) {
		h.rules = append(h.rules, r)
	}
	return nil
}

// DelRule implements realserver.Host.
func (h *Host) DelRule(r realserver.Rule) error {
	if err := h.write(); err != nil {
		return err
	}
	h.rules = slices.DeleteFunc(h.rules, func(x realserver.Rule) bool { return x == r })
	return nil
}
