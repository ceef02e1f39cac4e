package test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/rsprep/rsprep/test/nstest"
)

// routeTables is every route of both families in every table, as ip shows
// them: what must be the same before apply and after down. Routes of the
// kernel's fe80:: addresses are left out: they appear by themselves once
// DAD is done, and are never rsprep's.
func routeTables(t *testing.T, ns *nstest.NS) string {
	t.Helper()
	var kept []string
	for _, l := range strings.Split(ns.Must(t, "ip", "-6", "route", "show", "table", "all"), "\n") {
		if !strings.Contains(l, "fe80:") {
			kept = append(kept, l)
		}
	}
	return ns.Must(t, "ip", "-4", "route", "show", "table", "all") + strings.Join(kept, "\n")
}

// natUplinks is realServer with a second uplink, a2 10.0.2.2/24, for a
// multipath default route.
func natUplinks(t *testing.T) *nstest.NS {
	rs, peer := realServer(t)
	nstest.Veth(t, rs, "a2", "10.0.2.2/24", peer, "b2", "10.0.2.1/24")
	return rs
}

// What NAT replaces (the default route) and copies (a keep-route goes the
// way the default went) is the kernel's route attribute for attribute:
// after down, `ip route show table all` is as before apply, with ECMP
// paths and weights, src, proto, metrics and onlink, or a nexthop object.
func TestNATRestoresTheDefaultRouteAttributeForAttribute(t *testing.T) {
	for _, tc := range []struct{ name, route, keep string }{
		{"nexthop object",
			"default nhid 7 proto static metric 20",
			"nhid 7 via 10.0.0.254 dev eth0.100 proto static"},
		{"ECMP with weights and src",
			"default src 10.0.0.2 proto static metric 50 nexthop via 10.0.0.254 dev eth0.100 weight 3 nexthop via 10.0.2.254 dev a2 weight 1",
			"nexthop via 10.0.0.254 dev eth0.100 weight 3"},
		{"src, proto and metrics",
			"default via 10.0.0.254 dev eth0.100 src 10.0.0.2 proto dhcp metric 100 mtu lock 1400 advmss 1360 initcwnd 10 rto_min 200ms",
			"via 10.0.0.254 dev eth0.100 proto static src 10.0.0.2 mtu lock 1400 advmss 1360 initcwnd 10 rto_min lock 200ms"},
		{"onlink gateway",
			"default via 10.9.9.9 dev eth0.100 proto boot onlink",
			"via 10.9.9.9 dev eth0.100 proto static onlink"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rs := natUplinks(t)
			rs.Sh(t, `ip nexthop add id 7 via 10.0.0.254 dev eth0.100
				ip route add `+tc.route)
			before := routeTables(t, rs)
			apply := []string{"nat", "--dip", "10.0.0.1", "--keep-route", natMgmt}
			mustRun(t, rs, 0, apply...)
			if got := firstDefault(t, rs); !strings.HasPrefix(got, "default via 10.0.0.1 ") {
				t.Errorf("the default route in effect is %q, want the one via the DIP", got)
			}
			if got := rs.Must(t, "ip", "route", "show", natMgmt); !strings.Contains(got, tc.keep) {
				t.Errorf("keep-route %s is %q, want it the way the default went (%q)", natMgmt, got, tc.keep)
			}
			mustRun(t, rs, 0, append([]string{"verify"}, apply...)...)
			mustRun(t, rs, 0, "down", "nat", "--dip", "10.0.0.1")
			if after := routeTables(t, rs); after != before {
				t.Errorf("down nat did not give the routes back as they were:\nbefore:\n%s\nafter:\n%s", before, after)
			}
		})
	}
}

// A gateway moved after apply (DHCP, an operator) is what the network
// wants now: a re-apply replaces it again, logs what it replaced, and down
// gives back the moved gateway, not the one rsprep first found. The
// keep-route follows it too.
func TestNATReapplyKeepsTheGatewayMovedSince(t *testing.T) {
	rs, _ := realServer(t)
	rs.Must(t, "ip", "route", "add", "default", "via", "10.0.0.254", "proto", "dhcp")
	apply := []string{"nat", "--dip", "10.0.0.1", "--keep-route", natMgmt}
	mustRun(t, rs, 0, apply...)
	rs.Must(t, "ip", "route", "replace", "default", "via", "10.0.0.253", "proto", "dhcp", "src", "10.0.0.2")
	moved := routeTables(t, rs)
	r := mustRun(t, rs, 0, apply...)
	if !strings.Contains(r.Stderr, "replaced=\"default via 10.0.0.253 dev eth0.100 src 10.0.0.2\"") {
		t.Errorf("the re-apply does not log the route it replaced:\n%s", r.Stderr)
	}
	if got := rs.Must(t, "ip", "route", "show", natMgmt); !strings.Contains(got, "via 10.0.0.253 ") {
		t.Errorf("keep-route %s is %q, want it via the moved gateway 10.0.0.253", natMgmt, got)
	}
	mustRun(t, rs, 0, append([]string{"verify"}, apply...)...)
	mustRun(t, rs, 0, "down", "nat", "--dip", "10.0.0.1")
	after := routeTables(t, rs)
	// The keep-route was added after the gateway moved: down removes it.
	if want := strings.ReplaceAll(moved, natMgmt+" via 10.0.0.254 dev eth0.100 proto static \n", ""); after != want {
		t.Errorf("down did not give back the moved gateway:\nwant:\n%s\nafter:\n%s", want, after)
	}
}

// A keep-route somebody removed or changed is left alone by down, and
// down says so, in text (stderr) and JSON (notes).
func TestNATDownSaysWhatItLeftOfTheKeepRoutes(t *testing.T) {
	for _, tc := range []struct{ name, change, note string }{
		{"removed", "ip route del " + natMgmt,
			"left route " + natMgmt + " alone: rsprep added it as " + natMgmt + " via 10.0.0.254 dev eth0.100, it has been removed since"},
		{"changed", "ip route replace " + natMgmt + " via 10.0.0.253",
			"left route " + natMgmt + " alone: rsprep added it as " + natMgmt + " via 10.0.0.254 dev eth0.100, it has been changed since to " + natMgmt + " via 10.0.0.253 dev eth0.100"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rs, _ := realServer(t)
			rs.Must(t, "ip", "route", "add", "default", "via", "10.0.0.254")
			mustRun(t, rs, 0, "nat", "--dip", "10.0.0.1", "--keep-route", natMgmt)
			rs.Sh(t, tc.change)
			kept := rs.Must(t, "ip", "route", "show", natMgmt)
			r := mustRun(t, rs, 0, "down", "nat", "--dip", "10.0.0.1", "-o", "json")
			if !strings.Contains(r.Stderr, tc.note) {
				t.Errorf("down's log does not say %q:\n%s", tc.note, r.Stderr)
			}
			var out struct{ Notes []string }
			if err := json.Unmarshal([]byte(r.Stdout), &out); err != nil {
				t.Fatalf("down -o json: %v\n%s", err, r.Stdout)
			}
			if !strings.Contains(strings.Join(out.Notes, "\n"), tc.note) {
				t.Errorf("down's JSON notes %q do not say %q", out.Notes, tc.note)
			}
			if got := rs.Must(t, "ip", "route", "show", natMgmt); got != kept {
				t.Errorf("down touched the keep-route somebody changed: %q, was %q", got, kept)
			}
			if got := firstDefault(t, rs); !strings.HasPrefix(got, "default via 10.0.0.254 ") {
				t.Errorf("the default route after down is %q, want via 10.0.0.254 again", got)
			}
		})
	}
}
