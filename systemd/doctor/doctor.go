// Package doctor predicts what on a host will undo its real-server state:
// sysctl.d files that `sysctl --system` (or udev, for a new interface)
// re-applies, systemd-networkd, NetworkManager, cloud-init and netplan
// configuration, DHCP and router advertisements, ARP answered by someone
// else, a boot that will not re-apply rsprep.
//
// It is read-only by construction: it reads files under a root directory
// and takes the few live facts it needs (interfaces, live sysctl values,
// running processes) as data, so that a test can pass a tree and facts
// and expect the same report every time. What a mode needs comes from the
// mode's package as a realserver.Footprint.
package doctor

import (
	"cmp"
	"net/netip"
	"slices"

	"github.com/rsprep/rsprep/realserver"
)

// Finding is one risk: a stable ID, where it comes from (file:line, unit
// or process), what it will do, and the fix.
type Finding struct {
	ID      string `json:"id"`
	Source  string `json:"source"`
	Subject string `json:"subject,omitempty"`
	What    string `json:"what"`
	Fix     string `json:"fix"`
}

// Report is a doctor run's result; its JSON form is the stable schema of
// `rsprep doctor -o json`.
type Report struct {
	Schema   int       `json:"schema"` // the version of cmd/rsprep/schema/rsprep.schema.json, set by WriteJSON
	Mode     string    `json:"mode"`
	Root     string    `json:"root"`
	OK       bool      `json:"ok"`
	Findings []Finding `json:"findings"`
}

// Input is everything doctor looks at.
type Input struct {
	Mode      string
	Footprint realserver.Footprint
	// Root is where configuration files are read ("/" on a live host).
	Root  string
	Facts Facts
}

// Run reads the configuration under in.Root and returns every risk it
// finds. An error means a file exists but cannot be read.
func Run(in Input) (Report, error) {
	t := tree{root: cmp.Or(in.Root, "/")}
	d := &doctor{in: in, t: t, facts: in.Facts}
	checks := []func() error{
		d.sysctls,
		d.networkd,
		d.networkManager,
		d.cloudInit,
		d.netplan,
		d.arp,
		d.boot,
	}
	for _, c := range checks {
		if err := c(); err != nil {
			return Report{}, err
		}
	}
	slices.SortStableFunc(d.out, func(a, b Finding) int {
		return cmp.Or(cmp.Compare(a.ID, b.ID), cmp.Compare(a.Source, b.Source), cmp.Compare(a.Subject, b.Subject))
	})
	return Report{Mode: in.Mode, Root: t.root, OK: len(d.out) == 0, Findings: nonNil(d.out)}, nil
}

// doctor is one run's state: what it reads and what it found.
type doctor struct {
	in    Input
	t     tree
	facts Facts
	sd    *SysctlD // sysctl.d as `sysctl --system` would apply it
	out   []Finding
}

// uplink is the interface NAT's default route leaves by (its subnet
// holds the DIP, the IPv4 one of a dual-stack run); "" in dr and tun, or
// when no interface holds it.
func (d *doctor) uplink() string {
	for _, via := range []netip.Addr{d.in.Footprint.DefaultVia, d.in.Footprint.DefaultVia6} {
		if up, ok := d.facts.uplink(via); via.IsValid() && ok {
			return up.Name
		}
	}
	return ""
}

func (d *doctor) add(f Finding) { d.out = append(d.out, f) }

func nonNil(fs []Finding) []Finding {
	if fs == nil {
		return []Finding{}
	}
	return fs
}
