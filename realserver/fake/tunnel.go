package fake

import (
	"fmt"

	"github.com/rsprep/rsprep/realserver"
)

// LoadModule implements realserver.Host: a module AllowModule did not
// allow is missing from this kernel.
func (h *Host) LoadModule(name string) error {
	if err := h.write(); err != nil {
		return err
	}
	if !h.modules[name] {
		return fmt.Errorf("modprobe: FATAL: Module %s not found", name)
	}
	return h.sim.LoadModule(name)
}

// Loaded reports whether a module is loaded.
func (h *Host) Loaded(name string) bool { return h.sim.Loaded(name) }

// AddFouPortRaw seeds a fou port (somebody else's).
func (h *Host) AddFouPortRaw(p realserver.FouPort) { h.sim.SeedFouPort(p) }

// FouPorts implements realserver.Host.
func (h *Host) FouPorts() ([]realserver.FouPort, error) {
	if err := h.dump("fou"); err != nil {
		return nil, err
	}
	return h.sim.FouPorts()
}

// AddFouPort implements realserver.Host.
func (h *Host) AddFouPort(p realserver.FouPort) error {
	if err := h.write(); err != nil {
		return err
	}
	return h.sim.AddFouPort(p)
}

// DelFouPort implements realserver.Host.
func (h *Host) DelFouPort(p realserver.FouPort) error {
	if err := h.write(); err != nil {
		return err
	}
	return h.sim.DelFouPort(p)
}

// TunnelMode implements realserver.Host.
func (h *Host) TunnelMode(link string) (realserver.TunnelMode, error) {
	if h.readErr != nil {
		return 0, h.readErr
	}
	return h.sim.TunnelMode(link)
}

// SetTunnelMode implements realserver.Host.
func (h *Host) SetTunnelMode(link string, m realserver.TunnelMode) error {
	if err := h.write(); err != nil {
		return err
	}
	return h.sim.SetTunnelMode(link, m)
}

// Rules implements realserver.Host.
func (h *Host) Rules() ([]realserver.Rule, error) {
	if err := h.dump("rule"); err != nil {
		return nil, err
	}
	return h.sim.Rules()
}

// AddRule implements realserver.Host.
func (h *Host) AddRule(r realserver.Rule) error {
	if err := h.write(); err != nil {
		return err
	}
	return h.sim.AddRule(r)
}

// DelRule implements realserver.Host.
func (h *Host) DelRule(r realserver.Rule) error {
	if err := h.write(); err != nil {
		return err
	}
	return h.sim.DelRule(r)
}
