package tunnel

import (
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"

	"github.com/rsprep/rsprep/realserver"
	"github.com/rsprep/rsprep/realserver/input"
)

// A TUN director may sit behind a router: dip.route names the route, and
// dip.reachable asks the next hop, not the DIP.
func TestTUNDIPBehindARouter(t *testing.T) {
	gw := netip.MustParseAddr("192.168.10.1")
	dip := netip.MustParseAddr("10.1.0.5")
	for _, answers := range []bool{true, false} {
		h := realServer()
		h.AllowModule("ipip")
		h.AddRouteRaw(realserver.Route{Dst: netip.MustParsePrefix("0.0.0.0/0"), Gw: gw, Link: "eth0", Metric: 100})
		h.AddRouteRaw(realserver.Route{Dst: netip.MustParsePrefix("10.1.0.0/16"), Gw: gw, Link: "eth0", Metric: 5})
		if answers {
			h.SetWire(gw, net.HardwareAddr{0x52, 0x54, 0, 0, 0, 9})
		}
		tun := TUN{VIPs: []netip.Addr{vip}, DIP: dip}
		if err := tun.Preflight(realserver.NewView(h)); err != nil {
			t.Fatal(err)
		}
		res, err := engine(h).Apply(tun.Invariants(), false)
		var route, reach realserver.Finding
		for _, f := range res.Checks {
			switch f.ID {
			case "dip.route":
				route = f
			case "dip.reachable":
				reach = f
			}
		}
		if !route.OK || route.Got != "via 192.168.10.1 dev eth0" {
			t.Errorf("dip.route %v %q, want ok via 192.168.10.1 dev eth0", route.OK, route.Got)
		}
		if reach.OK != answers || reach.Want != "next hop 192.168.10.1 answers ARP on eth0" {
			t.Errorf("gateway answers=%v: dip.reachable %v want %q got %q", answers, reach.OK, reach.Want, reach.Got)
		}
		if answers != (err == nil) {
			t.Errorf("gateway answers=%v: apply error %v", answers, err)
		}
	}
}

func TestTUNRejectsADIPWithoutARoute(t *testing.T) {
	h := realServer()
	err := TUN{VIPs: []netip.Addr{vip}, DIP: netip.MustParseAddr("10.1.0.5")}.Preflight(realserver.NewView(h))
	var in *input.Error
	if !errors.As(err, &in) || !strings.Contains(in.Msg, "no route to it") {
		t.Fatalf("preflight: %v; want bad input naming the missing route", err)
	}
}
