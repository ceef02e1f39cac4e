package tunnel

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"testing"

	"github.com/rsprep/rsprep/realserver"
	"github.com/rsprep/rsprep/realserver/fake"
	"github.com/rsprep/rsprep/realserver/input"
)

var vip = netip.MustParseAddr("192.168.79.180")

// realServer is a fake host with an uplink, as a TUN real server has.
func realServer() *fake.Host {
	h := fake.New()
	h.SetLinkUp("lo", true)
	h.AddLink(realserver.Link{Name: "eth0", Type: "veth", Up: true})
	h.AddAddrRaw(realserver.Addr{Link: "eth0", Prefix: netip.MustParsePrefix("192.168.10.2/24")})
	return h
}

func engine(h *fake.Host) *realserver.Engine {
	return &realserver.Engine{Host: h, Record: &realserver.Record{Version: 1}, Mode: "tun", Log: slog.New(slog.DiscardHandler)}
}

// hasLines wants each line in the fake's rendering.
func hasLines(t *testing.T, h *fake.Host, lines ...string) {
	t.Helper()
	state := h.Render()
	for _, want := range lines {
		if !strings.Contains(state, want+"\n") {
			t.Errorf("missing %q in\n%s", want, state)
		}
	}
}

func sysctl(t *testing.T, h *fake.Host, iface, name string) int {
	t.Helper()
	v, err := h.Sysctl(realserver.SysctlKey{Iface: iface, Name: name})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestApplyLoadsIpipThenBindsTheVIPOnTunl0(t *testing.T) {
	h := realServer()
	h.AllowModule("ipip")
	eng := engine(h)
	res, err := eng.Apply(TUN{VIPs: []netip.Addr{vip}}.Invariants(), false)
	if err != nil {
		t.Fatalf("apply: %v\n%s", err, h.Render())
	}
	if res.Changes[0].String() != "modprobe ipip" {
		t.Errorf("first change = %q, want modprobe ipip (it creates tunl0)", res.Changes[0])
	}
	hasLines(t, h,
		"link tunl0 type ipip up=true noarp=true",
		"addr 192.168.79.180/32 dev tunl0 label tunl0:rsprep proto 114",
		"sysctl net/ipv4/conf/all/arp_ignore=1",
		"sysctl net/ipv4/conf/all/arp_announce=2",
		"sysctl net/ipv4/conf/tunl0/rp_filter=0",
	)
	// Sysctls before addresses, within the round that binds the VIP.
	sysctlAt, addrAt := -1, -1
	for i, c := range res.Changes {
		switch {
		case c.Kind == realserver.KindSysctl:
			sysctlAt = i
		case c.Kind == realserver.KindAddrAdd && addrAt < 0:
			addrAt = i
		}
	}
	if addrAt < sysctlAt {
		t.Errorf("an address was added before a sysctl was set: %v", res.Changes)
	}
	again, err := engine(h).Apply(TUN{VIPs: []netip.Addr{vip}}.Invariants(), false)
	if err != nil || len(again.Changes) != 0 {
		t.Fatalf("second apply changed %v (err %v), want nothing", again.Changes, err)
	}
}

// The kernel uses max(conf/all, conf/tunl0): rp_filter=0 on tunl0 alone is
// ignored while all is 1.
func TestRPFilterIsTheMaxOfAllAndTunl0(t *testing.T) {
	for _, tc := range []struct {
		name            string
		mode            RPFilter
		all, tunl0      int
		drift           bool
		wantAll, wantTn int
	}{
		{"off: all=1 tunl0=0 is drift, lower all", RPFilterUnset, 1, 0, true, 0, 0},
		{"off: all=0 tunl0=1, lower tunl0 only", RPFilterOff, 0, 1, true, 0, 0},
		{"off: both 2", RPFilterOff, 2, 2, true, 0, 0},
		{"off: both 0 holds", RPFilterOff, 0, 0, false, 0, 0},
		{"loose: all=1 tunl0=0, raise tunl0, keep all", RPFilterLoose, 1, 0, true, 1, 2},
		{"loose: all=0 tunl0=1", RPFilterLoose, 0, 1, true, 0, 2},
		{"loose: all=2 holds", RPFilterLoose, 2, 0, false, 2, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := realServer()
			h.AddLink(realserver.Link{Name: "tunl0", Type: "ipip", NoARP: true})
			h.SetSysctlRaw("all", "rp_filter", tc.all)
			h.SetSysctlRaw("tunl0", "rp_filter", tc.tunl0)
			fs, err := realserver.Verify(h, []realserver.Invariant{tc.mode.invariant(dev4)})
			if err != nil {
				t.Fatal(err)
			}
			if len(fs) != 1 || fs[0].OK == tc.drift {
				t.Fatalf("findings %+v, want drift=%v", fs, tc.drift)
			}
			if want := fmt.Sprintf("conf/all=%d conf/tunl0=%d", tc.all, tc.tunl0); fs[0].Detail != want {
				t.Errorf("detail %q, want %q", fs[0].Detail, want)
			}
			spec := TUN{VIPs: []netip.Addr{vip}, RPFilter: tc.mode}
			if _, err := engine(h).Apply(spec.Invariants(), false); err != nil {
				t.Fatal(err)
			}
			if got := [2]int{sysctl(t, h, "all", "rp_filter"), sysctl(t, h, "tunl0", "rp_filter")}; got != [2]int{tc.wantAll, tc.wantTn} {
				t.Errorf("after apply all,tunl0 = %v, want %v", got, [2]int{tc.wantAll, tc.wantTn})
			}
		})
	}
}

func TestKernelWithoutIpipStopsBeforeAnyChange(t *testing.T) {
	h := realServer()
	before := h.Render()
	_, err := engine(h).Apply(TUN{VIPs: []netip.Addr{vip}}.Invariants(), false)
	var ce *realserver.ChangeError
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v, want a ChangeError", err)
	}
	for _, want := range []string{"the kernel cannot provide ipip", "tun needs the ipip module", "nothing was changed"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q does not say %q", err, want)
		}
	}
	if after := h.Render(); after != before {
		t.Errorf("the host changed:\n%s\nwant\n%s", after, before)
	}
}

// A built-in ipip shows as tunl0 without any module to load.
func TestBuiltinIpipNeedsNoModprobe(t *testing.T) {
	h := realServer()
	h.AddLink(realserver.Link{Name: "tunl0", Type: "ipip", NoARP: true})
	res, err := engine(h).Apply(TUN{VIPs: []netip.Addr{vip}}.Invariants(), false)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range res.Changes {
		if c.Kind == realserver.KindModule {
			t.Errorf("planned %s with tunl0 already there", c)
		}
	}
}

func TestTunl0OfAnotherTypeIsNotIpip(t *testing.T) {
	h := realServer()
	h.AddLink(realserver.Link{Name: "tunl0", Type: "dummy"})
	fs, err := realserver.Verify(h, TUN{VIPs: []netip.Addr{vip}}.Invariants())
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, f := range fs {
		if f.ID == "module.ipip" || f.ID == "link.tunl0" {
			seen[f.ID]++
			if f.OK || len(f.Fix) > 0 {
				t.Errorf("%s: ok=%v fix=%v, want a failure without a fix", f.ID, f.OK, f.Fix)
			}
		}
	}
	if seen["module.ipip"] != 1 || seen["link.tunl0"] != 1 {
		t.Errorf("findings module.ipip and link.tunl0 seen %v times, want once each: %+v", seen, fs)
	}
}

func TestDownRemovesTheVIPAndRestoresSysctls(t *testing.T) {
	h := realServer()
	h.AllowModule("ipip")
	h.SetSysctlRaw("all", "rp_filter", 1)
	eng := engine(h)
	spec := TUN{VIPs: []netip.Addr{vip}}
	if _, err := eng.Apply(spec.Invariants(), false); err != nil {
		t.Fatal(err)
	}
	if _, err := eng.Down(spec.VIPList(), false); err != nil {
		t.Fatal(err)
	}
	hasLines(t, h,
		"link tunl0 type ipip up=false noarp=true", // down again, as ipip made it; the module stays
		"sysctl net/ipv4/conf/all/rp_filter=1",
		"sysctl net/ipv4/conf/all/arp_ignore=0",
		"sysctl net/ipv4/conf/default/arp_announce=0",
		"sysctl net/ipv4/conf/lo/arp_ignore=0",
	)
	if state := h.Render(); strings.Contains(state, vip.String()) {
		t.Errorf("the VIP is still there:\n%s", state)
	}
}

func TestIPv6VIPGoesOnIp6tnl0WithoutTouchingIPv4Knobs(t *testing.T) {
	h := realServer()
	h.AllowModule("ip6_tunnel")
	spec := TUN{VIPs: []netip.Addr{netip.MustParseAddr("2001:db8::80")}}
	if _, err := engine(h).Apply(spec.Invariants(), false); err != nil {
		t.Fatal(err)
	}
	hasLines(t, h, "link ip6tnl0 type ip6tnl up=true noarp=true", "addr 2001:db8::80/128 dev ip6tnl0 proto 114", "sysctl net/ipv4/conf/all/arp_ignore=0")
	if state := h.Render(); strings.Contains(state, "tunl0") {
		t.Errorf("ipip was loaded for an IPv6-only VIP set:\n%s", state)
	}
}

func TestBadInputIsRejected(t *testing.T) {
	v6 := []netip.Addr{netip.MustParseAddr("2001:db8::80")}
	for name, err := range map[string]error{
		"no VIP":                   TUN{}.Validate(),
		"rp-filter with IPv6 only": TUN{VIPs: v6, RPFilter: RPFilterLoose}.Validate(),
		"rp-filter strict":         second(ParseRPFilter("strict")),
		"rp-filter number":         second(ParseRPFilter("1")),
	} {
		var in *input.Error
		if !errors.As(err, &in) {
			t.Errorf("%s: err = %v, want bad input", name, err)
		}
	}
	if err := (TUN{VIPs: v6}).Validate(); err != nil {
		t.Errorf("IPv6 VIP without --rp-filter: %v", err)
	}
}

func second[T any](_ T, err error) error { return err }
