package doctor

import (
	"net/netip"
	"testing"

	"github.com/rsprep/rsprep/arp"
	"github.com/rsprep/rsprep/nat"
	"github.com/rsprep/rsprep/tunnel"
)

// ip.forward is a dr/tun risk only while the mode leaves forwarding to the
// host: a mode that owns it (--forwarding off, issue 19) sets it itself,
// and NAT is not asked.
func TestForwardingReportedOnlyWhenTheModeLeavesIt(t *testing.T) {
	facts := baseFacts()
	facts.Sysctls[keyIPForward] = 1
	vips := []netip.Addr{netip.MustParseAddr("192.168.79.180")}
	for _, tc := range []struct {
		name string
		in   Input
		want int
	}{
		{"dr leaves forwarding", Input{Mode: "dr", Footprint: arp.DR{VIPs: vips}.Footprint(), Facts: facts}, 1},
		{"dr owns forwarding", Input{Mode: "dr", Footprint: arp.DR{VIPs: vips, ForwardingOff: true}.Footprint(), Facts: facts}, 0},
		{"tun leaves forwarding", Input{Mode: "tun", Footprint: tunnel.TUN{VIPs: vips}.Footprint(), Facts: facts}, 1},
		{"tun owns forwarding", Input{Mode: "tun", Footprint: tunnel.TUN{VIPs: vips, ForwardingOff: true}.Footprint(), Facts: facts}, 0},
		{"nat", Input{Mode: "nat", Footprint: nat.NAT{DIP: netip.MustParseAddr("192.168.10.1")}.Footprint(), Facts: facts}, 0},
	} {
		tc.in.Root = t.TempDir()
		rep, err := Run(tc.in)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, f := range rep.Findings {
			if f.ID == "ip.forward" {
				n++
			}
		}
		if n != tc.want {
			t.Errorf("%s: %d ip.forward findings, want %d: %+v", tc.name, n, tc.want, rep.Findings)
		}
	}
}
