package watch

import (
	"io"
	"log/slog"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/rsprep/rsprep/arp"
	"github.com/rsprep/rsprep/realserver"
	"github.com/rsprep/rsprep/realserver/fake"
	"github.com/rsprep/rsprep/realserver/persist"
)

// A watched pinned gateway is asked again at each resync, so a router
// swapped while watch runs (a permanent entry sends no event) is re-pinned
// at the next one; the re-checks that events start in between (any
// neighbour's change re-checks gw.pinned) reuse the last answer instead of
// probing the gateway at every event.
func TestWatchAsksThePinnedGatewayAgainAtEachResync(t *testing.T) {
	w, h, gw := pinnedDRWatcher(t)
	macA, _ := net.ParseMAC("52:54:00:00:00:0a")
	macB, _ := net.ParseMAC("52:54:00:00:00:0b")
	pinned := func() string { return h.NeighborEntry(gw) }
	if got := pinned(); got != "PERMANENT "+macA.String() {
		t.Fatalf("after the first apply the gateway's entry is %s", got)
	}
	probes := h.Probes()
	neighbourChanged := Affects(Event{Kind: KindNeigh, IP: gw}, w.invs, w.results)
	if neighbourChanged.Empty() {
		t.Fatal("the gateway's neighbour event re-checks nothing")
	}
	for range 3 {
		w.recheck(neighbourChanged, map[string][]string{"gw.pinned": {"neighbour changed"}}, false)
	}
	if n := h.Probes() - probes; n != 0 {
		t.Errorf("three re-checks started by neighbour events sent %d ARP probes, want none", n)
	}

	h.SetWire(gw, macB) // the router is swapped: no event
	w.recheck(FullScope(), map[string][]string{"*": {"resync"}}, true)
	if n := h.Probes() - probes; n != 1 {
		t.Errorf("a resync sent %d ARP probes, want 1", n)
	}
	if got := pinned(); got != "PERMANENT "+macB.String() {
		t.Errorf("after the resync the gateway's entry is %s, want it re-pinned to the new router's %s", got, macB)
	}
}

// pinnedDRWatcher is a watcher of dr with a pinned gateway on a fake host,
// after its first apply: the gateway answers with 52:54:00:00:00:0a.
func pinnedDRWatcher(t *testing.T) (*watcher, *fake.Host, netip.Addr) {
	t.Helper()
	gw := netip.MustParseAddr("192.168.10.254")
	macA, _ := net.ParseMAC("52:54:00:00:00:0a")
	h := fake.New()
	h.SetLinkUp("lo", true)
	h.AddLink(realserver.Link{Name: "eth0", Type: "veth", Up: true})
	h.AddAddrRaw(realserver.Addr{Link: "eth0", Prefix: netip.MustParsePrefix("192.168.10.2/24")})
	h.AddRouteRaw(realserver.Route{Dst: netip.MustParsePrefix("0.0.0.0/0"), Gw: gw, Link: "eth0"})
	h.SetWire(gw, macA)
	dr := &arp.DR{VIPs: []netip.Addr{netip.MustParseAddr("192.168.79.180"), netip.MustParseAddr("2001:db8::80")}, Pin: &arp.Pin{}}
	if err := dr.Validate(); err != nil {
		t.Fatal(err)
	}
	w := newWatcher(Config{
		Host:         h,
		State:        realserver.State{Files: persist.Files{Dir: t.TempDir(), Netns: persist.Netns{Inode: 1}}},
		Target:       Target{Name: "dr", Mode: dr},
		Log:          slog.New(slog.NewTextHandler(io.Discard, nil)),
		LockWait:     time.Second,
		Resync:       time.Minute,
		MaxRepairs:   3,
		RepairWindow: time.Minute,
	})
	if err := w.apply(); err != nil {
		t.Fatal(err)
	}
	return w, h, gw
}
