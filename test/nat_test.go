package test

import (
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/rsprep/rsprep/test/nstest"
)

// natCluster is LVS-NAT on two segments. The real servers' LAN
// 192.168.10.0/24 is a bridge inside the old gateway's namespace (.254,
// also the route to the management subnet 10.99.0.0/24); the director
// (.1, the DIP) routes between the LAN and the clients' 10.0.1.0/24.
//
// The director is imitated by plain routing: the client talks to a RIP
// through it. That is the point NAT mode rests on: the reply reaches the
// client only if the real server sends it back through the director, that
// is only if its default route goes via the DIP. The old gateway knows no
// route to the clients, so before rsprep the replies die there.
type natCluster struct {
	client, director, oldgw, mgmt, rs1, rs2 *nstest.NS
}

const (
	natDIP  = "192.168.10.1"
	natMgmt = "10.99.0.0/24"
)

func newNATCluster(t *testing.T) natCluster {
	c := natCluster{nstest.New(t, "cli"), nstest.New(t, "dir"), nstest.New(t, "oldgw"), nstest.New(t, "mgmt"), nstest.New(t, "rs1"), nstest.New(t, "rs2")}
	c.oldgw.Sh(t, `
		ip link add br0 type bridge
		ip link set br0 up
		ip addr add 192.168.10.254/24 dev br0
		sysctl -qw net.ipv4.ip_forward=1`)
	for i, m := range []struct {
		ns   *nstest.NS
		addr string
	}{{c.director, natDIP + "/24"}, {c.rs1, "192.168.10.11/24"}, {c.rs2, "192.168.10.12/24"}} {
		port := "p" + strconv.Itoa(i)
		nstest.Veth(t, m.ns, "eth0", m.addr, c.oldgw, port, "")
		c.oldgw.Must(t, "ip", "link", "set", port, "master", "br0")
	}
	nstest.Veth(t, c.mgmt, "eth0", "10.99.0.2/24", c.oldgw, "mgmt0", "10.99.0.1/24")
	c.mgmt.Must(t, "ip", "route", "add", "default", "via", "10.99.0.1")
	nstest.Veth(t, c.client, "eth0", "10.0.1.2/24", c.director, "eth1", "10.0.1.1/24")
	c.client.Must(t, "ip", "route", "add", "default", "via", "10.0.1.1")
	c.director.Must(t, "sysctl", "-qw", "net.ipv4.ip_forward=1")
	for i, rs := range []*nstest.NS{c.rs1, c.rs2} {
		rs.Must(t, "ip", "link", "set", "lo", "up")
		rs.Must(t, "ip", "route", "add", "default", "via", "192.168.10.254")
		rs.Serve(t, "rs"+strconv.Itoa(i+1))
	}
	return c
}

// answers asks each real server once from ns and returns the answers,
// "ERR" for none.
func (c natCluster) answers(t *testing.T, from *nstest.NS) string {
	t.Helper()
	var out []string
	for _, rip := range []string{"192.168.10.11", "192.168.10.12"} {
		a := from.Get(t, "http://"+rip+"/", 1)[0]
		if strings.HasPrefix(a, "ERR") {
			a = "ERR"
		}
		out = append(out, a)
	}
	return strings.Join(out, " ")
}

func TestNATDataPathAndKeepRoute(t *testing.T) {
	c := newNATCluster(t)
	if got := c.answers(t, c.client); got != "ERR ERR" {
		t.Fatalf("before rsprep the client got %q: replies must not find their way back yet (else this test proves nothing)", got)
	}
	if got := c.answers(t, c.mgmt); got != "rs1 rs2" {
		t.Fatalf("before rsprep the management peer got %q, want both", got)
	}
	before := map[*nstest.NS]string{c.rs1: c.rs1.Snapshot(t), c.rs2: c.rs2.Snapshot(t)}
	apply := []string{"nat", "--dip", natDIP, "--keep-route", natMgmt}
	for _, rs := range []*nstest.NS{c.rs1, c.rs2} {
		mustRun(t, rs, 0, apply...)
		mustRun(t, rs, 0, append([]string{"verify"}, apply...)...)
		if r := mustRun(t, rs, 0, apply...); r.Stdout != "" || r.Stderr != "" {
			t.Errorf("second apply was not silent: %q %q", r.Stdout, r.Stderr)
		}
	}
	if got := c.answers(t, c.client); got != "rs1 rs2" {
		t.Fatalf("after rsprep nat the client got %q, want both real servers", got)
	}
	if got := c.answers(t, c.mgmt); got != "rs1 rs2" {
		t.Fatalf("after rsprep nat the management peer got %q: the keep-route should hold it on the old gateway", got)
	}

	// Without its keep-route the management peer is cut off (the
	// director does not route 10.99.0.0/24); re-apply puts the route back
	// via the old gateway, which only rsprep's record still knows.
	c.rs1.Must(t, "ip", "route", "del", natMgmt)
	if got := c.answers(t, c.mgmt); got != "ERR rs2" {
		t.Fatalf("without the keep-route the management peer got %q, want rs1 cut off", got)
	}
	r := mustRun(t, c.rs1, 1, append([]string{"verify"}, apply...)...)
	if !strings.Contains(r.Stdout, "FAIL route.keep "+natMgmt) {
		t.Errorf("verify does not name route.keep:\n%s", r.Stdout)
	}
	// verify reads the record too, so its fix names the old gateway.
	if !strings.Contains(r.Stdout, "fix: ip route add "+natMgmt+" via 192.168.10.254") {
		t.Errorf("verify does not suggest the keep-route via the old gateway:\n%s", r.Stdout)
	}
	mustRun(t, c.rs1, 0, apply...)
	if got := strings.TrimSpace(c.rs1.Must(t, "ip", "route", "show", natMgmt)); !strings.HasPrefix(got, natMgmt+" via 192.168.10.254 ") {
		t.Errorf("re-applied keep-route is %q, want via the old gateway", got)
	}
	if got := c.answers(t, c.mgmt); got != "rs1 rs2" {
		t.Fatalf("after re-apply the management peer got %q", got)
	}

	for _, rs := range []*nstest.NS{c.rs1, c.rs2} {
		mustRun(t, rs, 0, "down", "nat", "--dip", natDIP)
		if after := rs.Snapshot(t); after != before[rs] {
			t.Errorf("down nat did not restore %s:\nbefore:\n%s\nafter:\n%s", rs.Name, before[rs], after)
		}
	}
}

// With several default routes only the lowest metric counts: that one is
// replaced, the other stays, and down restores both as they were.
func TestNATReplacesTheLowestMetricDefault(t *testing.T) {
	rs, _ := realServer(t)
	rs.Sh(t, `
		ip route add default via 10.0.0.253 metric 100
		ip route add default via 10.0.0.254 metric 50`)
	before := rs.Snapshot(t)
	mustRun(t, rs, 0, "nat", "--dip", "10.0.0.1", "--keep-route", natMgmt)
	got := strings.TrimSpace(rs.Must(t, "ip", "route", "show"))
	for _, want := range []string{
		"default via 10.0.0.1 dev eth0.100 proto static metric 50",
		"default via 10.0.0.253 dev eth0.100 metric 100",
		natMgmt + " via 10.0.0.254 dev eth0.100 proto static",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in\n%s", want, got)
		}
	}
	mustRun(t, rs, 0, "down", "nat", "--dip", "10.0.0.1")
	if after := rs.Snapshot(t); after != before {
		t.Errorf("down nat did not restore:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

// mustReject runs args and wants them rejected as bad input: exit 2, one
// line on stderr saying want, nothing on stdout, nothing changed, nothing
// written to the state directory.
func mustReject(t *testing.T, ns *nstest.NS, want string, args ...string) {
	t.Helper()
	before := ns.Snapshot(t)
	r := ns.Rsprep(t, args...)
	if r.Code != 2 || strings.Count(r.Stderr, "\n") != 1 || !strings.HasPrefix(r.Stderr, "rsprep: ") || !strings.Contains(r.Stderr, want) || r.Stdout != "" {
		t.Errorf("rsprep %s: exit %d, stdout %q, stderr %q; want exit 2 and one line saying %q", strings.Join(args, " "), r.Code, r.Stdout, r.Stderr, want)
	}
	if entries, _ := os.ReadDir(ns.StateDir); len(entries) != 0 {
		t.Errorf("rsprep %s wrote into the state directory", strings.Join(args, " "))
	}
	if after := ns.Snapshot(t); after != before {
		t.Errorf("rsprep %s changed the namespace:\nbefore:\n%s\nafter:\n%s", strings.Join(args, " "), before, after)
	}
}

func TestNATBadInputChangesNothing(t *testing.T) {
	rs, _ := realServer(t)
	rs.Must(t, "ip", "route", "add", "default", "via", "10.0.0.254")
	for _, c := range []struct{ want, args string }{
		{"--dip 10.9.9.1 is not on-link: it is in no directly connected subnet of an up interface (connected: eth0.100 10.0.0.0/24)", "nat --dip 10.9.9.1"},
		{"--dip 10.0.0.2 is this host's own address (10.0.0.2/24 on eth0.100)", "nat --dip 10.0.0.2"},
		{`--keep-route "10.99.0.0" is not a CIDR`, "nat --dip 10.0.0.1 --keep-route 10.99.0.0"},
		{`--keep-route "mgmt" is not a CIDR`, "nat --dip 10.0.0.1 --keep-route mgmt"},
		{"--keep-route 10.99.0.1/24 has host bits set", "nat --dip 10.0.0.1 --keep-route 10.99.0.1/24"},
		{"--keep-route 10.0.0.128/25 is inside 10.0.0.0/24, directly connected on eth0.100", "nat --dip 10.0.0.1 --keep-route 10.0.0.128/25"},
		{"--keep-route 0.0.0.0/0 would keep every destination", "nat --dip 10.0.0.1 --keep-route 0.0.0.0/0"},
		{"nat needs --dip", "nat"},
		{`--dip "10.0.0" is not an IP address`, "nat --dip 10.0.0"},
		{"--dip 2001:db8::1 is not on-link", "nat --dip 2001:db8::1"},
		{"unknown flag: --vip", "nat --dip 10.0.0.1 --vip " + vip},
		{"--dip 10.9.9.1 is not on-link", "verify nat --dip 10.9.9.1"},
		{`--keep-route "x" is not a CIDR`, "down nat --dip 10.0.0.1 --keep-route x"},
	} {
		t.Run(c.args, func(t *testing.T) { mustReject(t, rs, c.want, strings.Fields(c.args)...) })
	}
}

// A network manager (networkd, NetworkManager, a DHCP client) that puts
// its own default route back at the metric of rsprep's leaves two default
// routes the kernel keeps side by side, and it uses the first. In either
// order apply makes the route via the DIP the one in effect, a second
// apply is silent, verify holds, and down leaves the manager's route as
// it was before rsprep.
func TestNATBesideAManagersDefaultRouteAtTheSameMetric(t *testing.T) {
	for _, tc := range []struct{ name, manager string }{
		{"the manager's route ahead of rsprep's", `
			ip route del default
			ip route add default via 10.0.0.254 dev eth0.100 proto dhcp
			ip route append default via 10.0.0.1 dev eth0.100 proto static`},
		{"the manager's route behind rsprep's", `
			ip route append default via 10.0.0.254 dev eth0.100 proto dhcp`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rs, _ := realServer(t)
			rs.Must(t, "ip", "route", "add", "default", "via", "10.0.0.254", "proto", "dhcp")
			before := rs.Snapshot(t)
			apply := []string{"nat", "--dip", "10.0.0.1"}
			mustRun(t, rs, 0, apply...)
			rs.Sh(t, tc.manager)
			if got := strings.Count(rs.Must(t, "ip", "route", "show", "default"), "\n"); got != 2 {
				t.Fatalf("%d default routes, want the pair at one metric (else this test proves nothing)", got)
			}
			mustRun(t, rs, 0, apply...)
			if got := firstDefault(t, rs); !strings.HasPrefix(got, "default via 10.0.0.1 ") {
				t.Errorf("the default route in effect is %q, want the one via the DIP\n%s", got, rs.Must(t, "ip", "route", "show"))
			}
			if r := mustRun(t, rs, 0, apply...); r.Stdout != "" || r.Stderr != "" {
				t.Errorf("second apply was not silent: %q %q", r.Stdout, r.Stderr)
			}
			mustRun(t, rs, 0, append([]string{"verify"}, apply...)...)
			mustRun(t, rs, 0, "down", "nat", "--dip", "10.0.0.1")
			if after := rs.Snapshot(t); after != before {
				t.Errorf("down nat did not leave the manager's route as it was:\nbefore:\n%s\nafter:\n%s", before, after)
			}
		})
	}
}

// firstDefault is the default route the kernel uses: of several at one
// metric, the first `ip route` lists (a lower metric is listed first).
func firstDefault(t *testing.T, ns *nstest.NS) string {
	t.Helper()
	first, _, _ := strings.Cut(ns.Must(t, "ip", "route", "show", "default"), "\n")
	return strings.TrimSpace(first)
}
