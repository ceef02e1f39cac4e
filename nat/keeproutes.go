package nat

import (
	"net/netip"

	"github.com/rsprep/rsprep/realserver"
	"github.com/rsprep/rsprep/realserver/input"
)

// checkKeepRoutes rejects keep-routes that contradict the host: one inside
// a connected subnet never used the default route (and routing part of the
// segment via a gateway would break it), and with no default route there
// is no previous gateway to keep anything on.
func (n NAT) checkKeepRoutes(v *realserver.View, dip netip.Addr) error {
	keeps := n.keepRoutesOf(dip)
	if len(keeps) == 0 {
		return nil
	}
	conn, err := realserver.ConnectedOf(v, realserver.Family(dip))
	if err != nil {
		return err
	}
	for _, p := range keeps {
		for _, c := range conn {
			if c.Dst.Bits() <= p.Bits() && c.Dst.Contains(p.Addr()) {
				return input.Errorf("--keep-route %s is inside %s, directly connected on %s: it never went via the default gateway", p, c.Dst, c.Link)
			}
		}
	}
	if _, ok, err := realserver.DefaultRouteOf(v, realserver.Family(dip)); err != nil {
		return err
	} else if !ok {
		return input.Errorf("--keep-route %s: there is no default route of its family, so no previous gateway to keep it on", keeps[0])
	}
	return nil
}
