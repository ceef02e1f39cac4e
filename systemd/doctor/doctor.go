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
	"fmt"
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

// Report is a doctor run's result; cmd/rsprep writes it as text or as
// the stable JSON schema of `rsprep doctor -o json`.
type Report struct {
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
// finds. A file that exists but cannot be read or parsed is a finding
// (file.unreadable), never a silent pass.
func Run(in Input) (Report, error) {
	t := newTree(cmp.Or(in.Root, "/"))
	d := &doctor{in: in, t: t, facts: in.Facts}
	checks := []func(){
		d.sysctls,
		d.networkd,
		d.networkManager,
		d.cloudInit,
		d.netplan,
		d.ifupdown,
		d.arp,
		d.boot,
		d.uplinkKnown,
	}
	for _, c := range checks {
		c()
	}
	d.out = append(d.out, *t.unread...)
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
	up, _ := d.uplinkLink()
	return up.Name
}

// uplinkLink is uplink's interface.
func (d *doctor) uplinkLink() (Link, bool) {
	for _, via := range []netip.Addr{d.in.Footprint.DefaultVia, d.in.Footprint.DefaultVia6} {
		if up, ok := d.facts.uplink(via); via.IsValid() && ok {
			return up, true
		}
	}
	return Link{}, false
}

func (d *doctor) add(f Finding) { d.out = append(d.out, f) }

// uplinkKnown: NAT's checks of the uplink (networkd, NetworkManager,
// netplan, ifupdown, accept_ra) need to know which interface it is; when
// no interface here holds the DIP's subnet (an image audited with --root
// on another host, or a DIP not on-link) they could not run, and doctor
// says so instead of passing.
func (d *doctor) uplinkKnown() {
	if via := cmp.Or(d.in.Footprint.DefaultVia, d.in.Footprint.DefaultVia6); via.IsValid() && d.uplink() == "" {
		d.add(Finding{
			ID: "uplink.unknown", Source: "this host's interfaces", Subject: via.String(),
			What: fmt.Sprintf("no interface here has an address in the subnet of the DIP %s, so the uplink is unknown and its checks (DHCP and router advertisements in networkd, NetworkManager, netplan, ifupdown; networkd's foreign routes; accept_ra) did not run", via),
			Fix:  "run doctor where the uplink is (on the real server, or with --netns), or check that the DIP is on-link (rsprep nat refuses a DIP that is not)",
		})
	}
}

func nonNil(fs []Finding) []Finding {
	if fs == nil {
		return []Finding{}
	}
	return fs
}
