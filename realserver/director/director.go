// Package director is what every mode checks of the path from this real
// server to its director (--dip): that the DIP is a sound address
// (ValidateDIP), which interface it is on-link through (DIPLink), the
// invariants built on such a lookup (DIPCheck, DIPOnLink), and whether the
// director, or the router toward it, answers on the wire (DIPReachable,
// through a Hop). NAT routes every reply via the DIP, DR reaches it by MAC
// only (arp adds its L2 rule on top of DIPLink), TUN needs a route to it
// (tunnel finds its Hop in the main table).
//
// A Hop is any neighbour this host reaches on the wire, judged by its
// neighbour entry: the pinned gateway of --pin-gateway-arp (package arp)
// is read the same way.
package director

import (
	"errors"
	"net/netip"

	"github.com/rsprep/rsprep/realserver"
	"github.com/rsprep/rsprep/realserver/input"
)

// DIPLink finds the up interface the DIP is on-link through. A DIP that is
// not inside a directly connected subnet cannot be a next hop (the kernel
// refuses the route), and a DIP that is this host's own address is a typo
// that would route every reply into the host itself: both are bad input,
// and the message names what the host does have.
func DIPLink(v *realserver.View, dip netip.Addr) (string, error) {
	own, err := v.AddrsOf(dip.WithZone(""))
	if err != nil {
		return "", err
	}
	if len(own) > 0 {
		return "", input.Errorf("--dip %s is this host's own address (%s on %s): the DIP is the director's address", dip, own[0].Prefix, own[0].Link)
	}
	if err := realserver.CheckHostOnLink(v, "--dip", dip); err != nil {
		return "", err
	}
	link, ok, err := realserver.OnLink(v, dip)
	if err != nil || ok {
		return link, err
	}
	conn, err := realserver.ConnectedOf(v, realserver.Family(dip))
	if err != nil {
		return "", err
	}
	return "", input.Errorf("--dip %s is not on-link: it is in no directly connected subnet of an up interface (%s)", dip, realserver.DescribeConnected(conn))
}

// DIPOnLink is dip.onlink, for verify: an interface that went down since
// apply shows here. find is the mode's rule (DIPLink or L2DIPLink).
func DIPOnLink(dip netip.Addr, find func(*realserver.View, netip.Addr) (string, error)) realserver.Invariant {
	return DIPCheck("dip.onlink", dip, "in a connected subnet of an up interface", func(v *realserver.View) (string, error) {
		link, err := find(v, dip)
		return "on-link on " + link, err
	})
}

// DIPCheck is an invariant about the DIP whose lookup fails with bad input
// when it does not hold (the same lookup preflight rejects with): verify
// reports that input error as what it got.
func DIPCheck(id string, dip netip.Addr, want string, look func(*realserver.View) (got string, err error)) realserver.Invariant {
	return realserver.OnEvents(realserver.CheckFunc(func(v *realserver.View) ([]realserver.Finding, error) {
		f := realserver.Finding{ID: id, Subject: dip.String(), Want: want}
		got, err := look(v)
		var in *input.Error
		switch {
		case errors.As(err, &in):
			f.Got = in.Msg
		case err != nil:
			return nil, err
		default:
			f.OK, f.Got = true, got
		}
		return []realserver.Finding{f}, nil
	}), realserver.AddrEvent, realserver.RouteEventIn(realserver.MainTable))
}

// ValidateDIP rejects, before the host is read, a --dip that cannot be
// the director of a DR or TUN real server. Unset is fine (it is optional).
func ValidateDIP(dip netip.Addr, vips []netip.Addr) error {
	if !dip.IsValid() {
		return nil
	}
	if !dip.Is4() {
		return input.Errorf("--dip %s: the DIP is checked over ARP, which is IPv4 only", dip)
	}
	if err := input.CheckUnicast("--dip", dip); err != nil {
		return err
	}
	for _, ip := range vips {
		if ip == dip {
			return input.Errorf("--dip %s is also a --vip: the DIP is the director's own address, the VIP the service's", dip)
		}
	}
	return nil
}
