package realserver_test

import (
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/rsprep/rsprep/realserver"
	_ "github.com/rsprep/rsprep/tunnel" // registers tunnel's kinds
)

// oneOfEachKind is a change of every kind rsprep makes, as a plan would
// hold them; string kinds, so that the list reads the same before and
// after a kind moves between packages.
func oneOfEachKind() []realserver.Change {
	gw := netip.MustParseAddr("10.0.0.1")
	mac, _ := net.ParseMAC("02:00:00:00:00:01")
	old, _ := net.ParseMAC("02:00:00:00:00:02")
	def := netip.MustParsePrefix("0.0.0.0/0")
	vip := realserver.Addr{Link: "lo", Prefix: netip.MustParsePrefix("192.168.79.180/32"), Label: "lo:rsprep", Proto: realserver.AddrProto}
	held := realserver.Addr{Link: "eth0", Prefix: netip.MustParsePrefix("192.168.79.181/24"), Label: "eth0", Scope: 0}
	return []realserver.Change{
		{Kind: "neigh-set", Mode: "dr", Neigh: realserver.Neighbor{Link: "eth0", IP: gw, MAC: mac, State: realserver.NeighPermanent},
			PrevNeigh: &realserver.Neighbor{Link: "eth0", IP: gw, MAC: old, State: realserver.NeighPermanent}},
		{Kind: "neigh-del", Mode: "dr", Neigh: realserver.Neighbor{Link: "eth0", IP: netip.MustParseAddr("10.0.0.2"), MAC: mac}},
		{Kind: "link-down", Mode: "tun", Link: "tunl1"},
		{Kind: "fou-del", Mode: "tun", Fou: realserver.FouPort{Family: 4, Port: 5555, Proto: 4}},
		{Kind: "route-del", Mode: "tun", Route: realserver.Route{Dst: def, Gw: gw, Link: "eth0", Table: 7301}},
		{Kind: "rule-del", Mode: "tun", Rule: realserver.Rule{Src: netip.MustParsePrefix("2001:db8::80/128"), Table: 7301, Priority: 7301}},
		{Kind: "rule-add", Mode: "tun", Rule: realserver.Rule{Src: netip.MustParsePrefix("192.168.79.180/32"), Table: 7301, Priority: 7301}},
		{Kind: "route-unshadow", Mode: "nat", Route: realserver.Route{Dst: def, Gw: gw, Link: "eth0", Metric: 100},
			PrevRoute: realserver.Route{Dst: def, Gw: netip.MustParseAddr("10.0.0.254"), Link: "eth0", Metric: 100, Protocol: 3}},
		{Kind: "route-replace", Mode: "nat", Route: realserver.Route{Dst: netip.MustParsePrefix("::/0"), Gw: netip.MustParseAddr("fe80::1"), Link: "eth0"},
			PrevRoute: realserver.Route{Dst: netip.MustParsePrefix("::/0"), Gw: netip.MustParseAddr("fe80::2"), Link: "eth0"}},
		{Kind: "route-add", Mode: "nat", Route: realserver.Route{Dst: netip.MustParsePrefix("10.9.0.0/16"), Gw: netip.MustParseAddr("10.0.0.254"), Link: "eth0"}},
		{Kind: "addr-add", Mode: "dr", Addr: vip},
		{Kind: "addr-take", Mode: "dr", Addr: held},
		{Kind: "addr-del", Mode: "dr", Addr: realserver.Addr{Link: "lo", Prefix: netip.MustParsePrefix("192.168.79.0/24")}},
		{Kind: "tunnel-mode", Mode: "tun", Link: "ip6tnl0", From: int(realserver.ModeIP6IP6), To: int(realserver.ModeAny)},
		{Kind: "fou-add", Mode: "tun", Fou: realserver.FouPort{Family: 6, Port: 6080, GUE: true}},
		{Kind: "link-up", Mode: "tun", Link: "tunl0"},
		{Kind: "link-up", Mode: "dr", Link: "lo"},
		{Kind: "sysctl", Mode: "dr", Sysctl: realserver.SysctlKey{Iface: "all", Name: "arp_ignore"}, From: 0, To: 1},
		{Kind: "module", Mode: "tun", Module: "ipip"},
	}
}

// ownRounds are what later runs make to things the record owns already:
// a sysctl written again, a default route replaced again, a neighbour
// re-pinned, a route added to rsprep's table and then found stale.
func ownRounds() [][]realserver.Change {
	gw := netip.MustParseAddr("10.0.0.1")
	def := netip.MustParsePrefix("0.0.0.0/0")
	mac, _ := net.ParseMAC("02:00:00:00:00:03")
	stale := realserver.Route{Dst: netip.MustParsePrefix("10.8.0.0/16"), Gw: gw, Link: "eth0", Table: 7301}
	return [][]realserver.Change{
		oneOfEachKind(),
		{
			{Kind: "sysctl", Mode: "dr", Sysctl: realserver.SysctlKey{Iface: "all", Name: "arp_ignore"}, From: 1, To: 2},
			{Kind: "route-replace", Mode: "nat", Route: realserver.Route{Dst: def, Gw: netip.MustParseAddr("10.0.0.9"), Link: "eth0", Metric: 100},
				PrevRoute: realserver.Route{Dst: def, Gw: netip.MustParseAddr("10.0.0.253"), Link: "eth0", Metric: 100}},
			{Kind: "neigh-set", Mode: "dr", Neigh: realserver.Neighbor{Link: "eth0", IP: gw, MAC: mac, State: realserver.NeighPermanent}},
			{Kind: "tunnel-mode", Mode: "tun", Link: "ip6tnl0", From: int(realserver.ModeAny), To: int(realserver.ModeIPIP6)},
			{Kind: "route-add", Mode: "tun", Route: stale},
		},
		{{Kind: "route-del", Mode: "tun", Route: stale}},
	}
}

// Every kind says, undoes and orders as it did when the kinds were one
// switch in change.go (testdata/kinds/says.golden was written by that
// code): the kinds as types changed no behaviour.
func TestEveryKindSaysUndoesAndOrdersAsBefore(t *testing.T) {
	var b strings.Builder
	for _, c := range oneOfEachKind() {
		b.WriteString(c.String() + "\n")
		if inv, ok := c.Inverse(); ok {
			b.WriteString("  undo: " + inv.String() + "\n")
		} else {
			b.WriteString("  undo: none\n")
		}
	}
	b.WriteString("plan:\n")
	for _, c := range realserver.Plan(oneOfEachKind()) {
		b.WriteString("  " + string(c.Kind) + "\n")
	}
	want, err := os.ReadFile("testdata/kinds/says.golden")
	if err != nil {
		t.Fatal(err)
	}
	if got := b.String(); got != string(want) {
		t.Errorf("the kinds say, undo or order otherwise than before:\n%s", diff(string(want), got))
	}
}

// A record the format before the kinds as types wrote
// (testdata/kinds/record.json: one of each kind, then later runs updating
// and settling what it owns) is written the same, byte for byte, by the
// record as it is now, and loads back and saves again unchanged.
func TestRecordOfEveryKindIsByteCompatible(t *testing.T) {
	golden, err := os.ReadFile("testdata/kinds/record.json")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "net-1.json")
	rec, err := realserver.LoadRecord(path, testNetns)
	if err != nil {
		t.Fatal(err)
	}
	for _, round := range ownRounds() {
		rec.Own(round)
	}
	if err := rec.Save(); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(path); string(data) != string(golden) {
		t.Errorf("owned and saved, the record differs from the golden one:\n%s", diff(string(golden), string(data)))
	}
	back, err := realserver.LoadRecord(path, testNetns)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back.Changes, rec.Changes) {
		t.Errorf("loaded back\n%+v\nwant\n%+v", back.Changes, rec.Changes)
	}
	if err := back.Save(); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(path); string(data) != string(golden) {
		t.Errorf("loaded and saved again, the record changed:\n%s", diff(string(golden), string(data)))
	}
}

// A kind nobody registered (a record a newer rsprep wrote) says its name,
// is never undone, and refuses to run, as before kinds were registered.
func TestUnknownKindRefusesToRun(t *testing.T) {
	c := realserver.Change{Kind: "warp-drive"}
	if s := c.String(); s != "warp-drive" {
		t.Errorf("says %q", s)
	}
	if _, ok := c.Inverse(); ok {
		t.Error("an unknown kind has an inverse")
	}
	if err := c.Run(nil); err == nil || err.Error() != `unknown change kind "warp-drive"` {
		t.Errorf("Run: %v", err)
	}
}
