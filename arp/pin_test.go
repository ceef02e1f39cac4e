package arp

import (
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/rsprep/rsprep/realserver"
	"github.com/rsprep/rsprep/realserver/fake"
	"github.com/rsprep/rsprep/realserver/input"
)

var (
	gw       = netip.MustParseAddr("192.168.10.254")
	macA     = mustMAC("52:54:00:00:00:0a")
	macB     = mustMAC("52:54:00:00:00:0b")
	pinVIP   = []netip.Addr{netip.MustParseAddr("192.168.79.180")}
	neighbor = func(mac net.HardwareAddr, state realserver.NeighState) realserver.Neighbor {
		return realserver.Neighbor{Link: "eth0", IP: gw, MAC: mac, State: state}
	}
)

func mustMAC(s string) net.HardwareAddr {
	m, err := net.ParseMAC(s)
	if err != nil {
		panic(err)
	}
	return m
}

// routedHost is a DR real server whose default route goes via gw.
func routedHost() *fake.Host {
	h := fake.New()
	h.SetLinkUp("lo", true) // as on any host that runs a service: down never takes lo down
	h.AddLink(realserver.Link{Name: "eth0", Type: "veth", Up: true})
	h.AddAddrRaw(realserver.Addr{Link: "eth0", Prefix: netip.MustParsePrefix("192.168.10.2/24")})
	h.AddRouteRaw(realserver.Route{Dst: netip.MustParsePrefix("0.0.0.0/0"), Gw: gw, Link: "eth0"})
	return h
}

func pinEngine(h *fake.Host, rec *realserver.Record) *realserver.Engine {
	return &realserver.Engine{Host: h, Record: rec, Mode: "dr", Log: slog.New(slog.DiscardHandler)}
}

func applyPin(h *fake.Host, rec *realserver.Record, p *Pin) error {
	dr := DR{VIPs: pinVIP, Pin: p}
	if err := dr.Validate(); err != nil {
		return err
	}
	if err := dr.Preflight(realserver.NewView(h)); err != nil {
		return err
	}
	_, err := pinEngine(h, rec).Apply(dr.Invariants(), false)
	return err
}

func gwEntry(t *testing.T, h *fake.Host) string {
	t.Helper()
	return h.NeighborEntry(gw)
}

func pinFinding(t *testing.T, h *fake.Host, p Pin) realserver.Finding {
	t.Helper()
	fs, err := realserver.Verify(h, []realserver.Invariant{p.Invariant()})
	if err != nil || len(fs) != 1 {
		t.Fatalf("verify: %v %v", fs, err)
	}
	return fs[0]
}

func TestPinWritesThePermanentEntryOverWhateverIsThere(t *testing.T) {
	for _, tc := range []struct {
		name  string
		wire  net.HardwareAddr // what the gateway answers; nil: silent
		entry *realserver.Neighbor
		flag  net.HardwareAddr
		want  string
	}{
		{"from an ARP probe", macA, nil, nil, "PERMANENT " + macA.String()},
		{"a probe beats a STALE entry", macA, &realserver.Neighbor{MAC: macB, State: realserver.NeighStale}, nil, "PERMANENT " + macA.String()},
		{"a STALE entry when the gateway is silent", nil, &realserver.Neighbor{MAC: macB, State: realserver.NeighStale}, nil, "PERMANENT " + macB.String()},
		{"--gateway-mac over a FAILED entry", nil, &realserver.Neighbor{State: realserver.NeighFailed}, macA, "PERMANENT " + macA.String()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := routedHost()
			h.SetWire(gw, tc.wire)
			if tc.entry != nil {
				h.AddNeighborRaw(neighbor(tc.entry.MAC, tc.entry.State))
			}
			rec := &realserver.Record{Version: 1}
			if err := applyPin(h, rec, &Pin{MAC: tc.flag}); err != nil {
				t.Fatal(err)
			}
			if got := gwEntry(t, h); got != tc.want {
				t.Errorf("entry %q, want %q", got, tc.want)
			}
			if f := pinFinding(t, h, Pin{MAC: tc.flag}); !f.OK {
				t.Errorf("gw.pinned after apply: %+v", f)
			}
			// A learned entry comes back by itself: down removes ours.
			if _, err := pinEngine(h, rec).Down(pinVIP, false); err != nil {
				t.Fatal(err)
			}
			if got := gwEntry(t, h); got != "none" {
				t.Errorf("after down the entry is %q", got)
			}
		})
	}
}

func TestNoWayToLearnTheMACIsAHostError(t *testing.T) {
	h := routedHost()
	h.AddNeighborRaw(neighbor(nil, realserver.NeighFailed))
	err := Pin{}.Preflight(realserver.NewView(h))
	var in *input.Error
	if err == nil || errors.As(err, &in) || !strings.Contains(err.Error(), "cannot learn the MAC of gateway 192.168.10.254 on eth0") {
		t.Errorf("err = %v, want a host error (exit 3) naming the gateway", err)
	}
}

// A swapped router: the pinned MAC no longer answers.
func TestVerifyReportsAGatewayThatAnswersWithAnotherMAC(t *testing.T) {
	h := routedHost()
	h.SetWire(gw, macA)
	rec := &realserver.Record{Version: 1}
	if err := applyPin(h, rec, &Pin{}); err != nil {
		t.Fatal(err)
	}
	h.SetWire(gw, macB)
	f := pinFinding(t, h, Pin{})
	if f.OK || !strings.Contains(f.Got, "PERMANENT lladdr "+macA.String()+"; the gateway answers with "+macB.String()) || len(f.Fix) != 1 {
		t.Fatalf("gw.pinned: %+v", f)
	}
	// Without --gateway-mac apply follows the gateway.
	if err := applyPin(h, rec, &Pin{}); err != nil {
		t.Fatal(err)
	}
	if got := gwEntry(t, h); got != "PERMANENT "+macB.String() {
		t.Errorf("entry %q after re-apply", got)
	}

	// With --gateway-mac it will not pin a MAC the gateway does not have.
	flagged := Pin{MAC: macA}
	f = pinFinding(t, h, flagged)
	if f.OK || len(f.Fix) != 0 || !strings.Contains(f.Detail, "check the router") {
		t.Errorf("gw.pinned with a stale --gateway-mac: %+v", f)
	}
	var nc *realserver.NotConvergedError
	if err := applyPin(h, rec, &flagged); !errors.As(err, &nc) {
		t.Errorf("apply with a stale --gateway-mac: %v, want not converged", err)
	}
}

func TestSilentGatewayKeepsItsPinUnconfirmed(t *testing.T) {
	h := routedHost()
	h.AddNeighborRaw(neighbor(macA, realserver.NeighPermanent))
	f := pinFinding(t, h, Pin{})
	if !f.OK || !strings.Contains(f.Detail, "not confirmed") {
		t.Errorf("gw.pinned: %+v", f)
	}
}

// Somebody else's static entry is put back; other entries are not touched.
func TestDownRestoresOnlyWhatThePinReplaced(t *testing.T) {
	h := routedHost()
	h.AddNeighborRaw(neighbor(macB, realserver.NeighPermanent))
	other := realserver.Neighbor{Link: "eth0", IP: netip.MustParseAddr("192.168.10.77"), MAC: macB, State: realserver.NeighPermanent}
	h.AddNeighborRaw(other)
	before := h.Render()
	rec := &realserver.Record{Version: 1}
	if err := applyPin(h, rec, &Pin{MAC: macA}); err != nil {
		t.Fatal(err)
	}
	if got := gwEntry(t, h); got != "PERMANENT "+macA.String() {
		t.Fatalf("entry %q", got)
	}
	if _, err := pinEngine(h, rec).Down(pinVIP, false); err != nil {
		t.Fatal(err)
	}
	if after := h.Render(); after != before {
		t.Errorf("down:\n%s\nwant\n%s", after, before)
	}
}

func TestNoGatewayToPinIsBadInput(t *testing.T) {
	noDefault := fake.New()
	noDefault.AddLink(realserver.Link{Name: "eth0", Type: "veth", Up: true})
	noDefault.AddAddrRaw(realserver.Addr{Link: "eth0", Prefix: netip.MustParsePrefix("192.168.10.2/24")})
	for _, tc := range []struct {
		name string
		h    *fake.Host
		p    Pin
		want string
	}{
		{"no default route, no --gateway", noDefault, Pin{}, "no default route"},
		{"--gateway off-link", routedHost(), Pin{Gateway: netip.MustParseAddr("10.1.1.1")}, "not on-link"},
		{"--gateway is ours", routedHost(), Pin{Gateway: netip.MustParseAddr("192.168.10.2")}, "own address"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.p.Preflight(realserver.NewView(tc.h))
			var in *input.Error
			if !errors.As(err, &in) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want bad input saying %q", err, tc.want)
			}
		})
	}
	var in *input.Error
	if err := (Pin{Gateway: netip.MustParseAddr("2001:db8::1")}).Validate(); !errors.As(err, &in) {
		t.Errorf("IPv6 gateway: %v", err)
	}
}

// A verify of a pinned gateway without a learned entry asks the gateway
// once: the preflight's ARP probe is part of the observation, and the
// check reads its answer.
func TestVerifyPinnedProbesTheGatewayOnce(t *testing.T) {
	h := routedHost()
	h.SetWire(gw, macA)
	dr := DR{VIPs: pinVIP, Pin: &Pin{}}
	v, err := realserver.Observe(h, realserver.Records{})
	if err != nil {
		t.Fatal(err)
	}
	if err := dr.Preflight(v); err != nil {
		t.Fatal(err)
	}
	fs, err := v.Verify(dr.Invariants())
	if err != nil {
		t.Fatal(err)
	}
	if n := h.Probes(); n != 1 {
		t.Errorf("preflight and verify sent %d ARP probes, want 1", n)
	}
	if i := slices.IndexFunc(fs, func(f realserver.Finding) bool { return f.ID == "gw.pinned" }); i < 0 || !strings.Contains(fs[i].Want, macA.String()) {
		t.Errorf("gw.pinned does not want the gateway's answer %s: %+v", macA, fs)
	}
}

// An invariant is built once and checked on many observations: watch
// builds its invariants when it starts and checks them for months. Each
// new observation asks the gateway again, so a router swapped after the
// first check is drift at the next one (within one run, the rounds share
// one probe: TestApplyPinsProbesTheGatewayOncePerRun).
func TestPinnedCheckAsksTheGatewayAgainOnEachObservation(t *testing.T) {
	h := routedHost()
	h.SetWire(gw, macA)
	p := &Pin{}
	if err := applyPin(h, &realserver.Record{}, p); err != nil {
		t.Fatal(err)
	}
	inv := p.Invariant()
	check := func() realserver.Finding { return checkOnce(t, h, inv) }
	if f := check(); !f.OK {
		t.Fatalf("after apply, gw.pinned fails: %+v", f)
	}
	before := h.Probes()
	h.SetWire(gw, macB) // the router is swapped
	f := check()
	if f.OK || !strings.Contains(f.Want, macB.String()) || !strings.Contains(f.Got, macA.String()) {
		t.Errorf("after the router was swapped, gw.pinned ok=%v want %q got %q; want drift from the pinned %s to the answering %s", f.OK, f.Want, f.Got, macA, macB)
	}
	if n := h.Probes() - before; n != 1 {
		t.Errorf("the second observation sent %d ARP probes, want 1", n)
	}
}

// One apply, however many rounds it checks, asks the gateway once.
func TestApplyPinsProbesTheGatewayOncePerRun(t *testing.T) {
	h := routedHost()
	h.SetWire(gw, macA)
	if err := applyPin(h, &realserver.Record{}, &Pin{}); err != nil {
		t.Fatal(err)
	}
	before := h.Probes()
	if _, err := pinEngine(h, &realserver.Record{}).Apply(DR{VIPs: pinVIP, Pin: &Pin{}}.Invariants(), false); err != nil {
		t.Fatal(err)
	}
	h.SetWire(gw, macB)
	res, err := pinEngine(h, &realserver.Record{}).Apply(DR{VIPs: pinVIP, Pin: &Pin{}}.Invariants(), false)
	if err != nil {
		t.Fatal(err)
	}
	if n := h.Probes() - before; n != 2 {
		t.Errorf("two applies sent %d ARP probes, want one each", n)
	}
	if got := gwEntry(t, h); got != "PERMANENT "+macB.String() {
		t.Errorf("the second apply left the gateway's entry %s, want it re-pinned to %s (%d changes)", got, macB, len(res.Changes))
	}
}

// checkOnce checks inv on a new observation of h and returns its one finding.
func checkOnce(t *testing.T, h realserver.Host, inv realserver.Invariant) realserver.Finding {
	t.Helper()
	fs, err := realserver.NewView(h).Verify([]realserver.Invariant{inv})
	if err != nil || len(fs) != 1 {
		t.Fatalf("verify: %v %v", fs, err)
	}
	return fs[0]
}
