package realserver

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"

	"github.com/rsprep/rsprep/realserver/input"
)

// Finding is the result of checking one invariant for one subject.
type Finding struct {
	ID      string   `json:"id"`
	Subject string   `json:"subject"`
	OK      bool     `json:"ok"`
	Want    string   `json:"want"`
	Got     string   `json:"got"`
	Detail  string   `json:"detail,omitempty"`
	Fix     []Change `json:"-"` // what apply would run; empty when OK
}

// Invariant is one rule a mode makes true. Check observes, never changes,
// and returns a finding per subject, passing or not: an audit reports
// everything. An error means the host could not be observed, which is not
// drift.
type Invariant interface {
	Check(v *View) ([]Finding, error)
}

// CheckFunc adapts a function to Invariant.
type CheckFunc func(v *View) ([]Finding, error)

// Check calls f.
func (f CheckFunc) Check(v *View) ([]Finding, error) { return f(v) }

// View is one observation of a host (see Observe), each kind read at most
// once: one link dump, one address dump, each sysctl read once. Links are read
// before any other table: the kernel host names an address's, route's or
// neighbour's link from its last link dump, so reading links first makes
// this observation's link dump the only one.
type View struct {
	host    Host
	links   []Link
	addrs   []Addr
	byIP    map[netip.Addr]int    // index in addrs of the first address with this IP
	shared  map[netip.Addr][]Addr // the IPs on more than one address (rare), all of them
	scans   int                   // AddrsOf calls answered by a scan, before byIP (see addrindex.go)
	routes  []Route
	neighs  []Neighbor
	sysctls map[SysctlKey]int
	fou     []FouPort
	rules   []Rule
	tables  map[[2]int][]Route // by family and table
	modes   map[string]TunnelMode
	// loaded: which tables were read. Fields, not a map keyed by name:
	// the per-VIP checks ask on every call, 30,000 times at 10,000 VIPs.
	loaded  struct{ links, addrs, routes, rules, fou, neighs bool }
	records *recordRead // rsprep's record of the namespace (see Records); nil: none
	arp     map[Question]Answer
}

// NewView starts an observation of h that reads every table on first use
// and has no record (Observe is a run's).
func NewView(h Host) *View {
	return &View{host: h, sysctls: map[SysctlKey]int{}, modes: map[string]TunnelMode{}, tables: map[[2]int][]Route{}, arp: map[Question]Answer{}}
}

// Links returns every interface.
func (v *View) Links() ([]Link, error) {
	if !v.loaded.links {
		l, err := v.host.Links()
		if err != nil {
			return nil, fmt.Errorf("listing links: %w", err)
		}
		v.links, v.loaded.links = l, true
	}
	return v.links, nil
}

// Link finds one interface by name.
func (v *View) Link(name string) (Link, bool, error) {
	links, err := v.Links()
	if err != nil {
		return Link{}, false, err
	}
	for _, l := range links {
		if l.Name == name {
			return l, true, nil
		}
	}
	return Link{}, false, nil
}

// Addrs returns every address of every interface.
func (v *View) Addrs() ([]Addr, error) {
	if !v.loaded.addrs {
		if _, err := v.Links(); err != nil {
			return nil, err
		}
		a, err := v.host.Addrs()
		if err != nil {
			return nil, fmt.Errorf("listing addresses: %w", err)
		}
		v.addrs, v.loaded.addrs = a, true
		v.byIP, v.shared, v.scans = nil, nil, 0 // indexed on demand (see AddrsOf)
	}
	return v.addrs, nil
}

// AddrsOf returns the interfaces' addresses equal to ip (parsed, never a
// substring match: 10.0.0.1 is not 10.0.0.10). The first few calls of a
// view scan its addresses; after them it indexes them (see addrindex.go).
func (v *View) AddrsOf(ip netip.Addr) ([]Addr, error) {
	if _, err := v.Addrs(); err != nil {
		return nil, err
	}
	if v.byIP == nil && v.scans < maxScans {
		v.scans++
		return v.scan(ip), nil
	}
	if v.byIP == nil {
		v.index()
	}
	if shared, ok := v.shared[ip]; ok {
		return shared, nil
	}
	if i, ok := v.byIP[ip]; ok {
		return v.addrs[i : i+1 : i+1], nil // read-only, as ever; capped so an append copies
	}
	return nil, nil
}

// Sysctl reads one sysctl.
func (v *View) Sysctl(k SysctlKey) (int, error) {
	if x, ok := v.sysctls[k]; ok {
		return x, nil
	}
	x, err := v.host.Sysctl(k)
	if err != nil {
		return 0, fmt.Errorf("reading %s: %w", k.Dotted(), err)
	}
	v.sysctls[k] = x
	return x, nil
}

// Routes returns the IPv4 routes of the main table.
func (v *View) Routes() ([]Route, error) {
	if !v.loaded.routes {
		if _, err := v.Links(); err != nil {
			return nil, err
		}
		r, err := v.host.Routes()
		if err != nil {
			return nil, fmt.Errorf("listing routes: %w", err)
		}
		v.routes, v.loaded.routes = r, true
	}
	return v.routes, nil
}

// TableRoutes returns the routes of family fam (4 or 6) of a table (0: main).
func (v *View) TableRoutes(fam, table int) ([]Route, error) {
	if fam == 4 && table == 0 {
		return v.Routes()
	}
	key := [2]int{fam, table}
	if r, ok := v.tables[key]; ok {
		return r, nil
	}
	if _, err := v.Links(); err != nil {
		return nil, err
	}
	r, err := v.host.TableRoutes(fam, table)
	if err != nil {
		return nil, fmt.Errorf("listing the IPv%d routes of table %d: %w", fam, table, err)
	}
	v.tables[key] = r
	return r, nil
}

// Rules returns the policy routing rules of both families.
func (v *View) Rules() ([]Rule, error) {
	if !v.loaded.rules {
		r, err := v.host.Rules()
		if err != nil {
			return nil, fmt.Errorf("listing rules: %w", err)
		}
		v.rules, v.loaded.rules = r, true
	}
	return v.rules, nil
}

// FouPorts returns the fou receive ports.
func (v *View) FouPorts() ([]FouPort, error) {
	if !v.loaded.fou {
		p, err := v.host.FouPorts()
		if err != nil {
			return nil, fmt.Errorf("listing fou ports: %w", err)
		}
		v.fou, v.loaded.fou = p, true
	}
	return v.fou, nil
}

// TunnelMode returns the mode of an ip6tnl device.
func (v *View) TunnelMode(link string) (TunnelMode, error) {
	if m, ok := v.modes[link]; ok {
		return m, nil
	}
	m, err := v.host.TunnelMode(link)
	if err != nil {
		return 0, fmt.Errorf("reading the tunnel mode of %s: %w", link, err)
	}
	v.modes[link] = m
	return m, nil
}

// Neighbors returns the IPv4 neighbour entries.
func (v *View) Neighbors() ([]Neighbor, error) {
	if !v.loaded.neighs {
		if _, err := v.Links(); err != nil {
			return nil, err
		}
		n, err := v.host.Neighbors()
		if err != nil {
			return nil, fmt.Errorf("listing neighbours: %w", err)
		}
		v.neighs, v.loaded.neighs = n, true
	}
	return v.neighs, nil
}

// Verify checks every invariant and returns every finding; it stops only
// when the host cannot be observed.
func Verify(h Host, invs []Invariant) ([]Finding, error) {
	return NewView(h).Verify(invs)
}

// Verify checks every invariant against this view and returns every
// finding; it stops only when the host cannot be observed. What the view
// has read already (for the mode's preflight) is not read again.
func (v *View) Verify(invs []Invariant) ([]Finding, error) {
	// Joined once at the end: appended as they came, 20,000 findings of
	// 10,000 VIPs were copied over and over as the list grew.
	each := make([][]Finding, 0, len(invs))
	for _, inv := range invs {
		f, err := inv.Check(v)
		if err != nil {
			return slices.Concat(each...), &ObserveError{Err: err}
		}
		each = append(each, f)
	}
	if len(each) == 1 {
		return each[0], nil
	}
	return slices.Concat(each...), nil
}

// AllOK reports whether every finding passed.
func AllOK(fs []Finding) bool {
	for _, f := range fs {
		if !f.OK {
			return false
		}
	}
	return true
}

// ErrKeepsChanging means a table changed under every one of a bounded
// number of dumps of it. Usually another rsprep is writing the namespace:
// the caller then waits its turn on the namespace's lock and observes again.
var ErrKeepsChanging = errors.New("the table keeps changing")

// ObserveError means the host could not be read: exit 3, never "drift".
type ObserveError struct{ Err error }

func (e *ObserveError) Error() string { return "cannot observe the host: " + e.Err.Error() }
func (e *ObserveError) Unwrap() error { return e.Err }

// KeepInput is for a preflight: bad input stays bad input (exit 2), any
// other error is a host that could not be observed (exit 3).
func KeepInput(err error) error {
	var in *input.Error
	if err == nil || errors.As(err, &in) {
		return err
	}
	return &ObserveError{Err: err}
}
