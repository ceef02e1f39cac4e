package watch

import (
	"io"
	"log/slog"
	"net/netip"
	"testing"
	"time"

	"github.com/rsprep/rsprep/realserver"
	"github.com/rsprep/rsprep/realserver/fake"
	"github.com/rsprep/rsprep/realserver/persist"
	"github.com/rsprep/rsprep/tunnel"
)

// TUN's invariants declare the rule and netconf events too: the clamp's
// rule deleted re-checks mss.clamp, rp_filter changed re-checks rp.filter,
// forwarding turned on re-checks ip.forward; arp_ignore, fou ports and
// modules announce nothing and wait for the resync.
func TestAffectsTUN(t *testing.T) {
	h := fake.New()
	h.SetLinkUp("lo", true)
	h.AddLink(realserver.Link{Name: "eth0", Type: "veth", Up: true, MTU: 1500})
	h.AddAddrRaw(realserver.Addr{Link: "eth0", Prefix: netip.MustParsePrefix("192.168.10.2/24")})
	h.AddRouteRaw(realserver.Route{Dst: realserver.DefaultDst, Gw: netip.MustParseAddr("192.168.10.1"), Link: "eth0"})
	h.AllowModule("ipip")
	h.AllowModule("fou")
	spec := tunnel.TUN{VIPs: []netip.Addr{netip.MustParseAddr("192.168.79.180")}, Encap: tunnel.EncapGUE, Port: 6080, MSS: 1400, ForwardingOff: true}
	if err := spec.Validate(); err != nil {
		t.Fatal(err)
	}
	w := newWatcher(Config{
		Host: h, State: realserver.State{Files: persist.Files{Dir: t.TempDir(), Netns: persist.Netns{Inode: 1}}},
		Target: Target{Name: "tun", Mode: spec}, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		LockWait: time.Second, Resync: time.Minute, MaxRepairs: 3, RepairWindow: time.Minute,
	})
	if err := w.apply(); err != nil {
		t.Fatal(err)
	}
	src := netip.MustParsePrefix("192.168.79.180/32")
	for _, tc := range []struct {
		name string
		ev   Event
		want string
	}{
		{"the clamp's rule removed", Event{Kind: KindRule, Gone: true, Prefix: src, Table: 7301}, "mss.clamp"},
		{"another table's rule", Event{Kind: KindRule, Prefix: src, Table: 100}, ""},
		{"a route of the clamp's table", Event{Kind: KindRoute, Gone: true, Table: 7301, Prefix: realserver.DefaultDst}, "mss.clamp"},
		{"rp_filter of all", Event{Kind: KindNetconf, Family: 4, Link: "all", Sysctl: "rp_filter"}, "rp.filter"},
		{"rp_filter of tunl0", Event{Kind: KindNetconf, Family: 4, Link: "tunl0", Sysctl: "rp_filter"}, "rp.filter"},
		{"ip_forward", Event{Kind: KindNetconf, Family: 4, Link: "all", Sysctl: "forwarding"}, "ip.forward"},
		{"IPv6 forwarding", Event{Kind: KindNetconf, Family: 6, Link: "all", Sysctl: "forwarding"}, "ip.forward"},
		{"the VIP off tunl0", Event{Kind: KindAddr, Gone: true, Link: "tunl0", Prefix: src}, "vip.bound,vip.exclusive"},
		{"tunl0 down", Event{Kind: KindLink, Link: "tunl0"}, "everything"},
	} {
		if got := w.scopeIDs(Affects(tc.ev, w.invs, w.results)); got != tc.want {
			t.Errorf("%s: Affects(%v) covers %q, want %q", tc.name, tc.ev, got, tc.want)
		}
	}
}
