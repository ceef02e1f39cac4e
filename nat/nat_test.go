package nat

import (
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/rsprep/rsprep/arp"
	"github.com/rsprep/rsprep/realserver"
	"github.com/rsprep/rsprep/realserver/fake"
	"github.com/rsprep/rsprep/realserver/input"
)

var (
	dip  = netip.MustParseAddr("192.168.10.1")
	mgmt = netip.MustParsePrefix("10.99.0.0/24")
)

// lan is a real server on 192.168.10.0/24 whose default routes are given
// as "gateway metric" pairs, listed with Dst 0.0.0.0/0 as newer netlink
// versions report them.
func lan(defaults ...string) *fake.Host {
	h := fake.New()
	h.AddLink(realserver.Link{Name: "eth0", Type: "veth", Up: true})
	h.AddAddrRaw(realserver.Addr{Link: "eth0", Prefix: netip.MustParsePrefix("192.168.10.2/24")})
	for _, d := range defaults {
		gw, metric, _ := strings.Cut(d, " ")
		r := realserver.Route{Dst: netip.MustParsePrefix("0.0.0.0/0"), Gw: netip.MustParseAddr(gw), Link: "eth0", Protocol: 3}
		if metric != "" {
			r.Metric, _ = strconv.Atoi(metric)
		}
		h.AddRouteRaw(r)
	}
	return h
}

func engine(h *fake.Host, rec *realserver.Record) *realserver.Engine {
	return &realserver.Engine{Host: h, Record: rec, Mode: "nat", Log: slog.New(slog.DiscardHandler)}
}

func apply(t *testing.T, h *fake.Host, rec *realserver.Record, n NAT) realserver.Result {
	t.Helper()
	if err := n.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := n.Preflight(realserver.NewView(h)); err != nil {
		t.Fatal(err)
	}
	res, err := engine(h, rec).Apply(n.Invariants(), false)
	if err != nil {
		t.Fatalf("apply: %v\n%s", err, h.Render())
	}
	return res
}

// downRestores runs down nat and wants the host exactly as before.
func downRestores(t *testing.T, h *fake.Host, rec *realserver.Record, before string) {
	t.Helper()
	if _, err := engine(h, rec).Down(nil, false); err != nil {
		t.Fatal(err)
	}
	if after := h.Render(); after != before {
		t.Errorf("down did not restore:\n%s\nwant\n%s", after, before)
	}
}

func routes(h *fake.Host) string {
	var out []string
	for _, l := range strings.Split(h.Render(), "\n") {
		if strings.HasPrefix(l, "route ") {
			out = append(out, strings.TrimPrefix(l, "route "))
		}
	}
	return strings.Join(out, "\n")
}

func TestDefaultRouteMovesToTheDIPAndKeepRoutesStayOnTheOldGateway(t *testing.T) {
	for _, tc := range []struct {
		name     string
		defaults []string
		want     string
	}{
		{"one default route", []string{"192.168.10.254"},
			"10.99.0.0/24 via 192.168.10.254 dev eth0\ndefault via 192.168.10.1 dev eth0"},
		{"the lowest metric of several is the one replaced", []string{"192.168.10.254 100", "192.168.10.253 50"},
			"10.99.0.0/24 via 192.168.10.253 dev eth0\ndefault via 192.168.10.1 dev eth0 metric 50\ndefault via 192.168.10.254 dev eth0 metric 100"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := lan(tc.defaults...)
			before := h.Render()
			rec := &realserver.Record{Version: 1}
			n := NAT{DIP: dip, KeepRoutes: []netip.Prefix{mgmt}}
			res := apply(t, h, rec, n)
			if got := routes(h); got != tc.want {
				t.Errorf("routes:\n%s\nwant\n%s", got, tc.want)
			}
			// The management route exists before the default moves.
			if k := res.Changes[0].Kind; k != realserver.KindRouteAdd {
				t.Errorf("first change %s, want the keep-route", res.Changes[0])
			}
			if again := apply(t, h, rec, n); len(again.Changes) != 0 {
				t.Errorf("second apply changed %v", again.Changes)
			}
			downRestores(t, h, rec, before)
		})
	}
}

// Once the default goes via the DIP, only the record knows the previous
// gateway: a keep-route added (or lost) later must still go there.
func TestReapplyTakesThePreviousGatewayFromTheRecord(t *testing.T) {
	h := lan("192.168.10.254")
	rec := &realserver.Record{Version: 1}
	apply(t, h, rec, NAT{DIP: dip, KeepRoutes: []netip.Prefix{mgmt}})
	if err := h.DelRoute(realserver.Route{Dst: mgmt}); err != nil {
		t.Fatal(err)
	}
	other := netip.MustParsePrefix("10.98.0.0/16")
	apply(t, h, rec, NAT{DIP: dip, KeepRoutes: []netip.Prefix{mgmt, other}})
	for _, want := range []string{"10.99.0.0/24 via 192.168.10.254", "10.98.0.0/16 via 192.168.10.254"} {
		if !strings.Contains(routes(h), want) {
			t.Errorf("missing %q in\n%s", want, routes(h))
		}
	}
	// Without the record (verify) the previous gateway is unknown: a missing
	// keep-route is drift with no fix, never a route via the DIP.
	if err := h.DelRoute(realserver.Route{Dst: other}); err != nil {
		t.Fatal(err)
	}
	fs, err := realserver.Verify(h, NAT{DIP: dip, KeepRoutes: []netip.Prefix{other}}.Invariants())
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, f := range fs {
		if f.ID == "route.keep" {
			seen++
			if f.OK || len(f.Fix) != 0 || !strings.Contains(f.Detail, "unknown") {
				t.Errorf("route.keep without a record: %+v", f)
			}
		}
	}
	if seen != 1 {
		t.Errorf("%d route.keep findings, want 1 (for %s): %+v", seen, other, fs)
	}
}

func TestNoDefaultRouteIsAddedAndDownRemovesIt(t *testing.T) {
	h := lan()
	before := h.Render()
	rec := &realserver.Record{Version: 1}
	apply(t, h, rec, NAT{DIP: dip})
	if got := routes(h); got != "default via 192.168.10.1 dev eth0" {
		t.Errorf("routes: %q", got)
	}
	downRestores(t, h, rec, before)
}

func TestDownLeavesADefaultRouteChangedSince(t *testing.T) {
	h := lan("192.168.10.254")
	rec := &realserver.Record{Version: 1}
	apply(t, h, rec, NAT{DIP: dip})
	h.AddRoute(realserver.Route{Dst: netip.MustParsePrefix("0.0.0.0/0"), Gw: netip.MustParseAddr("192.168.10.250")})
	res, err := engine(h, rec).Down(nil, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Notes) != 1 || !strings.Contains(res.Notes[0], "192.168.10.250") || !strings.Contains(routes(h), "via 192.168.10.250") {
		t.Errorf("notes %q, routes\n%s", res.Notes, routes(h))
	}
}

// A network manager that re-adds its own gateway beside rsprep's route
// (systemd-networkd after a restart, seen in the boot test) leaves two
// default routes at one metric, rsprep's first. down removes rsprep's:
// replacing it with the previous one again is a duplicate the kernel
// refuses (EEXIST).
func TestDownWhenThePreviousRouteIsBackBesideRsprep(t *testing.T) {
	h := lan("192.168.10.254")
	rec := &realserver.Record{Version: 1}
	apply(t, h, rec, NAT{DIP: dip})
	h.AddRouteRaw(realserver.Route{Dst: netip.MustParsePrefix("0.0.0.0/0"), Gw: netip.MustParseAddr("192.168.10.254"), Link: "eth0", Protocol: 3})
	if _, err := engine(h, rec).Down(nil, false); err != nil {
		t.Fatalf("down: %v\n%s", err, routes(h))
	}
	if got := routes(h); got != "default via 192.168.10.254 dev eth0" {
		t.Errorf("routes after down:\n%s\nwant only the previous default route", got)
	}
}

// The mirror case: the manager's route comes back ahead of rsprep's, at
// its metric (the kernel uses the first). Replacing the first again with
// the route via the DIP is a duplicate of rsprep's own, which the kernel
// refuses (EEXIST); apply removes the manager's route instead, remembered
// as the one replaced, so down puts it back.
func TestApplyWhenAManagersRouteIsBackAheadOfRsprep(t *testing.T) {
	h := lan("192.168.10.254")
	before := h.Render()
	rec := &realserver.Record{Version: 1}
	n := NAT{DIP: dip}
	apply(t, h, rec, n)
	managerAhead(t, h, 3)
	res := apply(t, h, rec, n)
	if cur, _, _ := realserver.DefaultRoute(realserver.NewView(h)); cur.Gw != dip {
		t.Errorf("the default route in effect is %s, want the one via the DIP\n%s", cur, routes(h))
	}
	if got := strings.Join(changeStrings(res.Changes), "|"); got != "ip route del default via 192.168.10.254 dev eth0" {
		t.Errorf("changes %q, want the manager's route removed", got)
	}
	if again := apply(t, h, rec, n); len(again.Changes) != 0 {
		t.Errorf("second apply changed %v", again.Changes)
	}
	downRestores(t, h, rec, before)
}

// With no record yet (the route via the DIP stood there unused, behind
// the manager's), the removal is recorded as the replacement it is: down
// puts the manager's route back in its place.
func TestUnshadowIsRecordedAsAReplace(t *testing.T) {
	h := lan("192.168.10.254")
	h.AddRouteRaw(realserver.Route{Dst: realserver.DefaultDst, Gw: dip, Link: "eth0", Protocol: 4})
	rec := &realserver.Record{Version: 1}
	apply(t, h, rec, NAT{DIP: dip})
	if len(rec.Changes) != 1 || rec.Changes[0].Kind != realserver.KindRouteReplace || rec.Changes[0].PrevRoute.Gw != netip.MustParseAddr("192.168.10.254") {
		t.Fatalf("record %+v, want the manager's route replaced by the DIP's", rec.Changes)
	}
	if _, err := engine(h, rec).Down(nil, false); err != nil {
		t.Fatal(err)
	}
	if got := routes(h); got != "default via 192.168.10.254 dev eth0" {
		t.Errorf("routes after down:\n%s\nwant the manager's", got)
	}
}

// A later step failing (here the --pin-gateway-arp entry) rolls the
// removal back: the manager's route is the one in effect again, and the
// record is as it was. rsprep's route, which stood unused behind it, is
// not put back: the host can only replace the first route of a metric.
func TestRollbackPutsTheManagersRouteBackInEffect(t *testing.T) {
	h := lan("192.168.10.254")
	rec := &realserver.Record{Version: 1}
	apply(t, h, rec, NAT{DIP: dip})
	manager := managerAhead(t, h, 16)
	saved := rec.Clone()
	h.FailWrite(2) // the route, then the neighbour fails
	n := NAT{DIP: dip, Pin: &arp.Pin{MAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}}}
	if _, err := engine(h, rec).Apply(n.Invariants(), false); err == nil || !strings.Contains(err.Error(), "rolled back the 1 change") {
		t.Fatalf("apply: %v, want the pin to fail and the route rolled back", err)
	}
	if cur, _, _ := realserver.DefaultRoute(realserver.NewView(h)); !cur.Equal(manager) {
		t.Errorf("after the rollback the default route in effect is %s, want the manager's\n%s", cur, routes(h))
	}
	if !reflect.DeepEqual(rec.Changes, saved.Changes) {
		t.Errorf("record after the rollback %+v, want %+v", rec.Changes, saved.Changes)
	}
}

// managerAhead puts the manager's default route via 192.168.10.254
// (protocol proto) back ahead of the one in effect, at its metric, as
// `ip route add` then `ip route append` would order them.
func managerAhead(t *testing.T, h *fake.Host, proto int) realserver.Route {
	t.Helper()
	ours, _, err := realserver.DefaultRoute(realserver.NewView(h))
	if err != nil {
		t.Fatal(err)
	}
	if err := h.DelRoute(ours); err != nil {
		t.Fatal(err)
	}
	manager := realserver.Route{Dst: realserver.DefaultDst, Gw: netip.MustParseAddr("192.168.10.254"), Link: "eth0", Metric: ours.Metric, Protocol: proto}
	h.AddRouteRaw(manager)
	h.AddRouteRaw(ours)
	return manager
}

func changeStrings(cs []realserver.Change) []string {
	out := make([]string, 0, len(cs))
	for _, c := range cs {
		out = append(out, c.String())
	}
	return out
}

func TestDryRunChangesNothing(t *testing.T) {
	h := lan("192.168.10.254")
	before := h.Render()
	res, err := engine(h, &realserver.Record{Version: 1}).Apply(NAT{DIP: dip, KeepRoutes: []netip.Prefix{mgmt}}.Invariants(), true)
	if err != nil {
		t.Fatal(err)
	}
	var plan []string
	for _, c := range res.Changes {
		plan = append(plan, c.String())
	}
	want := "ip route add 10.99.0.0/24 via 192.168.10.254 dev eth0|ip route replace default via 192.168.10.1 dev eth0"
	if strings.Join(plan, "|") != want || h.Render() != before {
		t.Errorf("plan %q, want %q; changed: %v", plan, want, h.Render() != before)
	}
}

func TestInputThatContradictsTheHostIsRejectedBeforeAnyChange(t *testing.T) {
	down := lan("192.168.10.254")
	down.AddLink(realserver.Link{Name: "eth1", Type: "veth"})
	down.AddAddrRaw(realserver.Addr{Link: "eth1", Prefix: netip.MustParsePrefix("10.7.0.2/24")})
	for _, tc := range []struct {
		name string
		h    *fake.Host
		n    NAT
		want string
	}{
		{"DIP off-link", lan("192.168.10.254"), NAT{DIP: netip.MustParseAddr("10.9.9.1")}, "not on-link: it is in no directly connected subnet of an up interface (connected: eth0 192.168.10.0/24)"},
		{"DIP on a down interface", down, NAT{DIP: netip.MustParseAddr("10.7.0.1")}, "not on-link"},
		{"DIP is our own address", lan("192.168.10.254"), NAT{DIP: netip.MustParseAddr("192.168.10.2")}, "this host's own address (192.168.10.2/24 on eth0)"},
		{"keep-route on the connected subnet", lan("192.168.10.254"), NAT{DIP: dip, KeepRoutes: []netip.Prefix{netip.MustParsePrefix("192.168.10.0/25")}}, "directly connected on eth0"},
		{"keep-route without a default route", lan(), NAT{DIP: dip, KeepRoutes: []netip.Prefix{mgmt}}, "no default route"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.n.Preflight(realserver.NewView(tc.h))
			var in *input.Error
			if !errors.As(err, &in) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want bad input saying %q", err, tc.want)
			}
		})
	}
}

func TestBadInputIsRejected(t *testing.T) {
	for name, n := range map[string]NAT{
		"no DIP":                               {},
		"IPv6 DIP":                             {DIP: netip.MustParseAddr("2001:db8::1")},
		"multicast DIP":                        {DIP: netip.MustParseAddr("224.0.0.1")},
		"keep every route":                     {DIP: dip, KeepRoutes: []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0")}},
		"keep-route twice":                     {DIP: dip, KeepRoutes: []netip.Prefix{mgmt, mgmt}},
		"IPv6 keep-route without an IPv6 DIP":  {DIP: dip, KeepRoutes: []netip.Prefix{netip.MustParsePrefix("2001:db8::/32")}},
		"IPv4 keep-route without an IPv4 DIP":  {DIP6: netip.MustParseAddr("2001:db8::1"), KeepRoutes: []netip.Prefix{mgmt}},
		"link-local DIP without its interface": {DIP6: netip.MustParseAddr("fe80::1")},
		"zone on a global DIP":                 {DIP6: netip.MustParseAddr("2001:db8::1%eth0")},
		"multicast IPv6 DIP":                   {DIP6: netip.MustParseAddr("ff02::1")},
		"ARP pin without an IPv4 DIP":          {DIP6: netip.MustParseAddr("2001:db8::1"), Pin: &arp.Pin{}},
	} {
		var in *input.Error
		if err := n.Validate(); !errors.As(err, &in) {
			t.Errorf("%s: err = %v, want bad input", name, err)
		}
	}
}

func TestDualStackInputIsAccepted(t *testing.T) {
	for name, n := range map[string]NAT{
		"IPv6 alone":               {DIP6: netip.MustParseAddr("2001:db8::1")},
		"link-local with its zone": {DIP6: netip.MustParseAddr("fe80::1%eth0")},
		"dual stack, keep-routes":  {DIP: dip, DIP6: netip.MustParseAddr("2001:db8::1"), KeepRoutes: []netip.Prefix{mgmt, netip.MustParsePrefix("2001:db8:99::/48")}},
	} {
		if err := n.Validate(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}
