package realserver

import (
	"bytes"
	"fmt"
)

// KindNeighSet writes Neigh as a PERMANENT entry (a pinned gateway);
// PrevNeigh is what it replaced. KindNeighDel removes Neigh.
const (
	KindNeighSet Kind = "neigh-set"
	KindNeighDel Kind = "neigh-del"
)

func init() {
	RegisterKind(KindDef{
		Kind:      KindNeighSet,
		Phase:     9,
		DownPhase: 3,
		Run:       func(h Host, c Change) error { return h.SetNeighbor(c.Neigh) },
		Say: func(c Change) string {
			return fmt.Sprintf("ip neigh replace %s lladdr %s dev %s nud permanent", c.Neigh.IP, c.Neigh.MAC, c.Neigh.Link)
		},
		Inverse:  unpin,
		Identity: neighIdentity,
		OwnerKey: func(c Change) string { return "neigh " + c.Neigh.Link + " " + c.Neigh.IP.String() },
		Update: func(old, c Change) (Change, bool) {
			old.Neigh = c.Neigh
			return old, true // a MAC is a slice: not worth comparing
		},
		StillOurs: pinStillOurs,
		Evidence:  true,
		Report: func(_ *View, c Change, m *ModeOwned) (string, error) {
			m.Neighbours = append(m.Neighbours, OwnedNeighbour{Link: c.Neigh.Link, IP: c.Neigh.IP.String(), MAC: c.Neigh.MAC.String()})
			return "", nil
		},
		Subject: func(c Change) string { return "neighbour " + c.Neigh.IP.String() + " on " + c.Neigh.Link },
	})
	RegisterKind(KindDef{
		Kind:      KindNeighDel,
		Phase:     8,
		DownPhase: 3,
		Run:       func(h Host, c Change) error { return h.DelNeighbor(c.Neigh) },
		Say:       func(c Change) string { return fmt.Sprintf("ip neigh del %s dev %s", c.Neigh.IP, c.Neigh.Link) },
		Inverse:   WithKind(KindNeighSet),
		Identity:  neighIdentity,
	})
}

func neighIdentity(c Change) string {
	return string(c.Kind) + " " + c.Neigh.Link + " " + c.Neigh.IP.String()
}

// unpin undoes a pin. A learned entry comes back by itself; only somebody
// else's static entry is worth putting back.
func unpin(c Change) Change {
	inv := c
	if c.PrevNeigh == nil || c.PrevNeigh.State != NeighPermanent {
		inv.Kind, inv.PrevNeigh = KindNeighDel, nil
	} else {
		inv.Neigh, inv.PrevNeigh = *c.PrevNeigh, &c.Neigh
	}
	return inv
}

// pinStillOurs unpins while the entry is the one rsprep pinned.
func pinStillOurs(v *View, c, undo Change) (*Change, string, error) {
	neighs, err := v.Neighbors()
	if err != nil {
		return nil, "", err
	}
	for _, n := range neighs {
		if n.Link == c.Neigh.Link && n.IP == c.Neigh.IP {
			if n.State == NeighPermanent && bytes.Equal(n.MAC, c.Neigh.MAC) {
				return &undo, "", nil
			}
			return nil, fmt.Sprintf("left neighbour %s on %s alone: rsprep pinned %s, it is %s %s now", n.IP, n.Link, c.Neigh.MAC, n.MAC, n.State), nil
		}
	}
	return nil, "", nil
}
