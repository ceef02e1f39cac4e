package tunnel

import (
	"fmt"
	"net/netip"

	"github.com/rsprep/rsprep/realserver"
	"github.com/rsprep/rsprep/realserver/director"
	"github.com/rsprep/rsprep/realserver/input"
)

// A TUN director need not share this host's segment (IP-in-IP crosses
// routers), but the real server must have a route to it: health checks
// come from the DIP and are answered there, and ICMP "fragmentation
// needed" toward the director takes that path too.

// dipHop is the neighbour through which this host reaches the DIP, by the
// main table as the kernel would pick: the most specific route, and of
// equals the lowest metric. On-link, it is the DIP itself.
func dipHop(v *realserver.View, dip netip.Addr) (director.Hop, error) {
	own, err := v.AddrsOf(dip)
	if err != nil {
		return director.Hop{}, err
	}
	if len(own) > 0 {
		return director.Hop{}, input.Errorf("--dip %s is this host's own address (%s on %s): the DIP is the director's address", dip, own[0].Prefix, own[0].Link)
	}
	routes, err := v.Routes()
	if err != nil {
		return director.Hop{}, err
	}
	var best realserver.Route
	found := false
	for _, r := range routes {
		if !r.Dst.Contains(dip) || r.Link == "" {
			continue
		}
		if !found || r.Dst.Bits() > best.Dst.Bits() || (r.Dst.Bits() == best.Dst.Bits() && r.Metric < best.Metric) {
			best, found = r, true
		}
	}
	if !found {
		return director.Hop{}, input.Errorf("--dip %s: this host has no route to it (main table): the real server could not reach the director", dip)
	}
	if best.Gw.IsValid() {
		return director.Hop{Link: best.Link, IP: best.Gw}, nil
	}
	return director.Hop{Link: best.Link, IP: dip}, nil
}

// dipRoute is dip.route: a route to the DIP exists.
func (s TUN) dipRoute() realserver.Invariant {
	return director.DIPCheck("dip.route", s.DIP, "a route to the director", func(v *realserver.View) (string, error) {
		h, err := dipHop(v, s.DIP)
		if err != nil || h.IP == s.DIP {
			return "on-link on " + h.Link, err
		}
		return fmt.Sprintf("via %s dev %s", h.IP, h.Link), nil
	})
}

// dipInvariants are dip.route and dip.reachable (for the next hop).
func (s TUN) dipInvariants() []realserver.Invariant {
	return []realserver.Invariant{s.dipRoute(), director.DIPReachable(s.DIP, func(v *realserver.View) (director.Hop, error) {
		return dipHop(v, s.DIP)
	})}
}
