package kernel

import (
	"net/netip"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/rsprep/rsprep/realserver"
)

// A route written as rsprep writes it reads back as the same route: every
// attribute it models survives the request, locks of several metrics
// together included.
func TestRouteRequestReadsBackAttributeForAttribute(t *testing.T) {
	ip := netip.MustParseAddr
	for _, r := range []realserver.Route{
		{Dst: realserver.DefaultDst, Src: ip("10.9.1.5"), Metric: 50, Protocol: unix.RTPROT_STATIC,
			Nexthops: []realserver.Nexthop{{Gw: ip("10.9.1.1"), Weight: 3}, {Gw: ip("10.9.2.1"), Weight: 1, OnLink: true}}},
		{Dst: realserver.DefaultDst, Gw: ip("10.9.1.1"), Src: ip("10.9.1.5"), Metric: 100, Protocol: unix.RTPROT_DHCP, AdvMSS: 1360,
			Metrics: realserver.RouteMetrics{Locks: 1<<unix.RTAX_MTU | 1<<unix.RTAX_RTO_MIN, MTU: 1400, InitCwnd: 10, RtoMin: 200, Congctl: "bbr"}},
		{Dst: netip.MustParsePrefix("10.99.0.0/24"), Gw: ip("10.9.9.9"), OnLink: true, Protocol: unix.RTPROT_BOOT, Table: 7301},
		{Dst: realserver.DefaultDst6, Gw: ip("fe80::1"), Metric: 1024, Protocol: unix.RTPROT_RA, Pref: 1, Expires: 1800,
			Metrics: realserver.RouteMetrics{Hoplimit: 64}},
	} {
		links := []int{7}
		if len(r.Nexthops) > 0 {
			links = []int{7, 8}
		}
		msg := appendRouteRequest(nil, unix.RTM_NEWROUTE, 0, r, links)
		// A dump reports an expiry in rta_cacheinfo (clock_t), not as
		// RTA_EXPIRES (seconds) as a request sets it.
		if r.Expires != 0 {
			cache := make([]byte, 32)
			cache[8], cache[9], cache[10] = byte(r.Expires*userHZ), byte(r.Expires*userHZ>>8), byte(r.Expires*userHZ>>16)
			msg = appendAttr(msg, unix.RTA_CACHEINFO, cache...)
		}
		got, table, gotLinks, ok := parseRoute(msg[unix.SizeofNlMsghdr:])
		if !ok {
			t.Fatalf("%s: not read back as a unicast route", r)
		}
		want := r
		if table != unix.RT_TABLE_MAIN {
			got.Table = table
		}
		if len(got.Nexthops) > 0 {
			for i := range got.Nexthops {
				got.Nexthops[i].Link = ""
			}
		}
		if !got.Equal(want) || got.Expires != want.Expires || len(gotLinks) != len(links) || gotLinks[0] != 7 {
			t.Errorf("wrote %s\nread  %s (links %v)", want, got, gotLinks)
		}
	}
}
