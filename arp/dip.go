package arp

import (
	"errors"
	"net/netip"

	"github.com/rsprep/rsprep/realserver"
	"github.com/rsprep/rsprep/realserver/input"
)

// The director's address (--dip), as the modes check it: NAT routes every
// reply via it, DR reaches it by MAC only, TUN needs a route to it.

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

// drNeedsL2 is why DR rejects a DIP it cannot reach by MAC.
const drNeedsL2 = "DR needs the director and the real server on one L2 segment (the director rewrites only the destination MAC; across a router it cannot work)"

// L2DIPLink is DIPLink for DR: the DIP must also be on an interface that
// speaks ARP, since the director hands each packet to this host's MAC.
func L2DIPLink(v *realserver.View, dip netip.Addr) (string, error) {
	link, err := DIPLink(v, dip)
	var in *input.Error
	if errors.As(err, &in) {
		return "", input.Errorf("%s: %s", in.Msg, drNeedsL2)
	}
	if err != nil {
		return "", err
	}
	l, _, err := v.Link(link)
	if err != nil {
		return "", err
	}
	if !l.ARPCapable() {
		return "", input.Errorf("--dip %s is on-link only through %s, which does not speak ARP: %s", dip, link, drNeedsL2)
	}
	return link, nil
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
