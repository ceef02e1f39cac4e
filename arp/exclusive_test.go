package arp

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/rsprep/rsprep/realserver"
)

// A VIP bound on lo and also on an ARP-capable interface is found on
// both: bound on lo, and not exclusive (the uplink's copy would answer
// ARP). The view indexes addresses by IP; an IP on two links must yield
// both, whichever the dump lists first.
func TestVIPOnLoAndUplinkIsBoundButNotExclusive(t *testing.T) {
	vip := netip.MustParseAddr("192.168.79.180")
	for _, order := range []string{"lo first", "uplink first"} {
		t.Run(order, func(t *testing.T) {
			h := uplinkHost()
			onLo := realserver.VIPAddr(vip, "lo")
			onUplink := realserver.Addr{Link: "eth0.100", Prefix: netip.PrefixFrom(vip, 24)}
			first, second := onLo, onUplink
			if order == "uplink first" {
				first, second = onUplink, onLo
			}
			h.AddAddrRaw(first)
			h.AddAddrRaw(second)
			fs, err := realserver.NewView(h).Verify(DR{VIPs: []netip.Addr{vip}}.Invariants())
			if err != nil {
				t.Fatal(err)
			}
			var bound, exclusive *realserver.Finding
			for i, f := range fs {
				switch f.ID {
				case "vip.bound":
					bound = &fs[i]
				case "vip.exclusive":
					exclusive = &fs[i]
				}
			}
			if bound == nil || !bound.OK {
				t.Errorf("vip.bound: %+v, want ok (it is on lo)", bound)
			}
			if exclusive == nil || exclusive.OK || !strings.Contains(exclusive.Got, "eth0.100") {
				t.Errorf("vip.exclusive: %+v, want failing on eth0.100", exclusive)
			}
		})
	}
}
