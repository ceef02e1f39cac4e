package director

import (
	"net"
	"net/netip"
	"testing"

	"github.com/rsprep/rsprep/realserver"
	"github.com/rsprep/rsprep/realserver/fake"
)

// dip.reachable, built once and checked on each new observation (as
// watch checks it for months), asks the wire each time: a director that
// was silent when the check was first made is seen once it answers.
func TestDIPReachableAsksAgainOnEachObservation(t *testing.T) {
	dip := netip.MustParseAddr("10.0.0.1")
	h := fake.New()
	h.AddLink(realserver.Link{Name: "eth0.100", Type: "veth", Up: true})
	h.AddAddrRaw(realserver.Addr{Link: "eth0.100", Prefix: netip.MustParsePrefix("10.0.0.2/24")})
	inv := DIPReachable(dip, func(*realserver.View) (Hop, error) { return Hop{Link: "eth0.100", IP: dip}, nil })
	check := func() realserver.Finding {
		t.Helper()
		fs, err := realserver.NewView(h).Verify([]realserver.Invariant{inv})
		if err != nil || len(fs) != 1 {
			t.Fatalf("verify: %v %v", fs, err)
		}
		return fs[0]
	}
	if f := check(); f.OK {
		t.Fatalf("a silent director: dip.reachable ok, got %q", f.Got)
	}
	h.SetWire(dip, net.HardwareAddr{0x52, 0x54, 0, 0, 0, 1}) // the director comes up
	if f := check(); !f.OK || f.Got != "answers an ARP probe" {
		t.Errorf("the director answers now: dip.reachable ok=%v got %q", f.OK, f.Got)
	}
	if h.Probes() != 2 {
		t.Errorf("%d ARP probes for two observations, want 2", h.Probes())
	}
}
