package kernel

import (
	"net/netip"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

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
		{Dst: netip.MustParsePrefix("10.98.0.0/24"), NhID: 5, Protocol: unix.RTPROT_STATIC},
		{Dst: netip.MustParsePrefix("10.97.0.0/24"), Gw: ip("fe80::1"), Protocol: unix.RTPROT_BGP},
		{Dst: realserver.DefaultDst6, Gw: ip("fe80::1"), Metric: 1024, Protocol: unix.RTPROT_RA, Pref: 1, Expires: bootSeconds() + 1800,
			Metrics: realserver.RouteMetrics{Hoplimit: 64}},
	} {
		links := []int{7}
		switch {
		case len(r.Nexthops) > 0:
			links = []int{7, 8}
		case r.NhID != 0:
			links = []int{0} // the object names the device
		}
		msg := appendRouteRequest(nil, unix.RTM_NEWROUTE, 0, r, links)
		// A dump reports an expiry in rta_cacheinfo (clock_t), not as
		// RTA_EXPIRES (seconds) as a request sets it.
		if r.Expires != 0 {
			cache := make([]byte, 32)
			left := (r.Expires - bootSeconds()) * userHZ
			cache[8], cache[9], cache[10] = byte(left), byte(left>>8), byte(left>>16)
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
		if !got.Equal(want) || got.Expires < want.Expires-1 || got.Expires > want.Expires || len(gotLinks) != len(links) || gotLinks[0] != links[0] {
			t.Errorf("wrote %s\nread  %s (links %v)", want, got, gotLinks)
		}
	}
}

// What rsprep reads of a route and writes back is the kernel's route: a
// route removed and added again from what TableRoutes read shows in `ip
// route` as it did, ECMP and metric locks for IPv4, pref and expiry (less
// the seconds gone by) for IPv6.
func TestRouteRemovedAndRestoredIsTheSame(t *testing.T) {
	expires := regexp.MustCompile(`expires \d+sec`)
	inFreshNetns(t, func(h *Host) {
		for _, args := range [][]string{
			{"link", "add", "name", "ra", "type", "veth", "peer", "name", "rb"},
			{"link", "set", "ra", "up"}, {"link", "set", "rb", "up"},
			{"addr", "add", "10.9.1.5/24", "dev", "ra"}, {"addr", "add", "10.9.2.5/24", "dev", "rb"},
			{"route", "add", "default", "src", "10.9.1.5", "proto", "static", "metric", "50", "mtu", "lock", "1400", "advmss", "1360",
				"initcwnd", "10", "rto_min", "200ms", "nexthop", "via", "10.9.1.1", "dev", "ra", "weight", "3", "nexthop", "via", "10.9.2.1", "dev", "rb"},
			{"route", "add", "10.99.0.0/24", "via", "10.7.7.7", "dev", "ra", "onlink", "proto", "boot", "table", "7301"},
			{"nexthop", "add", "id", "5", "via", "10.9.1.1", "dev", "ra"},
			{"route", "add", "10.98.0.0/24", "nhid", "5", "proto", "static", "table", "7302"},
			{"route", "add", "10.97.0.0/24", "via", "inet6", "fe80::1", "dev", "ra", "proto", "bgp", "table", "7303"},
			{"-6", "route", "add", "default", "via", "fe80::1", "dev", "ra", "proto", "ra", "metric", "1024", "pref", "high", "expires", "600", "hoplimit", "64"},
		} {
			if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
				t.Fatalf("ip %v: %v %s", args, err, out)
			}
		}
		for _, c := range []struct {
			fam, table int
			show       []string
		}{{4, 0, []string{"route", "show"}}, {4, 7301, []string{"route", "show", "table", "7301"}}, {4, 7302, []string{"route", "show", "table", "7302"}}, {4, 7303, []string{"route", "show", "table", "7303"}}, {6, 0, []string{"-6", "route", "show", "default"}}} {
			show := func() string {
				out, err := exec.Command("ip", c.show...).CombinedOutput()
				if err != nil {
					t.Fatalf("ip %v: %v %s", c.show, err, out)
				}
				return expires.ReplaceAllString(string(out), "expires Nsec")
			}
			routes, err := h.TableRoutes(c.fam, c.table)
			if err != nil {
				t.Fatal(err)
			}
			i := slices.IndexFunc(routes, func(r realserver.Route) bool { return r.IsDefault() || r.Table != 0 })
			if i < 0 {
				t.Fatalf("no route to restore in %v", routes)
			}
			r, before := routes[i], show()
			left := func() int { // an expiry's seconds left, as ip shows it
				out, _ := exec.Command("ip", c.show...).CombinedOutput()
				n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(expires.FindString(string(out)), "expires "), "sec"))
				return n
			}
			leftBefore := left()
			if leftBefore != 0 {
				time.Sleep(2 * time.Second) // the route's lifetime goes on while rsprep holds it
			}
			if err := h.DelRoute(r); err != nil {
				t.Fatal(err)
			}
			if gone := show(); gone == before {
				t.Fatalf("removing %s changed nothing:\n%s", r, gone)
			}
			if err := h.AddRoute(r); err != nil {
				t.Fatal(err)
			}
			if after := show(); after != before {
				t.Errorf("%s removed and added again:\nbefore:\n%s\nafter:\n%s", r, before, after)
			}
			if leftAfter := left(); leftBefore != 0 && leftAfter > leftBefore-2 {
				t.Errorf("%s given back with %ds to live, had %ds two seconds before: want its lifetime to have gone on", r, leftAfter, leftBefore)
			}
		}
	})
}
