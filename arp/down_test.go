package arp

import (
	"net/netip"
	"reflect"
	"testing"

	"github.com/rsprep/rsprep/realserver"
)

// down undoes what the record says: a director gone from the segment and
// a gateway that cannot be found must not block the teardown, while the
// VIPs down removes and a VIP that is the host's own address still count.
func TestDRForDownChecksNeitherDirectorNorGateway(t *testing.T) {
	h := uplinkHost()
	s := DR{VIPs: vips("192.168.79.180"), DIP: netip.MustParseAddr("10.1.0.5"), Pin: &Pin{Gateway: netip.MustParseAddr("10.1.1.1")}, ForwardingOff: true}
	if err := s.Preflight(realserver.NewView(h)); err == nil {
		t.Fatal("apply's preflight accepts a DIP off the segment: this case proves nothing")
	}
	down := s.ForDown()
	if err := down.Preflight(realserver.NewView(h)); err != nil {
		t.Errorf("down's preflight: %v, want none", err)
	}
	if !reflect.DeepEqual(down.VIPList(), s.VIPs) || down.Name() != "dr" {
		t.Errorf("down removes %v as %s, want %v as dr", down.VIPList(), down.Name(), s.VIPs)
	}
	own := DR{VIPs: vips("10.0.0.2")}.ForDown()
	if err := own.Preflight(realserver.NewView(h)); err == nil {
		t.Error("down accepts a --vip that is the host's own address")
	}
}
