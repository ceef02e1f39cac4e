package nat

import (
	"errors"
	"net/netip"

	"github.com/rsprep/rsprep/realserver"
)

// dipLink finds the up interface the DIP is on-link through. A DIP that is
// not inside a directly connected subnet cannot be a next hop (the kernel
// refuses the route), and a DIP that is this host's own address is a typo
// that would route every reply into the host itself: both are bad input,
// and the message names what the host does have.
func dipLink(v *realserver.View, dip netip.Addr) (string, error) {
	own, err := v.AddrsOf(dip)
	if err != nil {
		return "", err
	}
	if len(own) > 0 {
		return "", realserver.Inputf("--dip %s is this host's own address (%s on %s): the DIP is the director's address", dip, own[0].Prefix, own[0].Link)
	}
	if err := realserver.CheckHostOnLink(v, "--dip", dip); err != nil {
		return "", err
	}
	link, ok, err := realserver.OnLink(v, dip)
	if err != nil || ok {
		return link, err
	}
	conn, err := realserver.Connected(v)
	if err != nil {
		return "", err
	}
	return "", realserver.Inputf("--dip %s is not on-link: it is in no directly connected subnet of an up interface (%s)", dip, realserver.DescribeConnected(conn))
}

// dipOnLink is dip.onlink, for verify: an interface that went down since
// apply shows here, not only as a broken default route.
func (n NAT) dipOnLink() realserver.Invariant {
	return realserver.CheckFunc(func(v *realserver.View) ([]realserver.Finding, error) {
		f := realserver.Finding{ID: "dip.onlink", Subject: n.DIP.String(), Want: "in a connected subnet of an up interface"}
		link, err := dipLink(v, n.DIP)
		var in *realserver.InputError
		switch {
		case errors.As(err, &in):
			f.Got = in.Msg
		case err != nil:
			return nil, err
		default:
			f.OK, f.Got = true, "on-link on "+link
		}
		return []realserver.Finding{f}, nil
	})
}

// checkKeepRoutes rejects keep-routes that contradict the host: one inside
// a connected subnet never used the default route (and routing part of the
// segment via a gateway would break it), and with no default route there
// is no previous gateway to keep anything on.
func (n NAT) checkKeepRoutes(v *realserver.View) error {
	if len(n.KeepRoutes) == 0 {
		return nil
	}
	conn, err := realserver.Connected(v)
	if err != nil {
		return err
	}
	for _, p := range n.KeepRoutes {
		for _, c := range conn {
			if c.Dst.Bits() <= p.Bits() && c.Dst.Contains(p.Addr()) {
				return realserver.Inputf("--keep-route %s is inside %s, directly connected on %s: it never went via the default gateway", p, c.Dst, c.Link)
			}
		}
	}
	if _, ok, err := realserver.DefaultRoute(v); err != nil {
		return err
	} else if !ok {
		return realserver.Inputf("--keep-route %s: there is no default route, so no previous gateway to keep it on", n.KeepRoutes[0])
	}
	return nil
}

// preflightErr keeps bad input as it is and makes any other error a host
// that could not be observed (exit 3).
func preflightErr(err error) error {
	var in *realserver.InputError
	if err == nil || errors.As(err, &in) {
		return err
	}
	return &realserver.ObserveError{Err: err}
}
