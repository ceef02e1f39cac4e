package watch

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/rsprep/rsprep/realserver"
)

// ids is the check IDs of the invariants a scope covers (as the
// watcher's last findings name them), sorted and joined; "everything" for
// a full scope.
func (w *watcher) scopeIDs(s Scope) string {
	if s.Full {
		return "everything"
	}
	keys := w.causeKeys(s)
	slices.Sort(keys)
	return strings.Join(slices.Compact(keys), ",")
}

// Each invariant of dr declares the events that can break it; watch only
// asks them. Sysctls, which no event reports, are re-checked by a link
// event (everything) or the resync.
func TestAffects(t *testing.T) {
	w, _, gw := pinnedDRWatcher(t)
	vip := netip.MustParsePrefix("192.168.79.180/32")
	for _, tc := range []struct {
		name string
		ev   Event
		want string
	}{
		{"VIP removed from lo", Event{Kind: KindAddr, Gone: true, Link: "lo", Prefix: vip}, "vip.bound,vip.exclusive"},
		{"VIP added to the uplink", Event{Kind: KindAddr, Link: "eth0", Prefix: vip}, "vip.bound,vip.exclusive"},
		{"IPv6 VIP removed", Event{Kind: KindAddr, Gone: true, Prefix: netip.MustParsePrefix("2001:db8::80/128")}, "vip.bound,vip.exclusive"},
		{"another address", Event{Kind: KindAddr, Link: "eth0", Prefix: netip.MustParsePrefix("192.168.10.3/24")}, ""},
		{"kernel-made link-local address", Event{Kind: KindAddr, Prefix: netip.MustParsePrefix("fe80::1/64")}, ""},
		{"new interface", Event{Kind: KindLink, Link: "veth1"}, "everything"},
		{"interface removed", Event{Kind: KindLink, Gone: true, Link: "tunl0"}, "everything"},
		{"default route replaced", Event{Kind: KindRoute, Table: mainTable, Prefix: netip.MustParsePrefix("0.0.0.0/0")}, "gw.pinned"},
		{"local-table route of an address", Event{Kind: KindRoute, Table: 255, Prefix: vip}, ""},
		{"the gateway's neighbour entry", Event{Kind: KindNeigh, IP: gw}, "gw.pinned"},
		{"another neighbour", Event{Kind: KindNeigh, IP: netip.MustParseAddr("192.168.10.7")}, ""},
		{"events lost", Event{Kind: KindLost, Err: "ENOBUFS"}, "everything"},
	} {
		if got := w.scopeIDs(Affects(tc.ev, w.invs, w.results)); got != tc.want {
			t.Errorf("%s: Affects(%v) covers %q, want %q", tc.name, tc.ev, got, tc.want)
		}
	}
}

// A burst of 10,000 address events folds into one scope: one re-check.
func TestBurstFoldsIntoOneScope(t *testing.T) {
	w, _, _ := pinnedDRWatcher(t)
	var s Scope
	base := netip.MustParseAddr("192.168.79.180")
	for i := 0; i < 10000; i++ {
		s.Add(Affects(Event{Kind: KindAddr, Gone: true, Link: "lo", Prefix: netip.PrefixFrom(base, 32)}, w.invs, w.results))
	}
	if got := w.scopeIDs(s); got != "vip.bound,vip.exclusive" {
		t.Fatalf("scope = %v", got)
	}
	s.Add(Affects(Event{Kind: KindLink, Link: "veth1"}, w.invs, w.results))
	if !s.Full {
		t.Fatalf("a link event did not widen the scope to everything: %v", s)
	}
	s.Add(Affects(Event{Kind: KindNeigh}, w.invs, w.results))
	if !s.Full {
		t.Fatal("a later event narrowed a full scope")
	}
}

func TestEventString(t *testing.T) {
	for ev, want := range map[Event]string{
		{Kind: KindAddr, Gone: true, Link: "lo", Prefix: netip.MustParsePrefix("192.168.79.180/32")}: "address 192.168.79.180/32 removed from lo",
		{Kind: KindAddr, LinkIndex: 7, Prefix: netip.MustParsePrefix("192.168.79.180/32")}:           "address 192.168.79.180/32 added to ifindex 7",
		{Kind: KindRoute, Gone: true, Table: mainTable, Prefix: netip.MustParsePrefix("0.0.0.0/0")}:  "route default removed",
		{Kind: KindLink, Link: "veth1"}: "link veth1 appeared or changed",
	} {
		if got := ev.String(); got != want {
			t.Errorf("%#v: %q, want %q", ev, got, want)
		}
	}
}

func TestNoteCauseKeepsAFewDistinct(t *testing.T) {
	causes := map[string][]string{}
	ev := Event{Kind: KindAddr, Gone: true, Link: "lo", Prefix: netip.MustParsePrefix("192.168.79.180/32")}
	for i := 0; i < 5; i++ {
		noteCause(causes, []string{"vip.bound"}, ev)
	}
	if got := causes["vip.bound"]; len(got) != 1 {
		t.Fatalf("a repeated event kept %d times: %q", len(got), got)
	}
	for i := 0; i < 10; i++ {
		ev.Prefix = netip.PrefixFrom(ev.Prefix.Addr().Next(), 32)
		noteCause(causes, []string{"vip.bound"}, ev)
	}
	if got := causes["vip.bound"]; len(got) != maxCauses {
		t.Fatalf("kept %d causes, want %d: %q", len(got), maxCauses, got)
	}
	noteCause(causes, []string{"*"}, Event{Kind: KindLink, Link: "veth1"})
	if got := causeOf(causes, "arp.ignore"); len(got) != 1 || got[0] != "link veth1 appeared or changed" {
		t.Fatalf("a full-scope cause: %q", got)
	}
}

// An address event narrows the VIP checks to the VIP it names: the
// re-check and the repair see that VIP alone, and the findings of the
// others are kept as they were.
func TestAddressEventNarrowsToItsVIP(t *testing.T) {
	w, h, _ := pinnedDRWatcher(t)
	vip := netip.MustParseAddr("192.168.79.180")
	s := Affects(Event{Kind: KindAddr, Gone: true, Link: "lo", Prefix: netip.PrefixFrom(vip, 32)}, w.invs, w.results)
	if len(s.Invs) != 2 {
		t.Fatalf("scope %v, want the two VIP checks", s)
	}
	for i := range s.Invs {
		if got := s.narrowed(i); len(got) != 1 || got[0] != vip {
			t.Errorf("invariant %d narrowed to %v, want [%v]", i, got, vip)
		}
	}
	total := func() (n int) {
		for _, fs := range w.results {
			n += len(fs)
		}
		return n
	}
	before := total()
	if err := h.DelAddr(realserver.VIPAddr(vip, "lo")); err != nil {
		t.Fatal(err)
	}
	w.recheck(s, map[string][]string{}, false)
	if got := total(); got != before {
		t.Errorf("%d findings after a narrowed re-check, want the %d there were", got, before)
	}
	if w.repairs["vip.bound"] != 1 {
		t.Errorf("repairs %v, want vip.bound once", w.repairs)
	}
	for _, fs := range w.results {
		for _, f := range fs {
			if !f.OK {
				t.Errorf("still failing after the repair: %+v", f)
			}
		}
	}
}
