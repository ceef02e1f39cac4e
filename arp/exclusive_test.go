package arp

import (
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/rsprep/rsprep/realserver"
	"github.com/rsprep/rsprep/realserver/input"
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

// A VIP found as a host address on the uplink: apply refuses it before
// anything changes (bad input), verify reports it with no fix, and only
// with TakeHeldVIPs does apply move it (KindAddrTake, which down undoes).
func TestHeldVIPIsRefusedReportedOrTaken(t *testing.T) {
	vip := netip.MustParseAddr("192.168.79.180")
	held := realserver.Addr{Link: "eth0.100", Prefix: netip.PrefixFrom(vip, 32), Label: "eth0.100:vrrp"}
	for _, tc := range []struct {
		held      realserver.HeldVIPs
		preflight bool // refused
		fix       []realserver.Kind
	}{
		{realserver.RefuseHeldVIPs, true, nil},
		{realserver.ReportHeldVIPs, false, nil},
		{realserver.TakeHeldVIPs, false, []realserver.Kind{realserver.KindAddrTake}},
	} {
		h := uplinkHost()
		h.AddAddrRaw(held)
		dr := DR{VIPs: []netip.Addr{vip}, HeldVIPs: tc.held}
		v := realserver.NewView(h)
		err := dr.Preflight(v)
		var in *input.Error
		if refused := err != nil; refused != tc.preflight || refused && (!errors.As(err, &in) || !strings.Contains(err.Error(), "is on eth0.100")) {
			t.Errorf("held %d: preflight %v, want refused %v (bad input naming eth0.100)", tc.held, err, tc.preflight)
		}
		fs, err := v.Verify(dr.Invariants())
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range fs {
			if f.ID != "vip.exclusive" {
				continue
			}
			var kinds []realserver.Kind
			for _, c := range f.Fix {
				kinds = append(kinds, c.Kind)
			}
			if f.OK || !slices.Equal(kinds, tc.fix) {
				t.Errorf("held %d: vip.exclusive %+v, want failing with fix %v", tc.held, f, tc.fix)
			}
		}
	}
}
