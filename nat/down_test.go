package nat

import (
	"net/netip"
	"testing"

	"github.com/rsprep/rsprep/arp"
	"github.com/rsprep/rsprep/realserver"
)

// down undoes what the record says: a DIP whose interface has gone away
// (or a gateway to pin that cannot be found) must not block the teardown.
func TestNATForDownRunsNoPreflight(t *testing.T) {
	h := lan("192.168.10.254")
	n := NAT{DIP: netip.MustParseAddr("10.1.0.5"), Pin: &arp.Pin{Gateway: netip.MustParseAddr("10.1.1.1")}}
	if err := n.Preflight(realserver.NewView(h)); err == nil {
		t.Fatal("apply's preflight accepts a DIP off every subnet: this case proves nothing")
	}
	down := n.ForDown()
	if err := down.Preflight(realserver.NewView(h)); err != nil {
		t.Errorf("down's preflight: %v, want none", err)
	}
	if err := down.Validate(); err != nil || down.Name() != "nat" || len(down.VIPList()) != 0 {
		t.Errorf("down: validate %v, name %s, VIPs %v; want nil, nat, none", err, down.Name(), down.VIPList())
	}
}
