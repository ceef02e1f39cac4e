package watch

import (
	"net/netip"
	"testing"
)

func TestAffects(t *testing.T) {
	vip := netip.MustParsePrefix("192.168.79.180/32")
	for _, tc := range []struct {
		name string
		ev   Event
		want string // Scope.String; "" for nothing
	}{
		{"VIP removed from lo", Event{Kind: KindAddr, Gone: true, Link: "lo", Prefix: vip}, "vip.bound,vip.exclusive"},
		{"VIP added to the uplink", Event{Kind: KindAddr, Link: "eth0", Prefix: vip}, "vip.bound,vip.exclusive"},
		{"IPv6 VIP removed", Event{Kind: KindAddr, Gone: true, Prefix: netip.MustParsePrefix("2001:db8::80/128")}, "vip.bound,vip.exclusive"},
		{"kernel-made link-local address", Event{Kind: KindAddr, Prefix: netip.MustParsePrefix("fe80::1/64")}, ""},
		{"new interface", Event{Kind: KindLink, Link: "veth1"}, "everything"},
		{"interface removed", Event{Kind: KindLink, Gone: true, Link: "tunl0"}, "everything"},
		{"default route replaced", Event{Kind: KindRoute, Table: mainTable, Prefix: netip.MustParsePrefix("0.0.0.0/0")}, "gw.pinned,mss.clamp,ra.defrtr,route.default,route.keep"},
		{"local-table route of an address", Event{Kind: KindRoute, Table: 255, Prefix: vip}, ""},
		{"route of --mss's table removed", Event{Kind: KindRoute, Gone: true, Table: 7301, Prefix: netip.MustParsePrefix("0.0.0.0/0")}, "mss.clamp"},
		{"neighbour changed", Event{Kind: KindNeigh, IP: netip.MustParseAddr("10.0.0.1")}, "gw.pinned"},
		{"events lost", Event{Kind: KindLost, Err: "ENOBUFS"}, "everything"},
	} {
		got := Affects(tc.ev)
		if s := got.String(); s != tc.want && !(tc.want == "" && got.Empty()) {
			t.Errorf("%s: Affects(%v) = %q, want %q", tc.name, tc.ev, s, tc.want)
		}
	}
}

// A burst of 10,000 address events folds into one scope: one re-check.
func TestBurstFoldsIntoOneScope(t *testing.T) {
	var s Scope
	base := netip.MustParseAddr("10.0.0.0")
	for i := 0; i < 10000; i++ {
		base = base.Next()
		s.Add(Affects(Event{Kind: KindAddr, Gone: true, Link: "lo", Prefix: netip.PrefixFrom(base, 32)}))
	}
	if s.Full || len(s.IDs) != 2 || !s.Has("vip.bound") || s.Has("arp.ignore") {
		t.Fatalf("scope = %v", s)
	}
	s.Add(Affects(Event{Kind: KindLink, Link: "veth1"}))
	if !s.Full || !s.Has("arp.ignore") {
		t.Fatalf("a link event did not widen the scope to everything: %v", s)
	}
	s.Add(Affects(Event{Kind: KindNeigh}))
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
		noteCause(causes, Affects(ev), ev)
	}
	if got := causes["vip.bound"]; len(got) != 1 {
		t.Fatalf("a repeated event kept %d times: %q", len(got), got)
	}
	for i := 0; i < 10; i++ {
		ev.Prefix = netip.PrefixFrom(ev.Prefix.Addr().Next(), 32)
		noteCause(causes, Affects(ev), ev)
	}
	if got := causes["vip.bound"]; len(got) != maxCauses {
		t.Fatalf("kept %d causes, want %d: %q", len(got), maxCauses, got)
	}
	noteCause(causes, FullScope(), Event{Kind: KindLink, Link: "veth1"})
	if got := causeOf(causes, "arp.ignore"); len(got) != 1 || got[0] != "link veth1 appeared or changed" {
		t.Fatalf("a full-scope cause: %q", got)
	}
}
