package director

import (
	"errors"
	"fmt"
	"io/fs"
	"net/netip"

	"github.com/rsprep/rsprep/realserver"
	"github.com/rsprep/rsprep/realserver/input"
)

// Hop is a neighbour this host reaches on the wire: for a DIP, the DIP
// itself when it is on-link, else the router toward it; for arp.Pin, the
// gateway it pins.
type Hop struct {
	Link string
	IP   netip.Addr
}

// DIPReachable is dip.reachable: the director (or, for TUN, the next hop
// toward it) is alive on the wire: it has a live neighbour entry
// (REACHABLE, STALE, DELAY or PERMANENT), or it answers an ARP probe
// within the probe's bound. hop finds the neighbour to ask.
//
// It is an audit: no change of this host makes a director answer, so the
// finding carries no fix. apply does everything else, then reports it
// failing (exit 1), which makes a boot unit fail visibly rather than
// leave a real server that no director reaches.
//
// The probe's answer is part of the observation: one probe per run, which
// every round of an apply reads (see realserver.View.ARPAnswer), and a
// new one for each run, each of watch's passes included.
func DIPReachable(dip netip.Addr, hop func(*realserver.View) (Hop, error)) realserver.Invariant {
	return realserver.Audit(realserver.OnEvents(realserver.CheckFunc(func(v *realserver.View) ([]realserver.Finding, error) {
		f := realserver.Finding{ID: "dip.reachable", Subject: dip.String(), Want: "the director answers"}
		h, err := hop(v)
		var in *input.Error
		if errors.As(err, &in) {
			f.Got = in.Msg
			return []realserver.Finding{f}, nil
		}
		if err != nil {
			return nil, err
		}
		who := "it"
		if h.IP != dip {
			who = "next hop " + h.IP.String()
		}
		f.Want = fmt.Sprintf("%s answers ARP on %s", who, h.Link)
		n, found, err := h.Entry(v)
		if err != nil {
			return nil, err
		}
		if found && Learned(n) {
			f.OK, f.Got = true, fmt.Sprintf("neighbour entry %s lladdr %s", n.State, n.MAC)
			return []realserver.Finding{f}, nil
		}
		_, probeErr := v.ARPAnswer(h.Link, h.IP)
		if errors.Is(probeErr, fs.ErrPermission) {
			return nil, fmt.Errorf("checking dip.reachable: %w", probeErr) // cannot observe, not drift
		}
		if probeErr == nil {
			f.OK, f.Got = true, "answers an ARP probe"
			return []realserver.Finding{f}, nil
		}
		f.Got = "no live neighbour entry"
		if found {
			f.Got = "neighbour entry " + string(n.State)
		}
		f.Got += "; " + probeErr.Error()
		f.Detail = "audit only, rsprep changes nothing for it: check that the director is up and holds " + dip.String()
		return []realserver.Finding{f}, nil
	}), realserver.NeighEventOfSubject, realserver.RouteEventIn(realserver.MainTable)))
}

// Entry is the hop's neighbour entry on its link, if it has one.
func (h Hop) Entry(v *realserver.View) (realserver.Neighbor, bool, error) {
	ns, err := v.Neighbors()
	if err != nil {
		return realserver.Neighbor{}, false, err
	}
	for _, n := range ns {
		if n.Link == h.Link && n.IP == h.IP {
			return n, true, nil
		}
	}
	return realserver.Neighbor{}, false, nil
}

// Learned reports whether an entry holds a MAC worth trusting.
func Learned(n realserver.Neighbor) bool {
	switch n.State {
	case realserver.NeighReachable, realserver.NeighStale, realserver.NeighPermanent:
		return len(n.MAC) == 6
	}
	return false
}
