package test

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rsprep/rsprep/test/nstest"
)

// nat6Server is realServer with IPv6 on its uplink: fd00:10::2/64, the
// director fd00:10::1 (and the old router fd00:10::fe) on-link. Its
// uplink takes router advertisements as a host does by default
// (accept_ra 1, forwarding off, accept_ra_defrtr 1).
func nat6Server(t *testing.T) *nstest.NS {
	rs, peer := realServer(t)
	rs.Sh(t, `ip -6 addr add fd00:10::2/64 dev eth0.100 nodad
		sysctl -qw net.ipv6.conf.eth0/100.accept_ra=1 net.ipv6.conf.eth0/100.accept_ra_defrtr=1`)
	peer.Must(t, "ip", "-6", "addr", "add", "fd00:10::1/64", "dev", "eth0", "nodad")
	// The kernel adds each interface's fe80::/64 by itself once it has a
	// link-local address: wait for it, so no snapshot sees it appear.
	rs.Sh(t, `i=0; until ip -6 route show fe80::/64 dev eth0.100 | grep -q .; do i=$((i+1)); [ $i -le 500 ] || { echo no fe80::/64 on eth0.100 >&2; exit 1; }; sleep 0.02; done`)
	return rs
}

// expiresRe is the lifetime ip shows for a route with one: it counts
// down, so a before/after comparison leaves the figure out (and checks it
// apart).
var expiresRe = regexp.MustCompile(`expires (\d+)sec`)

// v6State is what NAT over IPv6 may touch and down must give back: every
// IPv6 route of the main table and the uplink's RA sysctls.
func v6State(t *testing.T, ns *nstest.NS) string {
	t.Helper()
	routes := expiresRe.ReplaceAllString(ns.Must(t, "ip", "-6", "route", "show"), "expires N")
	return routes + ns.Sh(t, `for k in accept_ra accept_ra_defrtr forwarding; do echo "$k=$(cat /proc/sys/net/ipv6/conf/eth0.100/$k)"; done`)
}

// An RA-learnt default route (proto ra, pref high, a lifetime) is what a
// host on an IPv6 LAN has. nat --dip IPv6 replaces it with the route via
// the DIP, stops RAs from installing another (accept_ra_defrtr 0, accept_ra
// and so SLAAC left alone), verify checks both and names each drift, and
// down gives the RA route back with its proto, pref and lifetime and the
// sysctl as it was.
func TestNAT6ReplacesAnRADefaultAndDownGivesItBack(t *testing.T) {
	rs := nat6Server(t)
	rs.Must(t, "ip", "-6", "route", "add", "default", "via", "fe80::fe", "dev", "eth0.100", "proto", "ra", "metric", "1024", "pref", "high", "expires", "600")
	before := v6State(t, rs)
	apply := []string{"nat", "--dip", "fd00:10::1"}
	mustRun(t, rs, 0, apply...)
	if got := strings.TrimSpace(rs.Must(t, "ip", "-6", "route", "show", "default")); got != "default via fd00:10::1 dev eth0.100 proto static metric 1024 pref medium" {
		t.Errorf("IPv6 default route after apply is %q, want the one via the DIP alone", got)
	}
	if got := strings.TrimSpace(rs.Must(t, "sysctl", "-n", "net.ipv6.conf.eth0/100.accept_ra_defrtr", "net.ipv6.conf.eth0/100.accept_ra")); got != "0\n1" {
		t.Errorf("accept_ra_defrtr, accept_ra after apply: %q, want 0 and 1 (RAs keep SLAAC, give no default router)", got)
	}
	r := mustRun(t, rs, 0, append([]string{"verify"}, apply...)...)
	for _, want := range []string{"ok   ra.defrtr eth0.100", "ok   route.default default6", "ok   dip.onlink fd00:10::1"} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("verify does not say %q:\n%s", want, r.Stdout)
		}
	}
	if r := mustRun(t, rs, 0, apply...); r.Stdout != "" || r.Stderr != "" {
		t.Errorf("second apply was not silent: %q %q", r.Stdout, r.Stderr)
	}

	// Drift: a network manager turns RA default routers back on and the
	// RA route comes back ahead of rsprep's.
	rs.Sh(t, `sysctl -qw net.ipv6.conf.eth0/100.accept_ra_defrtr=1
		ip -6 route replace default via fe80::fe dev eth0.100 proto ra metric 1024 pref high expires 600`)
	r = mustRun(t, rs, 1, append([]string{"verify"}, apply...)...)
	for _, want := range []string{"FAIL ra.defrtr eth0.100", "FAIL route.default default6"} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("verify after drift does not say %q:\n%s", want, r.Stdout)
		}
	}
	mustRun(t, rs, 0, apply...)
	mustRun(t, rs, 0, append([]string{"verify"}, apply...)...)

	mustRun(t, rs, 0, "down", "nat", "--dip", "fd00:10::1")
	if after := v6State(t, rs); after != before {
		t.Errorf("down nat did not give IPv6 back as it was:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	got := rs.Must(t, "ip", "-6", "route", "show", "default")
	m := expiresRe.FindStringSubmatch(got)
	if m == nil {
		t.Fatalf("the RA route given back has no lifetime: %q", got)
	}
	if left, _ := strconv.Atoi(m[1]); left <= 0 || left > 600 {
		t.Errorf("the RA route given back expires in %ss, want within its 600 s", m[1])
	}
	if !strings.Contains(got, "proto ra") || !strings.Contains(got, "pref high") {
		t.Errorf("the RA route given back is %q, want proto ra and pref high", got)
	}
}

// Dual stack: one IPv4 and one IPv6 DIP in one run, the IPv6 one
// link-local with its interface; each family's default goes via its DIP,
// a keep-route of each family via its previous gateway, and down gives
// both families' routes back exactly.
func TestNATDualStackWithALinkLocalDIP(t *testing.T) {
	rs := nat6Server(t)
	rs.Sh(t, `ip route add default via 10.0.0.254 proto dhcp metric 100
		ip -6 route add default via fd00:10::fe dev eth0.100 metric 512`)
	before := routeTables(t, rs) + v6State(t, rs)
	apply := []string{"nat", "--dip", "10.0.0.1", "--dip", "fe80::1%eth0.100", "--keep-route", natMgmt + ",fd00:99::/64"}
	mustRun(t, rs, 0, apply...)
	got := rs.Must(t, "ip", "route", "show") + rs.Must(t, "ip", "-6", "route", "show")
	for _, want := range []string{
		"default via 10.0.0.1 dev eth0.100 proto static metric 100",
		natMgmt + " via 10.0.0.254 dev eth0.100 proto static",
		"default via fe80::1 dev eth0.100 proto static metric 512",
		"fd00:99::/64 via fd00:10::fe dev eth0.100 proto static",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in\n%s", want, got)
		}
	}
	mustRun(t, rs, 0, append([]string{"verify"}, apply...)...)
	if r := mustRun(t, rs, 0, apply...); r.Stdout != "" || r.Stderr != "" {
		t.Errorf("second apply was not silent: %q %q", r.Stdout, r.Stderr)
	}
	mustRun(t, rs, 0, "down", "nat", "--dip", "10.0.0.1", "--dip", "fe80::1%eth0.100")
	if after := routeTables(t, rs) + v6State(t, rs); after != before {
		t.Errorf("down nat did not give both families back:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

func TestNAT6BadInputChangesNothing(t *testing.T) {
	rs := nat6Server(t)
	rs.Sh(t, `ip route add default via 10.0.0.254
		ip -6 route add default via fd00:10::fe dev eth0.100`)
	for _, c := range []struct{ want, args string }{
		{"--dip fd00:10::1 and --dip fd00:10::5 are of one family", "nat --dip fd00:10::1 --dip fd00:10::5"},
		{"--dip 10.0.0.1 and --dip 10.0.0.5 are of one family", "nat --dip 10.0.0.1,10.0.0.5"},
		{"--dip fd00:99::1 is not on-link", "nat --dip 10.0.0.1 --dip fd00:99::1"},
		{"--dip fe80::1 is link-local: name its interface", "nat --dip fe80::1"},
		{"--dip fe80::1%eth9 is not on-link", "nat --dip fe80::1%eth9"},
		{"--keep-route fd00:99::/64: there is no --dip of its family", "nat --dip 10.0.0.1 --keep-route fd00:99::/64"},
		{"--dip fd00:10::2 is this host's own address", "nat --dip fd00:10::2"},
	} {
		t.Run(c.args, func(t *testing.T) { mustReject(t, rs, c.want, strings.Fields(c.args)...) })
	}
	// A router takes RAs by other rules: refused, and the v4 half of a
	// dual-stack run is not applied either.
	rs.Must(t, "sysctl", "-qw", "net.ipv6.conf.all.forwarding=1")
	mustReject(t, rs, "--dip fd00:10::1: IPv6 forwarding is on (net.ipv6.conf.all.forwarding = 1)", "nat", "--dip", "10.0.0.1", "--dip", "fd00:10::1")
	mustReject(t, rs, "--dip fd00:10::1: IPv6 forwarding is on", "verify", "nat", "--dip", "fd00:10::1")
}

// ra.defrtr is the kernel's effective rule: with accept_ra 0 no RA is
// taken, so nothing changes; with accept_ra 2 (RAs taken whatever
// forwarding says) accept_ra_defrtr goes to 0, and down puts it back.
func TestNAT6RADefrtrFollowsAcceptRA(t *testing.T) {
	for _, tc := range []struct{ acceptRA, wantDefrtr string }{{"0", "1"}, {"2", "0"}} {
		t.Run("accept_ra="+tc.acceptRA, func(t *testing.T) {
			rs := nat6Server(t)
			rs.Must(t, "sysctl", "-qw", "net.ipv6.conf.eth0/100.accept_ra="+tc.acceptRA)
			before := v6State(t, rs)
			apply := []string{"nat", "--dip", "fd00:10::1"}
			mustRun(t, rs, 0, apply...)
			if got := strings.TrimSpace(rs.Must(t, "sysctl", "-n", "net.ipv6.conf.eth0/100.accept_ra_defrtr", "net.ipv6.conf.eth0/100.accept_ra")); got != tc.wantDefrtr+"\n"+tc.acceptRA {
				t.Errorf("accept_ra_defrtr, accept_ra after apply: %q, want %s and %s", got, tc.wantDefrtr, tc.acceptRA)
			}
			r := mustRun(t, rs, 0, append([]string{"verify"}, apply...)...)
			if !strings.Contains(r.Stdout, "ok   ra.defrtr eth0.100") {
				t.Errorf("verify does not hold ra.defrtr:\n%s", r.Stdout)
			}
			mustRun(t, rs, 0, "down", "nat", "--dip", "fd00:10::1")
			if after := v6State(t, rs); after != before {
				t.Errorf("down nat did not give IPv6 back:\nbefore:\n%s\nafter:\n%s", before, after)
			}
		})
	}
}

// A network manager turning RA default routers back on is drift watch
// repairs when the RA's route shows up (a route event: the sysctl itself
// sends none), long before its resync: both the route via the DIP and
// accept_ra_defrtr 0 come back.
func TestWatchNAT6RepairsAnRARouteAndDefrtr(t *testing.T) {
	rs := nat6Server(t)
	w := startWatch(t, rs, "nat", "--dip", "fd00:10::1", "--resync", "1h")
	rs.Sh(t, `sysctl -qw net.ipv6.conf.eth0/100.accept_ra_defrtr=1
		ip -6 route replace default via fe80::fe dev eth0.100 proto ra metric 1024 pref high expires 600`)
	w.waitFor(t, "the route via the DIP and accept_ra_defrtr 0 again", 30*time.Second, func() bool {
		def := rs.Must(t, "ip", "-6", "route", "show", "default")
		defrtr := strings.TrimSpace(rs.Must(t, "sysctl", "-n", "net.ipv6.conf.eth0/100.accept_ra_defrtr"))
		return strings.HasPrefix(def, "default via fd00:10::1 ") && defrtr == "0"
	})
	for _, want := range []string{"invariant=ra.defrtr subject=eth0.100", "invariant=route.default subject=default6"} {
		if !strings.Contains(w.log.String(), want) {
			t.Errorf("watch did not log the repair of %q:\n%s", want, w.log)
		}
	}
	w.stopClean(t, "repair failed", "did not converge", "level=ERROR")
	mustRun(t, rs, 0, "down", "nat", "--dip", "fd00:10::1")
}

// IPv6 joins a route appended at the metric of rsprep's into one
// multipath route (a manager's `ip -6 route append`): its first hop is
// still the DIP, but part of the replies would go around the director.
// verify names it and apply makes the route one path via the DIP again.
func TestNAT6AnAppendedPathIsDrift(t *testing.T) {
	rs := nat6Server(t)
	rs.Must(t, "ip", "-6", "route", "add", "default", "via", "fd00:10::fe", "dev", "eth0.100", "proto", "dhcp", "metric", "1024")
	before := v6State(t, rs)
	apply := []string{"nat", "--dip", "fd00:10::1"}
	mustRun(t, rs, 0, apply...)
	rs.Must(t, "ip", "-6", "route", "append", "default", "via", "fd00:10::fe", "dev", "eth0.100", "proto", "static", "metric", "1024")
	r := mustRun(t, rs, 1, append([]string{"verify"}, apply...)...)
	if !strings.Contains(r.Stdout, "FAIL route.default default6") {
		t.Errorf("verify does not name the second path:\n%s", r.Stdout)
	}
	mustRun(t, rs, 0, apply...)
	if got := strings.TrimSpace(rs.Must(t, "ip", "-6", "route", "show", "default")); got != "default via fd00:10::1 dev eth0.100 proto static metric 1024 pref medium" {
		t.Errorf("after re-apply the IPv6 default route is %q, want one path via the DIP", got)
	}
	mustRun(t, rs, 0, append([]string{"verify"}, apply...)...)
	r = mustRun(t, rs, 0, "down", "nat", "--dip", "fd00:10::1")
	if after := v6State(t, rs); after != before {
		t.Errorf("down nat did not give IPv6 back as it was:\nbefore:\n%s\nafter:\n%s\n%s", before, after, r.Stderr)
	}
}
