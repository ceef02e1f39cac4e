package realserver

import (
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"sort"
)

// Kind names one sort of kernel change; what it does is its KindDef (see
// kind.go), registered by the file that defines it (kind_*.go here,
// tunnel's in tunnel/).
type Kind string

// Change is one planned kernel change, as plain data: it is printed by
// --dry-run, recorded before it runs, undone by rollback and by down.
// Which fields a change uses is its kind's business.
type Change struct {
	Kind      Kind      `json:"kind"`
	Mode      string    `json:"mode,omitempty"`
	Module    string    `json:"module,omitempty"`
	Sysctl    SysctlKey `json:"sysctl,omitzero"`
	From      int       `json:"from,omitempty"`
	To        int       `json:"to,omitempty"`
	Link      string    `json:"link,omitempty"`
	Addr      Addr      `json:"addr,omitzero"`
	Route     Route     `json:"route,omitzero"`
	PrevRoute Route     `json:"prev_route,omitzero"`
	Neigh     Neighbor  `json:"neigh,omitzero"`
	PrevNeigh *Neighbor `json:"prev_neigh,omitempty"`
	Fou       FouPort   `json:"fou,omitzero"`
	Rule      Rule      `json:"rule,omitzero"`
}

// Inverse is the change that undoes c; ok is false for changes rsprep
// never undoes (loading a module).
func (c Change) Inverse() (inv Change, ok bool) {
	d := c.def()
	if d.Inverse == nil {
		return Change{}, false
	}
	return d.Inverse(c), true
}

// Run performs the change on h.
func (c Change) Run(h Host) error { return c.def().Run(h, c) }

// String renders the change as the command an operator would type.
func (c Change) String() string { return c.def().Say(c) }

// identity is what makes two planned changes the same change: two findings
// may each plan "all.arp_ignore=1", and it must run once.
func (c Change) identity() string {
	if d := c.def(); d.Identity != nil {
		return d.Identity(c)
	}
	return c.String()
}

// ownerKey identifies the thing a change owns: one sysctl, one address, one
// default route, one neighbour.
func (c Change) ownerKey() string {
	if d := c.def(); d.OwnerKey != nil {
		return d.OwnerKey(c)
	}
	return c.identity()
}

// recordEntry is what the record keeps of c; keep is false for what down
// never undoes (see the kinds' Record: a module, a shorter prefix of a
// VIP removed, lo brought up).
func (c Change) recordEntry() (entry Change, keep bool) {
	if d := c.def(); d.Record != nil {
		return d.Record(c)
	}
	return c, true
}

// recordable reports whether down should ever undo c.
func recordable(c Change) bool {
	_, keep := c.recordEntry()
	return keep
}

// subject names what c owns, for an operator.
func (c Change) subject() string {
	if d := c.def(); d.Subject != nil {
		return d.Subject(c)
	}
	return c.ownerKey()
}

// logAttrs are what a log line of c carries beside the change itself.
func (c Change) logAttrs() []slog.Attr {
	if d := c.def(); d.LogAttrs != nil {
		return d.LogAttrs(c)
	}
	return nil
}

// failed says that c failed with err.
func (c Change) failed(err error) string {
	if d := c.def(); d.Failed != nil {
		return d.Failed(c, err)
	}
	return fmt.Sprintf("%s: %v", c, err)
}

// IPCommand is the ip command for ip's family: "ip " or "ip -6 ".
func IPCommand(ip netip.Addr) string {
	if ip.Is6() {
		return "ip -6 "
	}
	return "ip "
}

// Plan orders changes by phase and drops repeats, keeping the first.
func Plan(changes []Change) []Change { return plan(slices.Clone(changes)) }

// plan is Plan in place: it reorders and shortens cs, and returns it.
func plan(cs []Change) []Change {
	seen := make(map[string]bool, len(cs))
	out := cs[:0]
	for _, c := range cs {
		id := c.identity()
		if seen[id] {
			continue
		}
		seen[id] = true
		out = append(out, c)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].def().Phase < out[j].def().Phase })
	return out
}

// sortDown orders a teardown's plan by its kinds' DownPhase.
func sortDown(cs []Change) {
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].def().DownPhase < cs[j].def().DownPhase })
}
