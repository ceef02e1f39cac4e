package test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"syscall"
	"testing"

	"github.com/rsprep/rsprep/realserver"
	"github.com/rsprep/rsprep/realserver/fake"
)

// The fake's replace rule is the kernel's: from the same two default
// routes at one metric, the same `ip route replace` on a namespace and on
// the fake either succeeds on both, leaving the same routes in the same
// order, or is refused on both as a duplicate (EEXIST). It replaces the
// first route unless the very route stands further on; another protocol
// makes it another route.
func TestFakeRouteReplaceFollowsTheKernel(t *testing.T) {
	protos := map[string]int{"boot": 3, "static": 4, "dhcp": 16}
	for _, tc := range []struct{ table, replace string }{
		{"10.0.0.254 dhcp,10.0.0.1 static", "10.0.0.1 static"},   // the DIP's behind the manager's: EEXIST
		{"10.0.0.254 dhcp,10.0.0.1 static", "10.0.0.1 boot"},     // another protocol: replaces the first
		{"10.0.0.1 static,10.0.0.254 dhcp", "10.0.0.254 dhcp"},   // down's case: EEXIST
		{"10.0.0.1 static,10.0.0.254 dhcp", "10.0.0.1 static"},   // the first itself: no change
		{"10.0.0.254 dhcp,10.0.0.1 static", "10.0.0.253 static"}, // a new one: replaces the first
	} {
		t.Run(tc.table+" replace "+tc.replace, func(t *testing.T) {
			rs, _ := realServer(t)
			h := fake.New()
			h.AddLink(realserver.Link{Name: "eth0.100", Type: "veth", Up: true})
			h.AddAddrRaw(realserver.Addr{Link: "eth0.100", Prefix: netip.MustParsePrefix("10.0.0.2/24")})
			route := func(s string) realserver.Route {
				gw, proto, _ := strings.Cut(s, " ")
				return realserver.Route{Dst: realserver.DefaultDst, Gw: netip.MustParseAddr(gw), Link: "eth0.100", Protocol: protos[proto]}
			}
			for i, r := range strings.Split(tc.table, ",") {
				verb := map[bool]string{true: "add", false: "append"}[i == 0]
				gw, proto, _ := strings.Cut(r, " ")
				rs.Must(t, "ip", "route", verb, "default", "via", gw, "dev", "eth0.100", "proto", proto)
				h.AddRouteRaw(route(r))
			}
			gw, proto, _ := strings.Cut(tc.replace, " ")
			out, kerr := rs.Exec("ip", "route", "replace", "default", "via", gw, "dev", "eth0.100", "proto", proto)
			err := h.AddRoute(route(tc.replace))
			if strings.Contains(out, "File exists") != errors.Is(err, syscall.EEXIST) || (kerr != nil) != (err != nil) {
				t.Errorf("kernel: %v %q; fake: %v", kerr, out, err)
			}
			var got []struct{ Gateway, Protocol string }
			if err := json.Unmarshal([]byte(rs.Must(t, "ip", "-j", "route", "show", "default")), &got); err != nil {
				t.Fatal(err)
			}
			var onKernel, onFake []string
			for _, r := range got {
				if r.Protocol == "" {
					r.Protocol = "boot" // ip leaves out the default
				}
				onKernel = append(onKernel, r.Gateway+" "+r.Protocol)
			}
			rts, _ := h.Routes()
			for _, r := range rts {
				if r.IsDefault() {
					for name, n := range protos {
						if n == r.Protocol {
							onFake = append(onFake, fmt.Sprintf("%s %s", r.Gw, name))
						}
					}
				}
			}
			if strings.Join(onKernel, ",") != strings.Join(onFake, ",") {
				t.Errorf("default routes after the replace: kernel %q, fake %q", onKernel, onFake)
			}
		})
	}
}

// The fake takes and refuses a route with paths as the kernel does: a
// gateway outside the connected subnets only with onlink (and a device),
// and each path of a multipath route on-link.
func TestFakeRoutePathsFollowTheKernel(t *testing.T) {
	ip := netip.MustParseAddr
	for _, tc := range []struct {
		ip string
		r  realserver.Route
	}{
		{"nexthop via 10.0.0.254 dev eth0.100 weight 3 nexthop via 10.0.2.254 dev a2",
			realserver.Route{Nexthops: []realserver.Nexthop{{Gw: ip("10.0.0.254"), Link: "eth0.100", Weight: 3}, {Gw: ip("10.0.2.254"), Link: "a2"}}}},
		{"nexthop via 10.0.0.254 dev eth0.100 nexthop via 10.9.9.9 dev a2",
			realserver.Route{Nexthops: []realserver.Nexthop{{Gw: ip("10.0.0.254"), Link: "eth0.100"}, {Gw: ip("10.9.9.9"), Link: "a2"}}}},
		{"nexthop via 10.0.0.254 dev eth0.100 nexthop via 10.9.9.9 dev a2 onlink",
			realserver.Route{Nexthops: []realserver.Nexthop{{Gw: ip("10.0.0.254"), Link: "eth0.100"}, {Gw: ip("10.9.9.9"), Link: "a2", OnLink: true}}}},
		{"via 10.9.9.9 dev eth0.100 onlink", realserver.Route{Gw: ip("10.9.9.9"), Link: "eth0.100", OnLink: true}},
		{"via 10.9.9.9 dev eth0.100", realserver.Route{Gw: ip("10.9.9.9"), Link: "eth0.100"}},
		{"via 10.0.2.254 dev eth0.100", realserver.Route{Gw: ip("10.0.2.254"), Link: "eth0.100"}},
	} {
		t.Run(tc.ip, func(t *testing.T) {
			rs := natUplinks(t)
			h := fake.New()
			for _, a := range []string{"eth0.100 10.0.0.2/24", "a2 10.0.2.2/24"} {
				link, prefix, _ := strings.Cut(a, " ")
				h.AddLink(realserver.Link{Name: link, Type: "veth", Up: true})
				h.AddAddrRaw(realserver.Addr{Link: link, Prefix: netip.MustParsePrefix(prefix)})
			}
			tc.r.Dst = netip.MustParsePrefix("10.99.0.0/24")
			out, kerr := rs.Exec(append([]string{"ip", "route", "add", "10.99.0.0/24"}, strings.Fields(tc.ip)...)...)
			if err := h.AddRoute(tc.r); (kerr != nil) != (err != nil) {
				t.Errorf("kernel: %v %q; fake: %v", kerr, out, err)
			}
		})
	}
}
