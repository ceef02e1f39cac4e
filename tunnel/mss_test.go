package tunnel

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/rsprep/rsprep/realserver"
	"github.com/rsprep/rsprep/realserver/fake"
)

// uplinked is a real server whose eth0 has an MTU, both families and a
// default route of each.
func uplinked(t *testing.T) *fake.Host {
	h := fake.New()
	h.SetLinkUp("lo", true)
	h.AddLink(realserver.Link{Name: "eth0", Type: "veth", Up: true, MTU: 1500})
	h.AddAddrRaw(realserver.Addr{Link: "eth0", Prefix: netip.MustParsePrefix("192.168.10.2/24")})
	h.AddAddrRaw(realserver.Addr{Link: "eth0", Prefix: netip.MustParsePrefix("2001:db8:10::2/64")})
	for _, gw := range []string{"192.168.10.1", "fe80::1"} {
		dst := realserver.DefaultDst
		if strings.Contains(gw, ":") {
			dst = realserver.DefaultDst6
		}
		// fe80::1 is a router's link-local address: on-link only with its device named.
		if err := h.AddRoute(realserver.Route{Dst: dst, Gw: netip.MustParseAddr(gw), Link: "eth0"}); err != nil {
			t.Fatal(err)
		}
	}
	h.AllowModule("ipip")
	h.AllowModule("ip6_tunnel")
	return h
}

func TestMSSClampsTheVIPsRepliesOnly(t *testing.T) {
	h := uplinked(t)
	spec := TUN{VIPs: []netip.Addr{vip}, MSS: 1400}
	mainBefore, _ := h.Routes()
	eng := applyTwice(t, h, spec)
	hasLines(t, h,
		"rule from 192.168.79.180/32 lookup 7301 pref 7301",
		"route 192.168.10.0/24 dev eth0 src 192.168.10.2 table 7301 advmss 1400",
		"route default via 192.168.10.1 dev eth0 table 7301 advmss 1400",
	)
	// Main, which every other connection uses, is as it was: no advmss.
	if mainAfter, _ := h.Routes(); len(mainAfter) != len(mainBefore) {
		t.Errorf("main changed: %v, was %v", mainAfter, mainBefore)
	} else {
		for _, r := range mainAfter {
			if r.AdvMSS != 0 || r.Table != 0 {
				t.Errorf("main route %s carries a clamp", r)
			}
		}
	}
	downLeavesNoTable(t, eng, h, spec)
}

func TestMSSRuleRemovedIsDrift(t *testing.T) {
	h := uplinked(t)
	spec := TUN{VIPs: []netip.Addr{vip}, MSS: 1400}
	applyTwice(t, h, spec)
	h.DelRule(realserver.Rule{Src: netip.MustParsePrefix("192.168.79.180/32"), Table: 7301, Priority: 7301})
	// Somebody else's rules, one of them to rsprep's table, are not it.
	h.AddRule(realserver.Rule{Src: netip.MustParsePrefix("192.168.79.181/32"), Table: 7301, Priority: 7301})
	h.AddRule(realserver.Rule{Src: netip.MustParsePrefix("192.168.79.180/32"), Table: 100, Priority: 100})
	f := finding(t, h, spec, "mss.clamp")
	if f.OK || f.Subject != vip.String() || f.Fix[0].String() != "ip rule add from 192.168.79.180/32 lookup 7301 pref 7301" {
		t.Errorf("rule gone: %+v, want a failing mss.clamp fixed by ip rule add", f)
	}
}

// When main changes (a new gateway), the table follows: the stale twin
// goes, and down has nothing stale to put back.
func TestMSSTableFollowsMain(t *testing.T) {
	h := uplinked(t)
	spec := TUN{VIPs: []netip.Addr{vip}, MSS: 1400}
	eng := applyTwice(t, h, spec)
	h.AddRoute(realserver.Route{Dst: netip.MustParsePrefix("0.0.0.0/0"), Gw: netip.MustParseAddr("192.168.10.254")})
	fs, err := realserver.Verify(h, spec.Invariants())
	if err != nil {
		t.Fatal(err)
	}
	if realserver.AllOK(fs) {
		t.Fatal("main's default route changed, yet every check holds")
	}
	for _, f := range fs {
		if f.Subject == "table 7301" && !strings.Contains(f.Got, "stale copy: default via 192.168.10.1 dev eth0 table 7301 advmss 1400") {
			t.Errorf("the table's finding does not name the stale copy: got %q", f.Got)
		}
	}
	if _, err := eng.Apply(spec.Invariants(), false); err != nil {
		t.Fatal(err)
	}
	hasLines(t, h, "route default via 192.168.10.254 dev eth0 table 7301 advmss 1400")
	if strings.Contains(h.Render(), "via 192.168.10.1 dev eth0 table 7301") {
		t.Errorf("the stale twin stayed:\n%s", h.Render())
	}
	downLeavesNoTable(t, eng, h, spec)
}

func TestMSSAutoIsTheMTULessTheEncapsulation(t *testing.T) {
	for _, tc := range []struct {
		spec TUN
		want string
	}{
		{TUN{}, "advmss 1440"},                            // 1500 - 40 - 20
		{TUN{Encap: EncapGUE, Port: 6080}, "advmss 1428"}, // - 8 UDP - 4 GUE
		{TUN{Encap: EncapGRE}, "advmss 1436"},             // - 4 GRE
		{TUN{Underlay: 6}, "advmss 1420"},                 // - 40 IPv6 outer
		{TUN{Encap: EncapGUE, Port: 6080, Underlay: 6}, "advmss 1408"},
	} {
		spec := tc.spec
		spec.VIPs, spec.MSS = []netip.Addr{vip}, MSSAuto
		var f realserver.Finding
		for _, x := range verifyAll(t, uplinked(t), spec) {
			if x.ID == "mss.clamp" && strings.HasPrefix(x.Subject, "table") {
				f = x
			}
		}
		if len(f.Fix) == 0 || !strings.HasSuffix(f.Fix[0].String(), tc.want) || !strings.HasPrefix(f.Detail, "auto: MTU 1500 of eth0 - 40 IPv4+TCP") {
			t.Errorf("%s underlay %d: %+v, want routes with %s and a detail that says how", spec.encap(), spec.Underlay, f, tc.want)
		}
	}
}

func verifyAll(t *testing.T, h realserver.Host, spec TUN) []realserver.Finding {
	t.Helper()
	fs, err := realserver.Verify(h, spec.Invariants())
	if err != nil {
		t.Fatal(err)
	}
	return fs
}

var vip6 = netip.MustParseAddr("2001:db8:79::180")

// An IPv6 VIP gets the same clamp through ip -6: its own rule, and the
// table holding main's IPv6 routes (the kernel's metrics, a link-local
// gateway with its device) with advmss; IPv4 is left alone.
func TestMSSClampsAnIPv6VIPsRepliesOnly(t *testing.T) {
	h := uplinked(t)
	// Two devices with fe80::/64 at one metric: a table can hold only one
	// (replace overwrites), and no reply from the VIP goes there.
	h.AddLink(realserver.Link{Name: "eth1", Type: "veth", Up: true, MTU: 1500})
	h.AddAddrRaw(realserver.Addr{Link: "eth0", Prefix: netip.MustParsePrefix("fe80::2/64")})
	h.AddAddrRaw(realserver.Addr{Link: "eth1", Prefix: netip.MustParsePrefix("fe80::3/64")})
	spec := TUN{VIPs: []netip.Addr{vip6}, MSS: 1400}
	if f := finding(t, h, spec, "mss.clamp"); f.OK || f.Fix[0].String() != "ip -6 rule add from 2001:db8:79::180/128 lookup 7301 pref 7301" {
		t.Errorf("before apply: %+v, want a failing mss.clamp fixed by ip -6 rule add", f)
	}
	main4, _ := h.Routes()
	main6, _ := h.TableRoutes(6, 0)
	eng := applyTwice(t, h, spec)
	hasLines(t, h,
		"rule from 2001:db8:79::180/128 lookup 7301 pref 7301",
		"route 2001:db8:10::/64 dev eth0 metric 256 table 7301 advmss 1400",
		"route default via fe80::1 dev eth0 metric 1024 table 7301 advmss 1400",
		"route 2001:db8:79::180/128 dev ip6tnl0 metric 256 table 7301 advmss 1400", // the VIP's own, from binding it
	)
	if strings.Contains(h.Render(), "fe80::/64 dev eth0 metric 256 table 7301") {
		t.Errorf("a link-local route went into table 7301:\n%s", h.Render())
	}
	if v4, _ := h.TableRoutes(4, 7301); len(v4) != 0 {
		t.Errorf("an IPv6 VIP filled the IPv4 side of table 7301: %v", v4)
	}
	if after, _ := h.Routes(); !slices.EqualFunc(after, main4, realserver.Route.Equal) {
		t.Errorf("main's IPv4 routes changed: %v, were %v", after, main4)
	}
	after6, _ := h.TableRoutes(6, 0)
	for _, r := range after6 {
		if r.AdvMSS != 0 {
			t.Errorf("main route %s carries a clamp", r)
		}
	}
	if len(after6) != len(main6)+1 { // + the VIP's /128
		t.Errorf("main's IPv6 routes: %v, were %v (+ the VIP's)", after6, main6)
	}
	h.DelRule(realserver.Rule{Src: netip.PrefixFrom(vip6, 128), Table: 7301, Priority: 7301})
	if f := finding(t, h, spec, "mss.clamp"); f.OK || f.Subject != vip6.String() {
		t.Errorf("IPv6 rule gone: %+v, want a failing mss.clamp for %s", f, vip6)
	}
	if _, err := eng.Apply(spec.Invariants(), false); err != nil {
		t.Fatal(err)
	}
	downLeavesNoTable(t, eng, h, spec)
}

// auto for IPv6 VIPs counts 60 bytes of IPv6 and TCP headers, and the
// underlay's uplink is found by that family's routes.
func TestMSSAutoForIPv6VIPs(t *testing.T) {
	for _, tc := range []struct {
		spec TUN
		want string
	}{
		{TUN{}, "advmss 1400"},                                         // 1500 - 60 - 40 IPv6 outer
		{TUN{Underlay: 4}, "advmss 1420"},                              // - 20 IPv4 outer (sit)
		{TUN{Encap: EncapGUE, Port: 6080}, "advmss 1388"},              // - 40 - 8 UDP - 4 GUE
		{TUN{Encap: EncapGRE, Underlay: 4}, "advmss 1416"},             // - 20 - 4 GRE
		{TUN{Encap: EncapGUE, Port: 6080, Underlay: 4}, "advmss 1408"}, // - 20 - 12
	} {
		spec := tc.spec
		spec.VIPs, spec.MSS = []netip.Addr{vip, vip6}, MSSAuto
		var f realserver.Finding
		for _, x := range verifyAll(t, uplinked(t), spec) {
			if x.ID == "mss.clamp" && x.Subject == "table 7301 -6" {
				f = x
			}
		}
		if len(f.Fix) == 0 || !strings.HasSuffix(f.Fix[0].String(), tc.want) || !strings.HasPrefix(f.Fix[0].String(), "ip -6 route add ") ||
			!strings.HasPrefix(f.Detail, "auto: MTU 1500 of eth0 - 60 IPv6+TCP") {
			t.Errorf("%s underlay %d: %+v, want IPv6 routes with %s and a detail that says how", spec.encap(), spec.Underlay, f, tc.want)
		}
	}
}

// With no route of the underlay's family, auto has no uplink: verify
// says so and asks for a number, and apply cannot make it hold.
func TestMSSAutoWithoutAnUplinkAsksForANumber(t *testing.T) {
	h := fake.New()
	h.AddLink(realserver.Link{Name: "eth0", Type: "veth", Up: true, MTU: 1500})
	h.AddAddrRaw(realserver.Addr{Link: "eth0", Prefix: netip.MustParsePrefix("192.168.10.2/24")})
	f := finding(t, h, TUN{VIPs: []netip.Addr{vip}, Underlay: 6, MSS: MSSAuto}, "mss.clamp")
	for _, x := range verifyAll(t, h, TUN{VIPs: []netip.Addr{vip}, Underlay: 6, MSS: MSSAuto}) {
		if x.Subject == "table 7301" {
			f = x
		}
	}
	if f.OK || len(f.Fix) != 0 || f.Detail != "auto: no IPv6 route tells the uplink; below 536: give --mss" {
		t.Errorf("IPv6 underlay without IPv6 routes: %+v, want a failure that asks for --mss", f)
	}
}

// downLeavesNoTable runs down and expects no rule to table 7301 and no
// route of it left (nothing stale put back either).
func downLeavesNoTable(t *testing.T, eng *realserver.Engine, h *fake.Host, spec TUN) {
	t.Helper()
	if _, err := eng.Down(spec.VIPList(), false); err != nil {
		t.Fatal(err)
	}
	if state := h.Render(); strings.Contains(state, "7301") {
		t.Errorf("down left (or put back) a rule or routes of table 7301:\n%s", state)
	}
}
