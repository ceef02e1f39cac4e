// Package fake is an in-memory realserver.Host for tests: a
// realserver.Sim of a fresh network namespace (the kernel's rules live
// there, and dry runs use the same model), plus what a test needs around
// it: seeding helpers, modules that may or may not exist, who answers ARP
// on the wire, and fault injection. None of that is part of the Host
// interface.
package fake

import (
	"errors"
	"maps"
	"net"
	"net/netip"

	"github.com/rsprep/rsprep/realserver"
)

// ErrInjected is the error of a call failed on purpose.
var ErrInjected = errors.New("injected fault")

// Host is the fake. The zero value is not usable: call New.
type Host struct {
	sim     *realserver.Sim
	wire    map[netip.Addr]net.HardwareAddr // who answers ARP on the network
	modules map[string]bool                 // loadable modules

	writes  int            // mutating calls so far
	dumps   map[string]int // table reads so far, by table (as the kernel host counts dumps)
	probes  int            // ARP probes sent so far (Resolve)
	failAt  int            // fail the failAt-th mutating call (0: never)
	readErr error          // every read fails with it (cannot observe)
}

// New returns a fresh namespace: lo (down, as in a new netns), all and
// default at the kernel's defaults (0).
func New() *Host {
	return &Host{sim: realserver.NewSim(nil), wire: map[netip.Addr]net.HardwareAddr{}, modules: map[string]bool{}, dumps: map[string]int{}}
}

// AddLink creates an interface; its sysctls start as conf/default's values.
func (h *Host) AddLink(l realserver.Link) { h.sim.AddLink(l) }

// AddAddrRaw seeds an address without rules or counting.
func (h *Host) AddAddrRaw(a realserver.Addr) { h.sim.SeedAddr(a) }

// SetSysctlRaw seeds a sysctl as if written explicitly (no propagation).
func (h *Host) SetSysctlRaw(iface, name string, v int) { h.sim.SeedSysctl(iface, name, v) }

// SetSysctlKeyRaw is SetSysctlRaw of any key (an IPv6 one).
func (h *Host) SetSysctlKeyRaw(k realserver.SysctlKey, v int) { h.sim.SeedSysctlKey(k, v) }

// AddRouteRaw seeds a route.
func (h *Host) AddRouteRaw(r realserver.Route) { h.sim.SeedRoute(r) }

// AddNeighborRaw seeds a neighbour entry.
func (h *Host) AddNeighborRaw(n realserver.Neighbor) { h.sim.SeedNeighbor(n) }

// SetWire says who answers ARP for ip today (nil: nobody).
func (h *Host) SetWire(ip netip.Addr, mac net.HardwareAddr) { h.wire[ip] = mac }

// AllowModule makes a module loadable.
func (h *Host) AllowModule(name string) { h.modules[name] = true }

// FailWrite makes the k-th mutating call from now fail (k ≥ 1; 0 disables).
func (h *Host) FailWrite(k int) {
	h.failAt = 0
	if k > 0 {
		h.failAt = h.writes + k
	}
}

// Writes counts the mutating calls so far.
func (h *Host) Writes() int { return h.writes }

// Dumps counts the table reads so far ("link", "address", "route",
// "neighbour", "rule", "fou"), failed ones included: each is a dump on the
// kernel host.
func (h *Host) Dumps() map[string]int { return maps.Clone(h.dumps) }

// Probes counts the ARP probes sent so far (Resolve).
func (h *Host) Probes() int { return h.probes }

// dump counts a read of table, and fails it as FailReads says.
func (h *Host) dump(table string) error {
	h.dumps[table]++
	return h.readErr
}

// FailReads makes every read fail with err (nil: reads work).
func (h *Host) FailReads(err error) { h.readErr = err }

// Render prints the whole state as sorted `ip`/`sysctl` lines, so tests can
// compare states and golden files can show them.
func (h *Host) Render() string { return h.sim.Render() }

func (h *Host) write() error {
	h.writes++
	if h.failAt != 0 && h.writes == h.failAt {
		return ErrInjected
	}
	return nil
}

// Links implements realserver.Host.
func (h *Host) Links() ([]realserver.Link, error) {
	if err := h.dump("link"); err != nil {
		return nil, err
	}
	return h.sim.Links()
}

// Addrs implements realserver.Host.
func (h *Host) Addrs() ([]realserver.Addr, error) {
	if err := h.dump("address"); err != nil {
		return nil, err
	}
	return h.sim.Addrs()
}

// AddAddr implements realserver.Host.
func (h *Host) AddAddr(a realserver.Addr) error {
	if err := h.write(); err != nil {
		return err
	}
	return h.sim.AddAddr(a)
}

// DelAddr implements realserver.Host.
func (h *Host) DelAddr(a realserver.Addr) error {
	if err := h.write(); err != nil {
		return err
	}
	return h.sim.DelAddr(a)
}

// SetLinkUp implements realserver.Host.
func (h *Host) SetLinkUp(name string, up bool) error {
	if err := h.write(); err != nil {
		return err
	}
	return h.sim.SetLinkUp(name, up)
}

// Sysctl implements realserver.Host.
func (h *Host) Sysctl(k realserver.SysctlKey) (int, error) {
	if h.readErr != nil {
		return 0, h.readErr
	}
	return h.sim.Sysctl(k)
}

// SetSysctl implements realserver.Host.
func (h *Host) SetSysctl(k realserver.SysctlKey, v int) error {
	if err := h.write(); err != nil {
		return err
	}
	return h.sim.SetSysctl(k, v)
}
