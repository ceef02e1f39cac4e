package tunnel

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/rsprep/rsprep/realserver"
	"github.com/rsprep/rsprep/realserver/fake"
)

// uplinked is a real server whose eth0 has an MTU and a default route.
func uplinked(t *testing.T) *fake.Host {
	h := fake.New()
	h.SetLinkUp("lo", true)
	h.AddLink(realserver.Link{Name: "eth0", Type: "veth", Up: true, MTU: 1500})
	h.AddAddrRaw(realserver.Addr{Link: "eth0", Prefix: netip.MustParsePrefix("192.168.10.2/24")})
	if err := h.AddRoute(realserver.Route{Dst: netip.MustParsePrefix("0.0.0.0/0"), Gw: netip.MustParseAddr("192.168.10.1")}); err != nil {
		t.Fatal(err)
	}
	h.AllowModule("ipip")
	return h
}

func TestMSSClampsTheVIPsRepliesOnly(t *testing.T) {
	h := uplinked(t)
	spec := TUN{VIPs: []netip.Addr{vip}, MSS: 1400}
	mainBefore, _ := h.Routes()
	eng := applyTwice(t, h, spec)
	hasLines(t, h,
		"rule from 192.168.79.180/32 lookup 7301 pref 7301",
		"route 192.168.10.0/24 dev eth0 table 7301 advmss 1400",
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
	if _, err := eng.Down(spec.VIPList(), false); err != nil {
		t.Fatal(err)
	}
	if state := h.Render(); strings.Contains(state, "7301") {
		t.Errorf("down left rsprep's rule or table:\n%s", state)
	}
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
	if _, err := eng.Apply(spec.Invariants(), false); err != nil {
		t.Fatal(err)
	}
	hasLines(t, h, "route default via 192.168.10.254 dev eth0 table 7301 advmss 1400")
	if strings.Contains(h.Render(), "via 192.168.10.1 dev eth0 table 7301") {
		t.Errorf("the stale twin stayed:\n%s", h.Render())
	}
	if _, err := eng.Down(spec.VIPList(), false); err != nil {
		t.Fatal(err)
	}
	if state := h.Render(); strings.Contains(state, "7301") {
		t.Errorf("down left (or put back) routes of table 7301:\n%s", state)
	}
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
