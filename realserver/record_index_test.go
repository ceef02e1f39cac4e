package realserver

import (
	"net/netip"
	"testing"
)

// ownerIndex finds, for every change a plan may hold, the recorded change
// a full index of the record finds: of the same address on another link,
// of a taken address, of a sysctl or a route.
func TestOwnerIndexFindsWhatAFullIndexFinds(t *testing.T) {
	vip := netip.MustParsePrefix("192.168.79.180/32")
	rec := &Record{Changes: []Change{
		{Kind: KindAddrAdd, Addr: Addr{Link: "lo", Prefix: netip.MustParsePrefix("192.168.79.181/32")}},
		{Kind: KindAddrAdd, Addr: Addr{Link: "tunl0", Prefix: vip}},
		{Kind: KindSysctl, Sysctl: SysctlKey{Iface: "all", Name: "arp_ignore"}, From: 0, To: 1},
		{Kind: KindAddrTake, Addr: Addr{Link: "eth0", Prefix: vip}},
		{Kind: KindAddrAdd, Addr: Addr{Link: "lo", Prefix: vip}},
		{Kind: KindRouteAdd, Route: Route{Dst: DefaultDst, Table: 7301}},
	}}
	full := map[string]int{}
	for i, c := range rec.Changes {
		full[c.ownerKey()] = i
	}
	for _, c := range []Change{
		{Kind: KindAddrAdd, Addr: Addr{Link: "lo", Prefix: vip}},
		{Kind: KindAddrAdd, Addr: Addr{Link: "dummy0", Prefix: vip}},
		{Kind: KindAddrTake, Addr: Addr{Link: "eth0", Prefix: vip}},
		{Kind: KindSysctl, Sysctl: SysctlKey{Iface: "all", Name: "arp_ignore"}, To: 1},
		{Kind: KindRouteAdd, Route: Route{Dst: DefaultDst, Table: 7301}},
		{Kind: KindAddrAdd, Addr: Addr{Link: "lo", Prefix: netip.MustParsePrefix("192.168.79.182/32")}},
	} {
		i, ok := rec.ownerIndex([]Change{c})[c.ownerKey()]
		j, fok := full[c.ownerKey()]
		if i != j || ok != fok {
			t.Errorf("%s: ownerIndex finds %d, %v; a full index %d, %v", c, i, ok, j, fok)
		}
	}
}
