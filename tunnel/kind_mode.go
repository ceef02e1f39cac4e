package tunnel

import (
	"fmt"

	"github.com/rsprep/rsprep/realserver"
)

// KindTunnelMode sets the ip6tnl device Link's mode From → To
// (realserver.TunnelMode values): any, so that it takes IPv4 inside IPv6.
const KindTunnelMode realserver.Kind = "tunnel-mode"

func init() {
	realserver.RegisterKind(realserver.KindDef{
		Kind:      KindTunnelMode,
		Phase:     2, // with the devices, before the addresses
		DownPhase: 4,
		Run: func(h realserver.Host, c realserver.Change) error {
			return h.SetTunnelMode(c.Link, realserver.TunnelMode(c.To))
		},
		Say: func(c realserver.Change) string {
			return fmt.Sprintf("ip -6 tunnel change %s mode %s", c.Link, realserver.TunnelMode(c.To))
		},
		Inverse: func(c realserver.Change) realserver.Change {
			c.From, c.To = c.To, c.From
			return c
		},
		OwnerKey:  func(c realserver.Change) string { return "tunnel-mode " + c.Link },
		Update:    realserver.UpdateTo,
		StillOurs: modeStillOurs,
	})
}

// modeStillOurs puts the device's mode back while it is rsprep's.
func modeStillOurs(v *realserver.View, c, undo realserver.Change) (*realserver.Change, string, error) {
	cur, err := v.TunnelMode(c.Link)
	if err != nil {
		return nil, "", err
	}
	switch cur {
	case realserver.TunnelMode(c.To):
		return &undo, "", nil
	case realserver.TunnelMode(c.From):
		return nil, "", nil
	}
	return nil, fmt.Sprintf("left %s in mode %s alone: rsprep set %s, it has been changed since (it was %s before rsprep)",
		c.Link, cur, realserver.TunnelMode(c.To), realserver.TunnelMode(c.From)), nil
}
