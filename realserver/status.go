package realserver

import "strings"

// Owned is what rsprep owns in one network namespace, from its record and
// from the marks on the addresses themselves (rsprep status).
type Owned struct {
	Modes []ModeOwned `json:"modes"`
	Notes []string    `json:"notes,omitempty"`
}

// ModeOwned is what one mode owns. Mode is "" for addresses that carry
// rsprep's tag or label but that no record names (a lost record).
type ModeOwned struct {
	Mode       string           `json:"mode"`
	VIPs       []OwnedVIP       `json:"vips"`
	Sysctls    []OwnedSysctl    `json:"sysctls"`
	Routes     []OwnedRoute     `json:"routes"`
	Neighbours []OwnedNeighbour `json:"neighbours"`
	Links      []string         `json:"links"` // set up by rsprep (tunl0), set down again by down
	// The GUE receive (fou) ports rsprep opens go here, as FouPorts, once
	// --encap gue records them.
}

// OwnedVIP is one address rsprep added. By says how it is known to be
// rsprep's: "record", "tag" (IFA_PROTO), "label", or several.
type OwnedVIP struct {
	VIP     string   `json:"vip"`
	Device  string   `json:"device"`
	Present bool     `json:"present"`
	By      []string `json:"by"`
}

// OwnedSysctl is a sysctl rsprep wrote, with the value it replaced (which
// down restores) and the value now.
type OwnedSysctl struct {
	Key      string `json:"key"`
	Replaced int    `json:"replaced"`
	Wrote    int    `json:"wrote"`
	Now      *int   `json:"now"` // nil: the interface is gone
}

// OwnedRoute is a route rsprep added or replaced, and the one it replaced.
type OwnedRoute struct {
	Route    string `json:"route"`
	Replaced string `json:"replaced,omitempty"`
}

// OwnedNeighbour is a neighbour entry rsprep pinned.
type OwnedNeighbour struct {
	Link string `json:"link"`
	IP   string `json:"ip"`
	MAC  string `json:"mac"`
}

// Ownership reads what rsprep owns here. rec may be nil (unreadable:
// then only the marked addresses are listed). Nothing is changed: a stale
// record (Unproven, nothing of it in place) is reported, not removed.
func Ownership(v *View, rec *Record) (Owned, error) {
	var out Owned
	mode := func(name string) *ModeOwned {
		for i := range out.Modes {
			if out.Modes[i].Mode == name {
				return &out.Modes[i]
			}
		}
		out.Modes = append(out.Modes, ModeOwned{Mode: name, VIPs: []OwnedVIP{}, Sysctls: []OwnedSysctl{}, Routes: []OwnedRoute{}, Neighbours: []OwnedNeighbour{}, Links: []string{}})
		return &out.Modes[len(out.Modes)-1]
	}
	addrs, err := v.Addrs()
	if err != nil {
		return out, err
	}
	if rec != nil {
		if err := rec.decode(); err != nil {
			return out, err
		}
	}
	var changes []Change
	switch {
	case rec == nil:
		out.Notes = append(out.Notes, "the record is unreadable (needs root): only addresses marked as rsprep's are listed")
	case rec.absent:
		out.Notes = append(out.Notes, "no record here: rsprep knows only the addresses marked as its own; if a record was lost, rsprep down MODE names what it cannot restore")
	case rec.Unproven:
		in, err := rec.anyInPlace(v)
		if err != nil {
			return out, err
		}
		if in {
			changes = rec.Changes
		} else {
			out.Notes = append(out.Notes, "the record here is stale (a freed namespace's, whose inode this one reuses): the next apply or down removes it")
		}
	default:
		changes = rec.Changes
	}
	listed := map[Addr]bool{} // by link and prefix
	for _, c := range changes {
		if c.Kind == KindAddrAdd { // the VIPs: marked ones no record names are listed below
			listed[Addr{Link: c.Addr.Link, Prefix: c.Addr.Prefix}] = true
		}
		m := mode(c.Mode) // listed, even if its kind reports nothing
		report := c.def().Report
		if report == nil {
			continue
		}
		note, err := report(v, c, m)
		if err != nil {
			return out, err
		}
		if note != "" {
			out.Notes = append(out.Notes, note)
		}
	}
	for _, a := range addrs {
		if a.Ours() && !listed[Addr{Link: a.Link, Prefix: a.Prefix}] {
			m := mode("")
			m.VIPs = append(m.VIPs, OwnedVIP{VIP: a.Prefix.Addr().String(), Device: a.Link, Present: true, By: marks(a)})
		}
	}
	if out.Modes == nil {
		out.Modes = []ModeOwned{}
	}
	return out, nil
}

// marks says which of rsprep's marks an address carries.
func marks(a Addr) []string {
	var by []string
	if a.Proto == AddrProto {
		by = append(by, "tag")
	}
	if strings.HasSuffix(a.Label, ":rsprep") {
		by = append(by, "label")
	}
	return by
}
