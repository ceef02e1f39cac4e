package tunnel

import (
	"net/netip"
	"reflect"
	"testing"

	"github.com/rsprep/rsprep/arp"
	"github.com/rsprep/rsprep/realserver"
)

// down undoes what the record says: a director without a route and a
// gateway that cannot be found must not block the teardown.
func TestTUNForDownChecksNeitherDirectorNorGateway(t *testing.T) {
	h := realServer()
	s := TUN{VIPs: []netip.Addr{vip}, DIP: netip.MustParseAddr("10.1.0.5"), Pin: &arp.Pin{Gateway: netip.MustParseAddr("10.1.1.1")}}
	if err := s.Preflight(realserver.NewView(h)); err == nil {
		t.Fatal("apply's preflight accepts a DIP without a route: this case proves nothing")
	}
	down := s.ForDown()
	if err := down.Preflight(realserver.NewView(h)); err != nil {
		t.Errorf("down's preflight: %v, want none", err)
	}
	if !reflect.DeepEqual(down.VIPList(), s.VIPs) || down.Name() != "tun" {
		t.Errorf("down removes %v as %s, want %v as tun", down.VIPList(), down.Name(), s.VIPs)
	}
}
