package tunnel

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/rsprep/rsprep/realserver"
	"github.com/rsprep/rsprep/realserver/fake"
	"github.com/rsprep/rsprep/realserver/input"
)

// applyTwice applies spec to h, checks that verify then passes and a second
// apply changes nothing, and returns the engine (its record) for down.
func applyTwice(t *testing.T, h *fake.Host, spec TUN) *realserver.Engine {
	t.Helper()
	eng := &realserver.Engine{Host: h, Record: &realserver.Record{Version: 1}, Mode: "tun", Log: engine(nil).Log}
	if _, err := eng.Apply(spec.Invariants(), false); err != nil {
		t.Fatalf("apply: %v\n%s", err, h.Render())
	}
	fs, err := realserver.Verify(h, spec.Invariants())
	if err != nil || !realserver.AllOK(fs) {
		t.Fatalf("verify after apply: %v %+v", err, fs)
	}
	again, err := eng.Apply(spec.Invariants(), false)
	if err != nil || len(again.Changes) != 0 {
		t.Fatalf("second apply changed %v (err %v), want nothing", again.Changes, err)
	}
	return eng
}

// finding returns the finding id/subject of a verify of spec.
func finding(t *testing.T, h realserver.Host, spec TUN, id string) realserver.Finding {
	t.Helper()
	fs, err := realserver.Verify(h, spec.Invariants())
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fs {
		if f.ID == id {
			return f
		}
	}
	t.Fatalf("no finding %s in %+v", id, fs)
	return realserver.Finding{}
}

var gue = TUN{VIPs: []netip.Addr{vip}, Encap: EncapGUE, Port: 6080}

func TestGUEOpensAFouPortAndBindsTheVIPOnTunl0(t *testing.T) {
	h := realServer()
	h.AllowModule("ipip")
	h.AllowModule("fou")
	before := h.Render()
	if f := finding(t, h, gue, "fou.port"); f.OK || f.Fix[0].String() != "ip fou add port 6080 gue" {
		t.Errorf("before apply: fou.port %+v, want a failure fixed by ip fou add port 6080 gue", f)
	}
	if f := finding(t, h, gue, "module.fou"); f.OK || f.Fix[0].String() != "modprobe fou" {
		t.Errorf("before apply: module.fou %+v, want a failure fixed by modprobe fou", f)
	}
	eng := applyTwice(t, h, gue)
	hasLines(t, h, "fou port 6080 gue", "link tunl0 type ipip up=true noarp=true",
		"addr 192.168.79.180/32 dev tunl0 label tunl0:rsprep proto 114", "sysctl net/ipv4/conf/tunl0/rp_filter=0")
	// The port is the check: without it, verify fails and names fou.port.
	if err := h.DelFouPort(realserver.FouPort{Family: 4, Port: 6080}); err != nil {
		t.Fatal(err)
	}
	if f := finding(t, h, gue, "fou.port"); f.OK {
		t.Errorf("fou port removed, yet fou.port holds: %+v", f)
	}
	if _, err := eng.Apply(gue.Invariants(), false); err != nil {
		t.Fatal(err)
	}
	if _, err := eng.Down(gue.VIPList(), false); err != nil {
		t.Fatal(err)
	}
	// Down gives back everything but the modules (and tunl0, which ipip made).
	if after := withoutLines(h.Render(), "tunl0"); after != before {
		t.Errorf("after down:\n%s\nwant (tunl0 aside) as before:\n%s", h.Render(), before)
	}
	if !h.Loaded("fou") {
		t.Error("down unloaded fou; rsprep never unloads a module")
	}
}

func TestGUEOnAnIPv6UnderlayLoadsFou6AndOpensTheIPv6Port(t *testing.T) {
	h := realServer()
	for _, m := range []string{"fou", "fou6", "ip6_tunnel"} {
		h.AllowModule(m)
	}
	spec := gue
	spec.Underlay = 6
	eng := applyTwice(t, h, spec)
	hasLines(t, h, "fou port 6080 gue -6", "tunnel ip6tnl0 mode any", "addr 192.168.79.180/32 dev ip6tnl0 label ip6tnl0:rsprep proto 114")
	if !h.Loaded("fou6") {
		t.Error("fou6 not loaded for an IPv6 underlay")
	}
	if _, err := eng.Down(spec.VIPList(), false); err != nil {
		t.Fatal(err)
	}
	hasLines(t, h, "tunnel ip6tnl0 mode ip6ip6", "link ip6tnl0 type ip6tnl up=false noarp=true")
	if strings.Contains(h.Render(), "fou port") {
		t.Errorf("down left the fou port:\n%s", h.Render())
	}
}

// A port somebody else opened is theirs: apply does not take it over and
// down does not close it.
func TestFouPortOfSomebodyElse(t *testing.T) {
	t.Run("GUE already open: used, never closed", func(t *testing.T) {
		h := realServer()
		h.AllowModule("ipip")
		h.AllowModule("fou")
		h.LoadModule("fou")
		h.AddFouPortRaw(realserver.FouPort{Family: 4, Port: 6080, GUE: true})
		eng := applyTwice(t, h, gue)
		if _, err := eng.Down(gue.VIPList(), false); err != nil {
			t.Fatal(err)
		}
		hasLines(t, h, "fou port 6080 gue")
	})
	t.Run("direct port: drift without a fix", func(t *testing.T) {
		h := realServer()
		h.AllowModule("ipip")
		h.AllowModule("fou")
		h.LoadModule("fou")
		h.AddFouPortRaw(realserver.FouPort{Family: 4, Port: 6080, Proto: 4})
		f := finding(t, h, gue, "fou.port")
		if f.OK || len(f.Fix) != 0 || !strings.Contains(f.Detail, "another --encap-port") {
			t.Errorf("fou.port %+v, want a failure without a fix that says to pick another port", f)
		}
		_, err := engine(h).Apply(gue.Invariants(), false)
		var nc *realserver.NotConvergedError
		if !errors.As(err, &nc) {
			t.Errorf("apply: %v, want not converged", err)
		}
		hasLines(t, h, "fou port 6080 ipproto 4")
	})
	t.Run("rsprep's port turned direct since: down leaves it", func(t *testing.T) {
		h := realServer()
		h.AllowModule("ipip")
		h.AllowModule("fou")
		eng := applyTwice(t, h, gue)
		h.DelFouPort(realserver.FouPort{Family: 4, Port: 6080})
		h.AddFouPortRaw(realserver.FouPort{Family: 4, Port: 6080, Proto: 4})
		downLeaves(t, h, eng, gue, "left fou port 6080", "fou port 6080 ipproto 4")
	})
}

func TestGUEWithoutFouStopsNamingIt(t *testing.T) {
	h := realServer()
	h.AllowModule("ipip")
	_, err := engine(h).Apply(gue.Invariants(), false)
	var ce *realserver.ChangeError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "the kernel cannot provide fou") {
		t.Fatalf("err = %v, want a ChangeError naming fou", err)
	}
	if strings.Contains(h.Render(), "tunl0:rsprep") {
		t.Errorf("a VIP was bound anyway:\n%s", h.Render())
	}
}

func TestGREBringsGre0UpAndDownAgain(t *testing.T) {
	h := realServer()
	h.AllowModule("ip_gre")
	spec := TUN{VIPs: []netip.Addr{vip}, Encap: EncapGRE}
	if f := finding(t, h, spec, "module.ip_gre"); f.OK || f.Fix[0].String() != "modprobe ip_gre" {
		t.Errorf("module.ip_gre %+v, want a failure fixed by modprobe ip_gre", f)
	}
	eng := applyTwice(t, h, spec)
	hasLines(t, h, "link gre0 type gre up=true noarp=true", "addr 192.168.79.180/32 dev gre0 label gre0:rsprep proto 114",
		"sysctl net/ipv4/conf/gre0/rp_filter=0", "sysctl net/ipv4/conf/gre0/arp_ignore=1")
	if strings.Contains(h.Render(), "tunl0") {
		t.Errorf("GRE loaded ipip:\n%s", h.Render())
	}
	h.SetLinkUp("gre0", false)
	if f := finding(t, h, spec, "link.gre0"); f.OK || f.Fix[0].String() != "ip link set dev gre0 up" {
		t.Errorf("gre0 down: link.gre0 %+v, want a failure fixed by setting it up", f)
	}
	eng.Apply(spec.Invariants(), false)
	if _, err := eng.Down(spec.VIPList(), false); err != nil {
		t.Fatal(err)
	}
	hasLines(t, h, "link gre0 type gre up=false noarp=true", "link gretap0 type gretap up=false noarp=false")
}

func TestIPv4VIPOverIPv6NeedsIp6tnl0InModeAny(t *testing.T) {
	h := realServer()
	h.AllowModule("ip6_tunnel")
	spec := TUN{VIPs: []netip.Addr{vip}, Underlay: 6}
	eng := applyTwice(t, h, spec)
	hasLines(t, h, "tunnel ip6tnl0 mode any", "link ip6tnl0 type ip6tnl up=true noarp=true",
		"addr 192.168.79.180/32 dev ip6tnl0 label ip6tnl0:rsprep proto 114", "sysctl net/ipv4/conf/ip6tnl0/rp_filter=0")
	// ip6ip6 drops IPv4 inside: drift, fixed by mode any.
	h.SetTunnelMode("ip6tnl0", realserver.ModeIP6IP6)
	f := finding(t, h, spec, "tunnel.mode")
	if f.OK || f.Fix[0].String() != "ip -6 tunnel change ip6tnl0 mode any" {
		t.Errorf("ip6ip6: tunnel.mode %+v, want a failure fixed by mode any", f)
	}
	// ipip6 takes IPv4 inside: enough for IPv4 VIPs alone.
	h.SetTunnelMode("ip6tnl0", realserver.ModeIPIP6)
	if f := finding(t, h, spec, "tunnel.mode"); !f.OK {
		t.Errorf("ipip6 with IPv4 VIPs only: %+v, want ok", f)
	}
	// Somebody changed the mode after rsprep: down leaves it, says so.
	downLeaves(t, h, eng, spec, "left ip6tnl0 in mode ipip6 alone", "tunnel ip6tnl0 mode ipip6")
}

func TestMixedVIPsOverIPv6ShareIp6tnl0InModeAny(t *testing.T) {
	h := realServer()
	h.AllowModule("ip6_tunnel")
	spec := TUN{VIPs: []netip.Addr{vip, netip.MustParseAddr("2001:db8::80")}, Underlay: 6}
	applyTwice(t, h, spec)
	hasLines(t, h, "tunnel ip6tnl0 mode any", "addr 2001:db8::80/128 dev ip6tnl0 proto 114", "addr 192.168.79.180/32 dev ip6tnl0 label ip6tnl0:rsprep proto 114")
	h.SetTunnelMode("ip6tnl0", realserver.ModeIPIP6) // takes IPv4 only
	if f := finding(t, h, spec, "tunnel.mode"); f.OK {
		t.Errorf("ipip6 with an IPv6 VIP too: %+v, want drift", f)
	}
}

func TestIPv6VIPOverIPv4GoesOnSit0(t *testing.T) {
	h := realServer()
	h.AllowModule("sit")
	spec := TUN{VIPs: []netip.Addr{netip.MustParseAddr("2001:db8::80")}, Underlay: 4}
	applyTwice(t, h, spec)
	hasLines(t, h, "link sit0 type sit up=true noarp=true", "addr 2001:db8::80/128 dev sit0 proto 114")
}

func TestEncapInputIsRejected(t *testing.T) {
	for name, err := range map[string]error{
		"gue without a port":   TUN{VIPs: []netip.Addr{vip}, Encap: EncapGUE}.Validate(),
		"a port without gue":   TUN{VIPs: []netip.Addr{vip}, Port: 6080}.Validate(),
		"a port with gre":      TUN{VIPs: []netip.Addr{vip}, Encap: EncapGRE, Port: 6080}.Validate(),
		"encap vxlan":          second(ParseEncap("vxlan")),
		"underlay 6":           second(ParseUnderlay("6")),
		"mss too small":        second(ParseMSS("100")),
		"mss not a number":     second(ParseMSS("big")),
		"mss above the limits": second(ParseMSS("70000")),
	} {
		var in *input.Error
		if !errors.As(err, &in) {
			t.Errorf("%s: err = %v, want bad input", name, err)
		}
	}
	if err := gue.Validate(); err != nil {
		t.Errorf("gue with a port: %v", err)
	}
}

// withoutLines drops the lines that mention word.
func withoutLines(state, word string) string {
	var keep []string
	for _, l := range strings.SplitAfter(state, "\n") {
		if !strings.Contains(l, word) {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "")
}

// downLeaves runs down and wants one note saying note, and line left in
// place: what somebody changed after rsprep is theirs.
func downLeaves(t *testing.T, h *fake.Host, eng *realserver.Engine, spec TUN, note, line string) {
	t.Helper()
	res, err := eng.Down(spec.VIPList(), false)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Notes) != 1 || !strings.Contains(res.Notes[0], note) {
		t.Errorf("notes %q, want one saying %q", res.Notes, note)
	}
	hasLines(t, h, line)
}

// IPv4 and IPv6 VIPs over GUE, each over its own family: one module.fou,
// a port per family, each VIP on its own device.
func TestGUEWithBothFamiliesOpensAPortEach(t *testing.T) {
	h := realServer()
	for _, m := range []string{"fou", "fou6", "ipip", "ip6_tunnel"} {
		h.AllowModule(m)
	}
	spec := TUN{VIPs: []netip.Addr{vip, netip.MustParseAddr("2001:db8::80")}, Encap: EncapGUE, Port: 6080}
	n := 0
	for _, f := range verifyAll(t, h, spec) {
		if f.ID == "module.fou" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("module.fou reported %d times, want once", n)
	}
	applyTwice(t, h, spec)
	hasLines(t, h, "fou port 6080 gue", "fou port 6080 gue -6", "addr 2001:db8::80/128 dev ip6tnl0 proto 114",
		"addr 192.168.79.180/32 dev tunl0 label tunl0:rsprep proto 114", "tunnel ip6tnl0 mode ip6ip6")
	if !h.Loaded("fou6") {
		t.Error("fou6 not loaded for the IPv6 port")
	}
}
