// Package fake is an in-memory realserver.Host that follows the kernel's
// rules where they matter to rsprep: sysctl value ranges, new interfaces
// inheriting conf/default, connected routes from addresses, a gateway must
// be on-link, labels must start with the device name, ipip creating a down
// NOARP tunl0. Seeding helpers and fault injection are not part of the
// Host interface.
package fake

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"syscall"

	"github.com/rsprep/rsprep/realserver"
)

// ErrInjected is the error of a call failed on purpose.
var ErrInjected = errors.New("injected fault")

// Host is the fake. The zero value is not usable: call New.
type Host struct {
	links   []realserver.Link
	addrs   []realserver.Addr
	sysctls map[string]int  // by SysctlKey.Path()
	ownSet  map[string]bool // per-interface keys written explicitly
	routes  []realserver.Route
	neighs  []realserver.Neighbor
	wire    map[netip.Addr]net.HardwareAddr // who answers ARP on the network
	modules map[string]bool                 // loadable modules
	loaded  map[string]bool
	fou     []realserver.FouPort
	rules   []realserver.Rule
	modes   map[string]realserver.TunnelMode // ip6tnl devices' modes

	writes    int   // mutating calls so far
	failAt    int   // fail the failAt-th mutating call (0: never)
	readErr   error // every read fails with it (cannot observe)
	nextIndex int
}

// sysctlNames are the per-interface IPv4 keys the fake knows, with the
// values the kernel accepts.
var sysctlNames = map[string]func(int) bool{
	"arp_ignore":   func(v int) bool { return (v >= 0 && v <= 3) || v == 8 },
	"arp_announce": func(v int) bool { return v >= 0 && v <= 2 },
	"rp_filter":    func(v int) bool { return v >= 0 && v <= 2 },
	forwarding:     nil, // any integer; see forwarding.go
}

// New returns a fresh namespace: lo (down, as in a new netns), all and
// default at the kernel's defaults (0).
func New() *Host {
	h := &Host{sysctls: map[string]int{}, ownSet: map[string]bool{}, wire: map[netip.Addr]net.HardwareAddr{}, modules: map[string]bool{}, loaded: map[string]bool{}, modes: map[string]realserver.TunnelMode{}, nextIndex: 1}
	for name := range sysctlNames {
		h.sysctls[realserver.SysctlKey{Iface: "all", Name: name}.Path()] = 0
		h.sysctls[realserver.SysctlKey{Iface: "default", Name: name}.Path()] = 0
	}
	for _, iface := range []string{"all", "default"} {
		h.sysctls[realserver.SysctlKey{Family: "ipv6", Iface: iface, Name: forwarding}.Path()] = 0
	}
	h.AddLink(realserver.Link{Name: "lo", Type: "device", Loopback: true})
	h.AddAddrRaw(realserver.Addr{Link: "lo", Prefix: netip.MustParsePrefix("127.0.0.1/8")})
	return h
}

// AddLink creates an interface; its sysctls start as conf/default's values.
func (h *Host) AddLink(l realserver.Link) {
	l.Index = h.nextIndex
	h.nextIndex++
	h.links = append(h.links, l)
	for name := range sysctlNames {
		h.sysctls[realserver.SysctlKey{Iface: l.Name, Name: name}.Path()] = h.sysctls[realserver.SysctlKey{Iface: "default", Name: name}.Path()]
	}
	h.addForwardingKeys(l.Name)
}

// AddAddrRaw seeds an address without rules or counting.
func (h *Host) AddAddrRaw(a realserver.Addr) {
	h.addrs = append(h.addrs, a)
	h.freezeConf(a)
}

// freezeConf mirrors ipv4_devconf_setall: once an interface has an IPv4
// address, all its conf values count as set, and writes to conf/default no
// longer reach it.
func (h *Host) freezeConf(a realserver.Addr) {
	if !a.Prefix.Addr().Is4() {
		return
	}
	for name := range sysctlNames {
		h.ownSet[realserver.SysctlKey{Iface: a.Link, Name: name}.Path()] = true
	}
}

// SetSysctlRaw seeds a sysctl as if written explicitly (no propagation).
func (h *Host) SetSysctlRaw(iface, name string, v int) {
	p := realserver.SysctlKey{Iface: iface, Name: name}.Path()
	h.sysctls[p] = v
	h.ownSet[p] = true
}

// AddRouteRaw seeds a route.
func (h *Host) AddRouteRaw(r realserver.Route) { h.routes = append(h.routes, r) }

// AddNeighborRaw seeds a neighbour entry.
func (h *Host) AddNeighborRaw(n realserver.Neighbor) { h.neighs = append(h.neighs, n) }

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

// FailReads makes every read fail with err (nil: reads work).
func (h *Host) FailReads(err error) { h.readErr = err }

func (h *Host) write() error {
	h.writes++
	if h.failAt != 0 && h.writes == h.failAt {
		return ErrInjected
	}
	return nil
}

func (h *Host) findLink(name string) int {
	return slices.IndexFunc(h.links, func(l realserver.Link) bool { return l.Name == name })
}

// Links implements realserver.Host.
func (h *Host) Links() ([]realserver.Link, error) {
	if h.readErr != nil {
		return nil, h.readErr
	}
	return slices.Clone(h.links), nil
}

// Addrs implements realserver.Host.
func (h *Host) Addrs() ([]realserver.Addr, error) {
	if h.readErr != nil {
		return nil, h.readErr
	}
	return slices.Clone(h.addrs), nil
}

// AddAddr implements realserver.Host.
func (h *Host) AddAddr(a realserver.Addr) error {
	if err := h.write(); err != nil {
		return err
	}
	if h.findLink(a.Link) < 0 {
		return fmt.Errorf("adding %s to %s: %w", a.Prefix, a.Link, syscall.ENODEV)
	}
	if a.Label != "" && (a.Prefix.Addr().Is6() || !strings.HasPrefix(a.Label, a.Link)) {
		return fmt.Errorf("label %q must start with %s: %w", a.Label, a.Link, syscall.EINVAL)
	}
	if slices.ContainsFunc(h.addrs, func(x realserver.Addr) bool { return x.Link == a.Link && x.Prefix == a.Prefix }) {
		return nil
	}
	h.addrs = append(h.addrs, a)
	h.freezeConf(a)
	return nil
}

// DelAddr implements realserver.Host.
func (h *Host) DelAddr(a realserver.Addr) error {
	if err := h.write(); err != nil {
		return err
	}
	h.addrs = slices.DeleteFunc(h.addrs, func(x realserver.Addr) bool { return x.Link == a.Link && x.Prefix == a.Prefix })
	return nil
}

// SetLinkUp implements realserver.Host.
func (h *Host) SetLinkUp(name string, up bool) error {
	if err := h.write(); err != nil {
		return err
	}
	i := h.findLink(name)
	if i < 0 {
		return fmt.Errorf("link %s: %w", name, syscall.ENODEV)
	}
	h.links[i].Up = up
	if !up { // the kernel flushes a downed device's neighbour entries
		h.neighs = slices.DeleteFunc(h.neighs, func(n realserver.Neighbor) bool { return n.Link == name })
	}
	return nil
}

// Sysctl implements realserver.Host.
func (h *Host) Sysctl(k realserver.SysctlKey) (int, error) {
	if h.readErr != nil {
		return 0, h.readErr
	}
	v, ok := h.sysctls[canonical(k.Path())]
	if !ok {
		return 0, fmt.Errorf("open /proc/sys/%s: %w", k.Path(), syscall.ENOENT)
	}
	return v, nil
}

// SetSysctl implements realserver.Host.
func (h *Host) SetSysctl(k realserver.SysctlKey, v int) error {
	if err := h.write(); err != nil {
		return err
	}
	path := canonical(k.Path())
	old, ok := h.sysctls[path]
	if !ok {
		return fmt.Errorf("open /proc/sys/%s: %w", k.Path(), syscall.ENOENT)
	}
	if valid := sysctlNames[k.Name]; valid != nil && !valid(v) {
		return fmt.Errorf("write /proc/sys/%s=%d: %w", k.Path(), v, syscall.EINVAL)
	}
	h.sysctls[path] = v
	h.ownSet[path] = true
	if k.Name == forwarding || k == realserver.IPForward {
		h.forwardingWritten(path, old, v)
		return nil
	}
	if k.Iface == "default" {
		// As devinet_copy_dflt_conf does: a write to default reaches every
		// interface whose own value was never written.
		for _, l := range h.links {
			lk := realserver.SysctlKey{Iface: l.Name, Name: k.Name}.Path()
			if !h.ownSet[lk] {
				h.sysctls[lk] = v
			}
		}
	}
	return nil
}
