package nat

import (
	"github.com/rsprep/rsprep/realserver"
	"github.com/rsprep/rsprep/realserver/input"
)

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
				return input.Errorf("--keep-route %s is inside %s, directly connected on %s: it never went via the default gateway", p, c.Dst, c.Link)
			}
		}
	}
	if _, ok, err := realserver.DefaultRoute(v); err != nil {
		return err
	} else if !ok {
		return input.Errorf("--keep-route %s: there is no default route, so no previous gateway to keep it on", n.KeepRoutes[0])
	}
	return nil
}
