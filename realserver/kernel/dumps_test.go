package kernel

import (
	"log/slog"
	"maps"
	"net"
	"net/netip"
	"os/exec"
	"testing"
	"time"

	"github.com/rsprep/rsprep/arp"
	"github.com/rsprep/rsprep/nat"
	"github.com/rsprep/rsprep/realserver"
	"github.com/rsprep/rsprep/realserver/persist"
)

// ip runs ip(8) in the namespace of the calling thread (the test's).
func ip(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		t.Fatalf("ip %v: %v: %s", args, err, out)
	}
}

// uplink gives the test's namespace an up veth in 192.0.2.0/24 and a
// default route via 192.0.2.254.
func uplink(t *testing.T) {
	t.Helper()
	ip(t, "link", "add", "rs0", "type", "veth", "peer", "name", "rs1")
	ip(t, "link", "set", "rs0", "up")
	ip(t, "addr", "add", "192.0.2.10/24", "dev", "rs0")
	ip(t, "route", "add", "default", "via", "192.0.2.254")
}

// verifyAsCLI observes the host as `rsprep verify` does: one view serves
// the mode's preflight and its invariants.
func verifyAsCLI(t *testing.T, h *Host, mode realserver.Mode) {
	t.Helper()
	view, err := realserver.Observe(h, realserver.RecordOnUse(func() *realserver.Record { return nil }))
	if err != nil {
		t.Fatalf("observe: %v", err)
	}
	if err := mode.Preflight(view); err != nil {
		t.Fatalf("preflight: %v", err)
	}
	if _, err := view.Verify(mode.Invariants()); err != nil {
		t.Fatalf("verify: %v", err)
	}
}

// applyAsCLI applies mode as `rsprep MODE` does: observe and preflight,
// take the namespace's lock, apply from that observation.
func applyAsCLI(t *testing.T, h *Host, state realserver.State, mode realserver.Mode) realserver.Result {
	t.Helper()
	view, unlock, err := state.BeginWrite(h, mode.Preflight, time.Second)
	if err != nil {
		t.Fatalf("observe and lock: %v", err)
	}
	defer unlock()
	eng, err := realserver.NewEngine(view, mode.Name(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	res, err := eng.Apply(mode.Invariants(), false)
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	return res
}

// A no-op apply observes once: one link dump and one address dump (and a
// route dump where the mode checks routes), as verify. Its preflight's
// observation, taken before the lock, stands when no other rsprep wrote
// the namespace before it got the lock. A cold apply observes once more,
// after its changes: the postcondition.
func TestNoOpApplyDumpsEachTableOnce(t *testing.T) {
	for _, tc := range []struct {
		name       string
		mode       realserver.Mode
		cold, noop map[string]int
	}{
		{"dr", arp.DR{VIPs: []netip.Addr{netip.MustParseAddr("192.168.79.180"), netip.MustParseAddr("192.168.79.181")}},
			// cold: the preflight's route dump, for a VIP not yet bound that
			// would be a gateway (realserver.CheckVIPsOffPath)
			map[string]int{"link": 2, "address": 2, "route": 1}, map[string]int{"link": 1, "address": 1}},
		{"nat", nat.NAT{DIP: netip.MustParseAddr("192.0.2.1")},
			map[string]int{"link": 2, "address": 2, "route": 2}, map[string]int{"link": 1, "address": 1, "route": 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inFreshNetns(t, func(h *Host) {
				uplink(t)
				netns, err := persist.CurrentNetns()
				if err != nil {
					t.Fatal(err)
				}
				clear(h.dumpsSent)
				state := realserver.State{Files: persist.Files{Dir: t.TempDir(), Netns: netns}}
				if res := applyAsCLI(t, h, state, tc.mode); len(res.Changes) == 0 {
					t.Fatal("the first apply changed nothing")
				}
				if !maps.Equal(h.dumpsSent, tc.cold) {
					t.Errorf("a cold apply sent dumps %v, want %v", h.dumpsSent, tc.cold)
				}
				clear(h.dumpsSent)
				if res := applyAsCLI(t, h, state, tc.mode); len(res.Changes) != 0 {
					t.Fatalf("the second apply changed %v", res.Changes)
				}
				if !maps.Equal(h.dumpsSent, tc.noop) {
					t.Errorf("a no-op apply sent dumps %v, want %v", h.dumpsSent, tc.noop)
				}
			})
		})
	}
}

// A verify sends one dump per table it reads, and no more: one link dump
// and one address dump, and a route or neighbour dump only where the mode
// checks routes or neighbours. (The link names of addresses, routes and
// neighbours come from that one link dump.)
func TestVerifyDumpsEachTableOnce(t *testing.T) {
	mac, _ := net.ParseMAC("02:00:00:00:00:01")
	for _, tc := range []struct {
		name string
		mode realserver.Mode
		want map[string]int
	}{
		{"dr", arp.DR{VIPs: []netip.Addr{netip.MustParseAddr("192.168.79.180")}},
			map[string]int{"link": 1, "address": 1, "route": 1}}, // the VIP is absent: is it a gateway?
		{"nat", nat.NAT{DIP: netip.MustParseAddr("192.0.2.1")},
			map[string]int{"link": 1, "address": 1, "route": 1}},
		{"nat pinned", nat.NAT{DIP: netip.MustParseAddr("192.0.2.1"), Pin: &arp.Pin{MAC: mac}},
			map[string]int{"link": 1, "address": 1, "route": 1, "neighbour": 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inFreshNetns(t, func(h *Host) {
				uplink(t)
				verifyAsCLI(t, h, tc.mode)
				if !maps.Equal(h.dumpsSent, tc.want) {
					t.Errorf("verify %s sent dumps %v, want %v", tc.name, h.dumpsSent, tc.want)
				}
			})
		})
	}
}

// A link made after the last link dump still gets its name: the unknown
// index refreshes the link dump, once; known ones do not.
func TestDumpNamesLinkMadeSinceLinkDump(t *testing.T) {
	inFreshNetns(t, func(h *Host) {
		if _, err := h.Links(); err != nil {
			t.Fatal(err)
		}
		ip(t, "link", "add", "late0", "type", "veth", "peer", "name", "late1")
		ip(t, "addr", "add", "198.51.100.7/24", "dev", "late0")
		ip(t, "neigh", "replace", "198.51.100.1", "lladdr", "02:00:00:00:00:02", "dev", "late0", "nud", "permanent")
		want := realserver.Addr{Link: "late0", Prefix: netip.MustParsePrefix("198.51.100.7/24"), Label: "late0"}
		if got := loAddrs(t, h); !containsAddr(got, want) {
			t.Errorf("Addrs: %v, want %v among them", got, want)
		}
		if n := h.dumpsSent["link"]; n != 2 {
			t.Errorf("%d link dumps, want 2: the first and one refresh for late0", n)
		}
		ns, err := h.Neighbors()
		if err != nil {
			t.Fatal(err)
		}
		if len(ns) != 1 || ns[0].Link != "late0" {
			t.Errorf("Neighbors: %v, want one on late0", ns)
		}
		loAddrs(t, h)
		if n := h.dumpsSent["link"]; n != 2 {
			t.Errorf("%d link dumps after reading known links again, want still 2", n)
		}
	})
}

func containsAddr(as []realserver.Addr, want realserver.Addr) bool {
	for _, a := range as {
		if a == want {
			return true
		}
	}
	return false
}
