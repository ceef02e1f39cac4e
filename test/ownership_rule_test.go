package test

import (
	"os"
	"strings"
	"testing"

	"github.com/rsprep/rsprep/test/nstest"
)

// The ownership rule (README "Ownership"), one test per way an operator
// found around it: a fresh namespace with lo up, eth0 10.0.0.11/24 and a
// default route via 10.0.0.254, whose peer holds the gateway .254 and a
// director's DIP .1.

// ownerHost is that real server; peer is the LAN behind eth0.
func ownerHost(t *testing.T) (rs, peer *nstest.NS) {
	rs, peer = nstest.New(t, "rs"), nstest.New(t, "lan")
	rs.Must(t, "ip", "link", "set", "lo", "up")
	nstest.Veth(t, rs, "eth0", "10.0.0.11/24", peer, "eth0", "10.0.0.254/24")
	peer.Must(t, "ip", "addr", "add", "10.0.0.1/24", "dev", "eth0")
	rs.Must(t, "ip", "route", "add", "default", "via", "10.0.0.254")
	return rs, peer
}

// A re-apply that brings lo back up repairs drift: lo was up when rsprep
// came, so down never takes it down (127.0.0.1 would stop answering).
func TestDownNeverTakesLoDown(t *testing.T) {
	rs, _ := ownerHost(t)
	mustRun(t, rs, 0, "dr", "--vip", vip)
	rs.Must(t, "ip", "link", "set", "lo", "down")
	mustRun(t, rs, 0, "dr", "--vip", vip)
	mustRun(t, rs, 0, "down", "dr", "--vip", vip)
	if l := rs.Must(t, "ip", "-o", "link", "show", "dev", "lo"); !strings.Contains(l, ",UP") {
		t.Errorf("down took lo down:\n%s", l)
	}
}

// A VIP deleted and re-added by hand without rsprep's mark is somebody
// else's now: verify says down leaves it, and down does.
func TestDownLeavesAVIPReAddedByHand(t *testing.T) {
	rs, _ := ownerHost(t)
	mustRun(t, rs, 0, "dr", "--vip", vip)
	rs.Must(t, "ip", "addr", "del", vip+"/32", "dev", "lo")
	rs.Must(t, "ip", "addr", "add", vip+"/32", "dev", "lo")
	v := mustRun(t, rs, 0, "verify", "dr", "--vip", vip)
	if !strings.Contains(v.Stdout, "down leaves it") {
		t.Fatalf("verify does not mark the hand-made VIP:\n%s", v.Stdout)
	}
	d := mustRun(t, rs, 0, "down", "dr", "--vip", vip)
	if lo := rs.Must(t, "ip", "-o", "addr", "show", "dev", "lo"); !strings.Contains(lo, vip+"/32") {
		t.Errorf("down deleted the VIP verify said it leaves:\n%s", lo)
	}
	if !strings.Contains(d.Stderr, "left "+vip+"/32 on lo alone") {
		t.Errorf("down does not say it left the VIP:\n%s", d.Stderr)
	}
	// The VIP it leaves still needs ARP suppression: without it this host
	// would answer ARP for the VIP and take it from the director.
	if got := strings.TrimSpace(rs.Must(t, "cat", "/proc/sys/net/ipv4/conf/all/arp_ignore")); got != "1" || !strings.Contains(d.Stderr, "kept the sysctls rsprep set: "+vip+"/32 on lo stays bound") {
		t.Errorf("all.arp_ignore = %s with a VIP left bound, want 1 kept and said:\n%s", got, d.Stderr)
	}
	rs.Must(t, "ip", "addr", "del", vip+"/32", "dev", "lo")
	mustRun(t, rs, 0, "down", "dr", "--vip", vip)
	if got := strings.TrimSpace(rs.Must(t, "cat", "/proc/sys/net/ipv4/conf/all/arp_ignore")); got != "0" {
		t.Errorf("all.arp_ignore = %s once the VIP is gone, want 0 restored", got)
	}
}

// down of one mode undoes only what that mode's record owns: down tun
// leaves dr's VIP bound, and says whose it is.
func TestDownOfAnotherModeLeavesTheVIP(t *testing.T) {
	rs, _ := ownerHost(t)
	mustRun(t, rs, 0, "dr", "--vip", vip)
	d := mustRun(t, rs, 0, "down", "tun", "--vip", vip)
	if lo := rs.Must(t, "ip", "-o", "addr", "show", "dev", "lo"); !strings.Contains(lo, vip+"/32") {
		t.Errorf("down tun deleted dr's VIP:\n%s", lo)
	}
	if !strings.Contains(d.Stderr, "rsprep dr") {
		t.Errorf("down tun does not say the VIP is dr's:\n%s", d.Stderr)
	}
	mustRun(t, rs, 0, "verify", "dr", "--vip", vip)
}

// A VIP in the host's own path is refused before anything changes: bound
// on lo, the gateway (or a route's next hop) would be local, and a
// subnet's network or broadcast address is no host's.
func TestVIPInTheHostsPathIsRefused(t *testing.T) {
	rs, _ := ownerHost(t)
	rs.Must(t, "ip", "route", "add", "10.99.0.0/24", "via", "10.0.0.1")
	before := rs.Snapshot(t)
	for _, c := range []struct{ vip, why string }{
		{"10.0.0.254", "next hop of the route default via 10.0.0.254"},
		{"10.0.0.1", "next hop of the route 10.99.0.0/24 via 10.0.0.1"},
		{"10.0.0.255", "broadcast address of 10.0.0.0/24"},
		{"10.0.0.0", "network address of 10.0.0.0/24"},
	} {
		for _, mode := range []string{"dr", "tun"} {
			r := mustRun(t, rs, 2, mode, "--vip", vip+","+c.vip)
			if !strings.Contains(r.Stderr, "VIP "+c.vip+" is the "+c.why) || strings.Count(strings.TrimSpace(r.Stderr), "\n") != 0 {
				t.Errorf("%s --vip %s: want one line saying it is the %s:\n%s", mode, c.vip, c.why, r.Stderr)
			}
		}
	}
	if after := rs.Snapshot(t); after != before {
		t.Errorf("a refused VIP changed the host:\n%s\nwant\n%s", after, before)
	}
	if route := rs.Must(t, "ip", "route", "get", "10.0.0.254"); strings.HasPrefix(route, "local") {
		t.Errorf("the gateway is local: %s", route)
	}
}

// Each mode pins its own gateway, and keeps it: dr pins the default
// gateway as the host has it apart from rsprep (.254), and nat's default
// route via the DIP is rsprep's own change, not a new gateway for dr.
func TestEachModeKeepsItsOwnPinnedGateway(t *testing.T) {
	rs, _ := ownerHost(t)
	dr := []string{"dr", "--vip", vip, "--pin-gateway-arp"}
	mustRun(t, rs, 0, dr...)
	mustRun(t, rs, 0, "nat", "--dip", "10.0.0.1")
	verifyDRBesideNAT(t, rs, dr)
	if r := rs.Rsprep(t, dr...); r.Code != 0 || r.Stderr != "" {
		t.Errorf("re-apply of dr: exit %d, want 0 and no change:\n%s", r.Code, r.Stderr)
	}
	mustRun(t, rs, 0, "nat", "--dip", "10.0.0.1", "--pin-gateway-arp")
	verifyDRBesideNAT(t, rs, dr)
	mustRun(t, rs, 1, "verify", "nat", "--dip", "10.0.0.1", "--pin-gateway-arp") // dr's state is not nat's to declare
	perm := rs.Must(t, "ip", "neigh", "show", "nud", "permanent")
	if strings.Count(perm, "PERMANENT") != 2 || !strings.Contains(perm, "10.0.0.254 ") || !strings.Contains(perm, "10.0.0.1 ") {
		t.Errorf("want one pinned entry per mode (.254 for dr, .1 for nat):\n%s", perm)
	}
	mustRun(t, rs, 0, "down", "nat", "--dip", "10.0.0.1")
	mustRun(t, rs, 0, "down", "dr", "--vip", vip)
	if perm := rs.Must(t, "ip", "neigh", "show", "nud", "permanent"); strings.TrimSpace(perm) != "" {
		t.Errorf("down left pinned entries:\n%s", perm)
	}
}

// verifyDRBesideNAT checks that verify dr holds every check of dr's own,
// the pinned gateway .254 among them (nat's route via the DIP is not dr's
// gateway), and reports nat's state only as what dr does not declare
// (own.undeclared, exit 1).
func verifyDRBesideNAT(t *testing.T, rs *nstest.NS, dr []string) {
	t.Helper()
	v := mustRun(t, rs, 1, append([]string{"verify"}, dr...)...)
	if !strings.Contains(v.Stdout, "ok   gw.pinned 10.0.0.254") {
		t.Errorf("verify dr does not check the gateway it pinned:\n%s", v.Stdout)
	}
	for _, l := range strings.Split(v.Stdout, "\n") {
		if strings.HasPrefix(l, "FAIL ") && !strings.HasPrefix(l, "FAIL own.undeclared ") {
			t.Errorf("verify dr beside nat fails a check of dr's own: %s\n%s", l, v.Stdout)
		}
	}
	if !strings.Contains(v.Stdout, "FAIL own.undeclared route default via 10.0.0.1") {
		t.Errorf("verify dr does not report nat's route as undeclared:\n%s", v.Stdout)
	}
}

// With the record lost (the state directory emptied), down says what it
// could not restore, in text and JSON, and exits 1: the marked VIP it
// removes by its mark alone, and the sysctls and routes only a record
// says the previous values of.
func TestLostRecordIsNotSilent(t *testing.T) {
	rs, _ := ownerHost(t)
	mustRun(t, rs, 0, "dr", "--vip", vip)
	mustRun(t, rs, 0, "nat", "--dip", "10.0.0.1", "--keep-route", "10.99.0.0/24")
	if err := os.RemoveAll(rs.StateDir); err != nil {
		t.Fatal(err)
	}
	if st := mustRun(t, rs, 0, "status").Stdout; !strings.Contains(st, "# no record here") {
		t.Errorf("status does not say there is no record:\n%s", st)
	}
	if st := mustRun(t, rs, 0, "status", "-o", "json").Stdout; !strings.Contains(st, "no record here") {
		t.Errorf("status -o json does not say there is no record:\n%s", st)
	}
	nat := mustRun(t, rs, 1, "down", "nat", "--dip", "10.0.0.1", "--keep-route", "10.99.0.0/24", "-o", "json")
	for _, want := range []string{"no record of what rsprep changed", "route.default default as it is (default via 10.0.0.1", "route.keep 10.99.0.0/24", `"ok": false`} {
		if !strings.Contains(nat.Stdout+nat.Stderr, want) {
			t.Errorf("down nat without a record does not say %q:\nstdout:\n%s\nstderr:\n%s", want, nat.Stdout, nat.Stderr)
		}
	}
	dr := mustRun(t, rs, 1, "down", "dr", "--vip", vip)
	for _, want := range []string{"no record: removed " + vip + "/32 from lo by rsprep's mark alone", "no record: left arp.ignore all as it is (1)", "no record: left arp.announce all as it is (2)"} {
		if !strings.Contains(dr.Stderr, want) {
			t.Errorf("down dr without a record does not say %q:\n%s", want, dr.Stderr)
		}
	}
	if lo := rs.Must(t, "ip", "-o", "addr", "show", "dev", "lo"); strings.Contains(lo, vip) {
		t.Errorf("down left the marked VIP:\n%s", lo)
	}
	mustRun(t, rs, 1, "down", "dr", "--vip", vip) // still not restored: still said
}

// --on-drift report changes nothing, at the start neither: the drift it
// finds there is logged and counted, not repaired.
func TestWatchReportChangesNothingAtStart(t *testing.T) {
	rs, _ := ownerHost(t)
	before := rs.Snapshot(t)
	w := startWatch(t, rs, "dr", "--vip", vip, "--on-drift", "report")
	if after := rs.Snapshot(t); after != before {
		t.Errorf("watch --on-drift report changed the host at start:\n%s\nwant\n%s", after, before)
	}
	if strings.Contains(w.log.String(), "msg=changed") || !strings.Contains(w.log.String(), `msg="drift (--on-drift report: not repairing)" mode=dr invariant=vip.bound subject=`+vip) {
		t.Errorf("want the drift at start logged, and no change:\n%s", w.log)
	}
	if got := w.metric(t, `rsprep_drift_events_total{check="arp.ignore"}`); got < 1 {
		t.Errorf("rsprep_drift_events_total{arp.ignore} = %v, want the drift at start counted", got)
	}
}

// A flag that holds one value, given twice, is bad input like a VIP given
// twice: rsprep does not guess which was meant. A --netns name longer
// than a file name can be is bad input too, not a host that cannot be
// read.
func TestRepeatedFlagsAndALongNetnsAreBadInput(t *testing.T) {
	rs, _ := ownerHost(t)
	mustReject(t, rs, `"--dip" flag: given twice (first "10.0.0.1")`, "dr", "--vip", vip, "--dip", "10.0.0.1", "--dip", "10.0.0.254")
	// nat's --dip takes one DIP of each family (dual stack), not two of one.
	mustReject(t, rs, "--dip 10.0.0.1 and --dip 10.0.0.254 are of one family", "nat", "--dip", "10.0.0.1", "--dip", "10.0.0.254")
	mustReject(t, rs, `"-o, --output" flag: given twice (first "json")`, "dr", "--vip", vip, "-o", "json", "-o", "text")
	mustReject(t, rs, `"--netns" flag: given twice (first "`+rs.Name+`")`, "dr", "--vip", vip, "--netns", rs.Name) // the helper gives --netns too
	long := strings.Repeat("n", 300)
	r := runCmd(t, []string{"RSPREP_STATE_DIR=" + rs.StateDir}, nstest.Rsprep(t), "dr", "--vip", vip, "--netns", long)
	if r.Code != 2 || !strings.Contains(r.Stderr, "300 bytes, a namespace name") {
		t.Errorf("a 300-character --netns: exit %d, want 2 saying it is too long:\n%s", r.Code, r.Stderr)
	}
}

// Somebody's 192.168.79.180/24 on lo is not rsprep's to replace with the
// /32 (down could not put it back): apply refuses, and changes nothing.
func TestSomebodysSubnetOnLoIsRefused(t *testing.T) {
	rs, _ := ownerHost(t)
	rs.Must(t, "ip", "addr", "add", vip+"/24", "dev", "lo")
	mustReject(t, rs, "VIP "+vip+" is on lo as "+vip+"/24, which rsprep did not add", "dr", "--vip", vip)
	mustRun(t, rs, 0, "down", "dr", "--vip", vip)
	if lo := rs.Must(t, "ip", "-o", "addr", "show", "dev", "lo"); !strings.Contains(lo, vip+"/24") {
		t.Errorf("somebody's %s/24 on lo is gone:\n%s", vip, lo)
	}
}
