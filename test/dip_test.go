package test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/rsprep/rsprep/test/nstest"
)

// --dip for dr: the director on the real server's own segment (the peer of
// realServer, 10.0.0.1) is on-link and answers ARP, in every output format.
func TestDRDIPOnTheSameSegment(t *testing.T) {
	rs, _ := realServer(t)
	mustRun(t, rs, 0, "dr", "--vip", vip, "--dip", "10.0.0.1")
	r := mustRun(t, rs, 0, "verify", "dr", "--vip", vip, "--dip", "10.0.0.1")
	for _, want := range []string{
		"ok   dip.onlink 10.0.0.1 want in a connected subnet of an up interface got on-link on eth0.100",
		"ok   dip.reachable 10.0.0.1 want it answers ARP on eth0.100 got ",
	} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("verify lacks %q:\n%s", want, r.Stdout)
		}
	}
	r = mustRun(t, rs, 0, "verify", "dr", "--vip", vip, "--dip", "10.0.0.1", "-o", "json")
	var out struct {
		Checks []struct {
			ID, Subject string
			OK          bool
		}
	}
	if err := json.Unmarshal([]byte(r.Stdout), &out); err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, c := range out.Checks {
		if (c.ID == "dip.onlink" || c.ID == "dip.reachable") && c.Subject == "10.0.0.1" && c.OK {
			found++
		}
	}
	if found != 2 {
		t.Errorf("JSON lacks a passing dip.onlink and dip.reachable:\n%s", r.Stdout)
	}
	r = mustRun(t, rs, 0, "verify", "dr", "--vip", vip, "--dip", "10.0.0.1", "-o", "prometheus")
	for _, want := range []string{`rsprep_invariant_ok{mode="dr",id="dip.onlink",subject="10.0.0.1",source="verify"} 1`, `rsprep_invariant_ok{mode="dr",id="dip.reachable",subject="10.0.0.1",source="verify"} 1`} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("Prometheus output lacks %s:\n%s", want, r.Stdout)
		}
	}
}

// A DIP behind a router cannot work for DR (the director rewrites only the
// MAC): rsprep dr refuses it, naming the L2 requirement, before anything
// changes.
func TestDRDIPBehindARouterIsRejected(t *testing.T) {
	rs, router := realServer(t)
	director := nstest.New(t, "dir")
	nstest.Veth(t, router, "eth1", "10.1.0.1/24", director, "eth0", "10.1.0.5/24")
	router.Must(t, "sysctl", "-qw", "net.ipv4.ip_forward=1")
	director.Must(t, "ip", "route", "add", "default", "via", "10.1.0.1")
	rs.Must(t, "ip", "route", "add", "default", "via", "10.0.0.1")
	if r := rs.Must(t, "ip", "route", "get", "10.1.0.5"); !strings.Contains(r, "via 10.0.0.1") {
		t.Fatalf("the director should be routed via the router: %s", r)
	}
	before := rs.Snapshot(t)
	for _, args := range [][]string{
		{"dr", "--vip", vip, "--dip", "10.1.0.5"},
		{"verify", "dr", "--vip", vip, "--dip", "10.1.0.5"},
	} {
		checkBad(t, rs, before, badInput{strings.Join(args, " "), args, "--dip 10.1.0.5 is not on-link"}, func(args ...string) nstest.Result { return rs.Rsprep(t, args...) })
		r := rs.Rsprep(t, args...)
		if !strings.Contains(r.Stderr, "DR needs the director and the real server on one L2 segment") {
			t.Errorf("%v: the error does not name DR's L2 requirement: %s", args, r.Stderr)
		}
	}
	// down undoes what the record says: a director gone from the segment
	// must not block its real server's teardown.
	mustRun(t, rs, 0, "down", "dr", "--vip", vip, "--dip", "10.1.0.5")
}

// A silent DIP (an address on the segment that nobody holds): apply does
// the rest but exits 1 naming dip.reachable, and so does verify.
func TestDRSilentDIPFailsReachable(t *testing.T) {
	rs, _ := realServer(t)
	r := mustRun(t, rs, 1, "dr", "--vip", vip, "--dip", "10.0.0.77")
	if !strings.Contains(r.Stderr, "dip.reachable 10.0.0.77") {
		t.Errorf("apply does not name dip.reachable:\n%s", r.Stderr)
	}
	if addrs := rs.Must(t, "ip", "-o", "addr", "show", "dev", "lo"); !strings.Contains(addrs, vip+"/32") {
		t.Errorf("apply left the VIP unbound because the director is silent:\n%s", addrs)
	}
	r = mustRun(t, rs, 1, "verify", "dr", "--vip", vip, "--dip", "10.0.0.77")
	if !strings.Contains(r.Stdout, "FAIL dip.reachable 10.0.0.77") || !strings.Contains(r.Stdout, "dr: 1 of ") {
		t.Errorf("verify does not fail dip.reachable alone:\n%s", r.Stdout)
	}
	if !strings.Contains(r.Stdout, "ok   dip.onlink 10.0.0.77") {
		t.Errorf("the silent DIP is on-link all the same:\n%s", r.Stdout)
	}
}

func sysctlValue(t *testing.T, ns *nstest.NS, path string) string {
	t.Helper()
	return strings.TrimSpace(ns.Must(t, "cat", "/proc/sys/"+path))
}

// --forwarding off turns forwarding off, verify holds, down restores it.
func TestForwardingOffThenDownRestores(t *testing.T) {
	rs, _ := realServer(t)
	rs.Must(t, "sysctl", "-qw", "net.ipv4.ip_forward=1")
	before := rs.Snapshot(t)
	r := mustRun(t, rs, 1, "verify", "dr", "--vip", vip, "--forwarding", "off")
	if !strings.Contains(r.Stdout, "FAIL ip.forward net.ipv4.ip_forward want 0 got 1") {
		t.Errorf("verify before apply:\n%s", r.Stdout)
	}
	mustRun(t, rs, 0, "dr", "--vip", vip, "--forwarding", "off")
	for _, p := range []string{"net/ipv4/ip_forward", "net/ipv4/conf/eth0.100/forwarding", "net/ipv4/conf/default/forwarding"} {
		if v := sysctlValue(t, rs, p); v != "0" {
			t.Errorf("%s = %s after apply, want 0", p, v)
		}
	}
	r = mustRun(t, rs, 0, "verify", "dr", "--vip", vip, "--forwarding", "off")
	if !strings.Contains(r.Stdout, "ok   ip.forward net.ipv4.conf.eth0/100.forwarding want 0 got 0") {
		t.Errorf("verify after apply:\n%s", r.Stdout)
	}
	r = mustRun(t, rs, 0, "verify", "dr", "--vip", vip, "--forwarding", "off", "-o", "prometheus")
	if want := `rsprep_invariant_ok{mode="dr",id="ip.forward",subject="net.ipv4.ip_forward",source="verify"} 1`; !strings.Contains(r.Stdout, want) {
		t.Errorf("Prometheus output lacks %s:\n%s", want, r.Stdout)
	}
	mustRun(t, rs, 0, "down", "dr", "--vip", vip, "--forwarding", "off")
	if after := rs.Snapshot(t); after != before {
		t.Errorf("down did not restore the host:\n%s", diffLines(before, after))
	}
}

// Somebody turned forwarding back on after apply (Docker restarting), and
// then off again on one interface for IPv6. down writes neither: writing
// IPv6 conf/all again would make the kernel reset that interface too.
func TestForwardingDownLeavesAChangeSince(t *testing.T) {
	rs, _ := realServer(t)
	rs.Must(t, "sysctl", "-qw", "net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1")
	mustRun(t, rs, 0, "dr", "--vip", vip+",2001:db8::80", "--forwarding", "off")
	if v := sysctlValue(t, rs, "net/ipv6/conf/all/forwarding"); v != "0" {
		t.Fatalf("IPv6 forwarding %s after apply with an IPv6 VIP, want 0", v)
	}
	rs.Must(t, "sysctl", "-qw", "net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1", "net.ipv6.conf.eth0/100.forwarding=0")
	r := mustRun(t, rs, 0, "down", "dr", "--vip", vip+",2001:db8::80", "--forwarding", "off")
	for _, w := range []string{"net.ipv4.ip_forward", "net.ipv6.conf.all.forwarding"} {
		if strings.Contains(r.Stderr, "sysctl -w "+w) {
			t.Errorf("down wrote %s, which was changed since:\n%s", w, r.Stderr)
		}
	}
	if v := sysctlValue(t, rs, "net/ipv6/conf/eth0.100/forwarding"); v != "0" {
		t.Errorf("eth0.100's IPv6 forwarding is %s after down, want 0 as somebody set it", v)
	}
	if v := sysctlValue(t, rs, "net/ipv4/ip_forward"); v != "1" {
		t.Errorf("ip_forward is %s after down, want 1", v)
	}
}

// Without the flag, a host that forwards is left as it is.
func TestWithoutForwardingFlagForwardingIsLeftAlone(t *testing.T) {
	rs, _ := realServer(t)
	rs.Must(t, "sysctl", "-qw", "net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1")
	mustRun(t, rs, 0, "dr", "--vip", vip+",2001:db8::80")
	r := mustRun(t, rs, 0, "verify", "dr", "--vip", vip+",2001:db8::80")
	if strings.Contains(r.Stdout, "ip.forward") {
		t.Errorf("verify checks forwarding without --forwarding off:\n%s", r.Stdout)
	}
	for _, p := range []string{"net/ipv4/ip_forward", "net/ipv4/conf/eth0.100/forwarding", "net/ipv6/conf/all/forwarding"} {
		if v := sysctlValue(t, rs, p); v != "1" {
			t.Errorf("%s = %s without --forwarding off, want 1 as it was", p, v)
		}
	}
	if entries, _ := os.ReadDir(rs.StateDir); len(entries) == 0 {
		t.Fatal("no state recorded: did apply run?")
	}
}

// Without CAP_NET_RAW verify cannot probe: with no live neighbour entry
// that is "cannot observe" (exit 3), not drift; a live entry is enough.
func TestDIPReachableWithoutCapNetRaw(t *testing.T) {
	rs, peer := realServer(t)
	bin := unprivilegedBinary(t)
	verify := func() nstest.Result {
		return runAs(t, rs, "ip", "netns", "exec", rs.Name, "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all",
			bin, "verify", "dr", "--vip", vip, "--dip", "10.0.0.1")
	}
	oneLine(t, verify(), 3, "cannot observe the host", "CAP_NET_RAW")
	rs.Must(t, "ip", "neigh", "replace", "10.0.0.1", "lladdr", peer.MAC(t, "eth0"), "dev", "eth0.100", "nud", "reachable")
	if r := verify(); r.Code != 1 || !strings.Contains(r.Stdout, "ok   dip.reachable 10.0.0.1") {
		t.Errorf("unprivileged verify with a live entry: exit %d, want 1 (the VIP is not bound) with dip.reachable ok:\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
}
