package realserver

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"syscall"
)

// Sim is an in-memory Host that follows the kernel's rules where rsprep
// depends on them: sysctl value ranges, a new interface inheriting
// conf/default, a write to conf/default reaching every interface whose own
// value was never set, connected routes from addresses, a gateway must be
// on-link, labels must start with the device name, ipip creating a down
// NOARP tunl0, a downed device losing its neighbour entries.
//
// A dry run runs apply, every round of it, against a Sim seeded from the
// host's first observation (NewSim), so that its plan holds what only an
// earlier change makes visible: loading ipip creates tunl0, which the next
// round brings up, tunes and binds the VIPs to. What a Sim cannot know it
// takes from the kernel's defaults: a module loads and creates its device
// (as in the first namespace), and nothing else (udev applying sysctl.d to
// the new device) writes in between. realserver/fake is a Sim seeded with
// a fresh namespace, plus fault injection, for tests.
type Sim struct {
	seed    *View // what the simulation started from; nil: a fresh namespace
	have    map[string]bool
	links   []Link
	addrs   []Addr
	sysctls map[string]int  // by SysctlKey.Path(): written, or read from seed
	ownSet  map[string]bool // per-interface keys the kernel counts as set
	made    map[string]bool // interfaces the simulation created
	routes  []Route         // besides the connected ones (see connected)
	neighs  []Neighbor
	rules   []Rule
	fou     []FouPort
	modes   map[string]TunnelMode // ip6tnl devices' modes
	loaded  map[string]bool       // modules
	next    int
}

// simSysctls are the per-interface IPv4 keys rsprep touches, with the
// values the kernel accepts.
var simSysctls = map[string]func(int) bool{
	"arp_ignore":   func(v int) bool { return (v >= 0 && v <= 3) || v == 8 },
	"arp_announce": func(v int) bool { return v >= 0 && v <= 2 },
	"rp_filter":    func(v int) bool { return v >= 0 && v <= 2 },
	forwarding:     nil, // any integer; see sim_forwarding.go
}

// NewSim simulates the host seed observed: reads go to seed (so to its
// cache, then to the host) until the simulation changes what they read.
// A nil seed is a fresh network namespace: lo down with 127.0.0.1/8, conf
// all and default at the kernel's defaults (0).
func NewSim(seed *View) *Sim {
	s := &Sim{seed: seed, have: map[string]bool{}, sysctls: map[string]int{}, ownSet: map[string]bool{}, made: map[string]bool{}, modes: map[string]TunnelMode{}, loaded: map[string]bool{}, next: 1}
	if seed != nil {
		return s
	}
	for name := range simSysctls {
		s.sysctls[SysctlKey{Iface: "all", Name: name}.Path()] = 0
		s.sysctls[SysctlKey{Iface: "default", Name: name}.Path()] = 0
	}
	for _, iface := range []string{"all", "default"} {
		s.sysctls[SysctlKey{Family: "ipv6", Iface: iface, Name: forwarding}.Path()] = 0
	}
	s.AddLink(Link{Name: "lo", Type: "device", Loopback: true})
	s.SeedAddr(Addr{Link: "lo", Prefix: netip.MustParsePrefix("127.0.0.1/8")})
	return s
}

// load reads one kind of state from the seed the first time it is needed.
func (s *Sim) load(kind string) error {
	if s.have[kind] || s.seed == nil { // a fresh namespace has it all
		return nil
	}
	var err error
	switch kind {
	case "links":
		var ls []Link
		if ls, err = s.seed.Links(); err == nil {
			s.links = slices.Clone(ls)
			for _, l := range ls {
				s.next = max(s.next, l.Index+1)
			}
		}
	case "addrs":
		var as []Addr
		if as, err = s.seed.Addrs(); err == nil {
			s.addrs = slices.Clone(as)
			for _, a := range as {
				s.freezeConf(a)
			}
		}
	case "routes", "routes6": // main's IPv4, IPv6 routes
		fam := map[string]int{"routes": 4, "routes6": 6}[kind]
		var rs []Route
		if rs, err = s.seed.TableRoutes(fam, 0); err == nil {
			// Connected routes follow the addresses (see connected);
			// the kernel's other device routes (sit0's ::/96) stay, shown
			// while their device is up (see TableRoutes).
			s.routes = append(s.routes, slices.DeleteFunc(slices.Clone(rs), s.addressRoute)...)
		}
	case "neighs":
		var ns []Neighbor
		if ns, err = s.seed.Neighbors(); err == nil {
			s.neighs = slices.Clone(ns)
		}
	case "rules":
		var rs []Rule
		if rs, err = s.seed.Rules(); err == nil {
			s.rules = slices.Clone(rs)
		}
	default: // "table F N": the routes of family F of another table than main
		var fam, table int
		fmt.Sscanf(kind, "table %d %d", &fam, &table)
		var rs []Route
		if rs, err = s.seed.TableRoutes(fam, table); err == nil {
			s.routes = append(s.routes, rs...)
		}
	}
	if err != nil {
		return err
	}
	s.have[kind] = true
	return nil
}

func (s *Sim) findLink(name string) int {
	return slices.IndexFunc(s.links, func(l Link) bool { return l.Name == name })
}

// Links implements Host.
func (s *Sim) Links() ([]Link, error) {
	if err := s.load("links"); err != nil {
		return nil, err
	}
	return slices.Clone(s.links), nil
}

// Addrs implements Host.
func (s *Sim) Addrs() ([]Addr, error) {
	if err := s.load("addrs"); err != nil {
		return nil, err
	}
	return slices.Clone(s.addrs), nil
}

// AddAddr implements Host.
func (s *Sim) AddAddr(a Addr) error {
	if err := errors.Join(s.load("links"), s.load("addrs")); err != nil {
		return err
	}
	if s.findLink(a.Link) < 0 {
		return fmt.Errorf("adding %s to %s: %w", a.Prefix, a.Link, syscall.ENODEV)
	}
	if a.Label != "" && (a.Prefix.Addr().Is6() || !strings.HasPrefix(a.Label, a.Link)) {
		return fmt.Errorf("label %q must start with %s: %w", a.Label, a.Link, syscall.EINVAL)
	}
	if slices.ContainsFunc(s.addrs, func(x Addr) bool { return x.Link == a.Link && x.Prefix == a.Prefix }) {
		return nil
	}
	s.addrs = append(s.addrs, a)
	s.freezeConf(a)
	return nil
}

// DelAddr implements Host.
func (s *Sim) DelAddr(a Addr) error {
	if err := s.load("addrs"); err != nil {
		return err
	}
	s.addrs = slices.DeleteFunc(s.addrs, func(x Addr) bool { return x.Link == a.Link && x.Prefix == a.Prefix })
	return nil
}

// SetLinkUp implements Host.
func (s *Sim) SetLinkUp(name string, up bool) error {
	if err := errors.Join(s.load("links"), s.load("neighs")); err != nil {
		return err
	}
	i := s.findLink(name)
	if i < 0 {
		return fmt.Errorf("link %s: %w", name, syscall.ENODEV)
	}
	s.links[i].Up = up
	if !up { // the kernel flushes a downed device's neighbour entries
		s.neighs = slices.DeleteFunc(s.neighs, func(n Neighbor) bool { return n.Link == name })
	}
	return nil
}

// Sysctl implements Host.
func (s *Sim) Sysctl(k SysctlKey) (int, error) {
	p := canonical(k.Path())
	if v, ok := s.sysctls[p]; ok {
		return v, nil
	}
	if s.seed == nil || s.made[k.Iface] {
		return 0, fmt.Errorf("open /proc/sys/%s: %w", k.Path(), syscall.ENOENT)
	}
	v, err := s.seed.Sysctl(k)
	if err != nil {
		return 0, err
	}
	s.sysctls[p] = v
	return v, nil
}

// SetSysctl implements Host.
func (s *Sim) SetSysctl(k SysctlKey, v int) error {
	old, err := s.Sysctl(k)
	if err != nil {
		return err
	}
	if valid := simSysctls[k.Name]; valid != nil && !valid(v) {
		return fmt.Errorf("write /proc/sys/%s=%d: %w", k.Path(), v, syscall.EINVAL)
	}
	path := canonical(k.Path())
	s.sysctls[path] = v
	s.ownSet[path] = true
	if k.Name == forwarding || k == IPForward {
		return s.forwardingWritten(path, old, v)
	}
	if k.Iface != "default" {
		return nil
	}
	// As devinet_copy_dflt_conf does: a write to default reaches every
	// interface whose own value was never written.
	if err := errors.Join(s.load("links"), s.load("addrs")); err != nil {
		return err
	}
	for _, l := range s.links {
		lk := SysctlKey{Iface: l.Name, Name: k.Name}.Path()
		if !s.ownSet[lk] {
			s.sysctls[lk] = v
		}
	}
	return nil
}

// Resolve implements Host: the question goes to the seed's observation of
// the network (an ARP probe there is a read, not a change, and its answer
// is shared with the seed's checks); a fresh namespace has no network.
func (s *Sim) Resolve(link string, ip netip.Addr) (net.HardwareAddr, error) {
	if s.seed == nil {
		return nil, fmt.Errorf("no ARP answer from %s on %s", ip, link)
	}
	return s.seed.ARPAnswer(link, ip)
}
