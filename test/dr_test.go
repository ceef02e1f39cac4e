package test

import (
	"strings"
	"testing"

	"github.com/rsprep/rsprep/test/nstest"
)

// The VIP of the LVS documentation's examples. It only ever exists inside
// the namespaces these tests create.
const vip = "192.168.79.180"

// realServer makes a real server namespace whose uplink has a dotted name
// (a VLAN-style eth0.100: its sysctls live in conf/eth0.100, which a naive
// sysctl key would get wrong) and a peer on the other end of it. lo is up,
// as on every real host (bringing it up makes the kernel add 127.0.0.1/8,
// which stays when lo goes down again).
func realServer(t *testing.T) (rs, peer *nstest.NS) {
	rs, peer = nstest.New(t, "rs"), nstest.New(t, "peer")
	rs.Must(t, "ip", "link", "set", "lo", "up")
	nstest.Veth(t, rs, "eth0.100", "10.0.0.2/24", peer, "eth0", "10.0.0.1/24")
	return rs, peer
}

func mustRun(t *testing.T, ns *nstest.NS, want int, args ...string) nstest.Result {
	t.Helper()
	r := ns.Rsprep(t, args...)
	if r.Code != want {
		t.Fatalf("rsprep %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.Code, want, r.Stdout, r.Stderr)
	}
	return r
}

func TestDRApplyThenVerifyHolds(t *testing.T) {
	rs, _ := realServer(t)
	mustRun(t, rs, 1, "verify", "dr", "--vip", vip)
	mustRun(t, rs, 0, "dr", "--vip", vip+",2001:db8::80")
	r := mustRun(t, rs, 0, "verify", "dr", "--vip", vip, "--vip", "2001:db8::80")
	for _, want := range []string{
		"ok   arp.ignore eth0.100 want 1 got 1 (conf/all=1 conf/eth0.100=0)",
		"ok   arp.announce eth0.100 want 2 got 2 (conf/all=2 conf/eth0.100=0)",
		"ok   vip.bound 192.168.79.180 want 192.168.79.180/32 on lo",
		"ok   vip.bound 2001:db8::80 want 2001:db8::80/128 on lo",
	} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("verify output lacks %q:\n%s", want, r.Stdout)
		}
	}
	addrs := rs.Must(t, "ip", "-o", "addr", "show", "dev", "lo")
	if !strings.Contains(addrs, "inet "+vip+"/32 scope global lo:rsprep") || !strings.Contains(addrs, "inet6 2001:db8::80/128") {
		t.Errorf("lo does not hold the VIPs as host addresses:\n%s", addrs)
	}
}

// Each kind of drift makes verify exit 1 naming the broken invariant, and
// a second apply repairs it (a VIP on the uplink only when told to take
// it: see take_vip_test.go).
func TestDRVerifyCatchesEachDrift(t *testing.T) {
	cases := []struct {
		name   string
		drift  []string
		want   string
		repair []string // apply's flags besides --vip
	}{
		{"VIP removed", []string{"ip", "addr", "del", vip + "/32", "dev", "lo"}, "FAIL vip.bound " + vip, nil},
		{"all.arp_announce reset", []string{"sysctl", "-qw", "net.ipv4.conf.all.arp_announce=0"}, "FAIL arp.announce eth0.100 want 2 got 0 (conf/all=0 conf/eth0.100=0)", nil},
		{"uplink arp_ignore raised", []string{"sysctl", "-qw", "net.ipv4.conf.eth0/100.arp_ignore=2"}, "FAIL arp.ignore eth0.100 want 1 got 2 (conf/all=1 conf/eth0.100=2)", nil},
		{"VIP on the uplink", []string{"ip", "addr", "add", vip + "/32", "dev", "eth0.100"}, "FAIL vip.exclusive " + vip + " want on no ARP-capable interface got on eth0.100", []string{"--take-vip-from-arp-interface"}},
	}
	rs, _ := realServer(t)
	mustRun(t, rs, 0, "dr", "--vip", vip)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			mustRun(t, rs, 0, "verify", "dr", "--vip", vip)
			rs.Must(t, c.drift...)
			r := mustRun(t, rs, 1, "verify", "dr", "--vip", vip)
			if !strings.Contains(r.Stdout, c.want) {
				t.Fatalf("verify output lacks %q:\n%s", c.want, r.Stdout)
			}
			mustRun(t, rs, 0, append([]string{"dr", "--vip", vip}, c.repair...)...)
			mustRun(t, rs, 0, "verify", "dr", "--vip", vip)
		})
	}
}

// A second apply changes nothing and says nothing.
func TestDRSecondApplyIsSilentNoOp(t *testing.T) {
	rs, _ := realServer(t)
	mustRun(t, rs, 0, "dr", "--vip", vip+",2001:db8::80")
	before := rs.Snapshot(t)
	r := mustRun(t, rs, 0, "dr", "--vip", vip+",2001:db8::80")
	if r.Stdout != "" || r.Stderr != "" {
		t.Errorf("second apply printed something:\nstdout: %q\nstderr: %q", r.Stdout, r.Stderr)
	}
	if after := rs.Snapshot(t); after != before {
		t.Errorf("second apply changed the namespace:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

// down returns the namespace to exactly its state before the first apply.
func TestDRDownRestoresPriorState(t *testing.T) {
	rs, _ := realServer(t)
	rs.Must(t, "sysctl", "-qw", "net.ipv4.conf.all.arp_ignore=0", "net.ipv4.conf.lo.arp_announce=1")
	pristine := rs.Snapshot(t)
	mustRun(t, rs, 0, "dr", "--vip", vip+",2001:db8::80")
	if rs.Snapshot(t) == pristine {
		t.Fatal("apply changed nothing")
	}
	r := mustRun(t, rs, 0, "down", "dr", "--vip", vip+",2001:db8::80")
	if after := rs.Snapshot(t); after != pristine {
		t.Fatalf("down did not restore the namespace:\nbefore apply:\n%s\nafter down:\n%s\nstderr:\n%s", pristine, after, r.Stderr)
	}
}

// A value somebody changed after rsprep is theirs now: down leaves it and
// says so, and still restores everything else.
func TestDRDownLeavesValuesChangedSince(t *testing.T) {
	rs, _ := realServer(t)
	pristine := rs.Snapshot(t)
	mustRun(t, rs, 0, "dr", "--vip", vip)
	rs.Must(t, "sysctl", "-qw", "net.ipv4.conf.all.arp_announce=1")
	r := mustRun(t, rs, 0, "down", "dr", "--vip", vip)
	if got := strings.TrimSpace(rs.Must(t, "cat", "/proc/sys/net/ipv4/conf/all/arp_announce")); got != "1" {
		t.Errorf("all.arp_announce = %s after down, want the operator's 1 left alone", got)
	}
	if !strings.Contains(r.Stderr, "left net.ipv4.conf.all.arp_announce=1 alone: rsprep wrote 2") {
		t.Errorf("down did not report what it left alone:\n%s", r.Stderr)
	}
	rs.Must(t, "sysctl", "-qw", "net.ipv4.conf.all.arp_announce=0")
	if after := rs.Snapshot(t); after != pristine {
		t.Errorf("down did not restore the rest:\nbefore:\n%s\nafter:\n%s", pristine, after)
	}
}

// A VIP somebody else put on lo is not rsprep's to remove.
func TestDRDownKeepsForeignVIP(t *testing.T) {
	rs, _ := realServer(t)
	rs.Must(t, "ip", "addr", "add", "192.168.79.181/32", "dev", "lo")
	mustRun(t, rs, 0, "dr", "--vip", vip+",192.168.79.181")
	r := mustRun(t, rs, 0, "down", "dr", "--vip", vip+",192.168.79.181")
	addrs := rs.Must(t, "ip", "-o", "addr", "show", "dev", "lo")
	if !strings.Contains(addrs, "192.168.79.181/32") || strings.Contains(addrs, vip+"/32") {
		t.Errorf("down removed the wrong VIPs:\n%s", addrs)
	}
	if !strings.Contains(r.Stderr, "left 192.168.79.181/32 on lo alone: rsprep did not add it") {
		t.Errorf("down did not say why it kept the foreign VIP:\n%s", r.Stderr)
	}
}

// Bad input exits 2 with one line, and nothing on the host changes.
func TestDRBadInputChangesNothing(t *testing.T) {
	rs, _ := realServer(t)
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"dr", "--vip", "300.1.1.1"}, `VIP "300.1.1.1" is not an IP address`},
		{[]string{"dr", "--vip", "10.0.0.0/24"}, "VIP 10.0.0.0/24 is a prefix"},
		{[]string{"dr", "--vip", "127.0.0.1"}, "VIP 127.0.0.1 is a loopback address"},
		{[]string{"dr", "--vip", "0.0.0.0"}, "VIP 0.0.0.0 is the unspecified address"},
		{[]string{"dr", "--vip", "224.0.0.5"}, "VIP 224.0.0.5 is a multicast address"},
		{[]string{"dr", "--vip", "ff02::1"}, "VIP ff02::1 is a multicast address"},
		{[]string{"dr"}, "dr needs at least one --vip"},
		{[]string{"dr", "--vip", vip, "--bogus"}, "unknown flag: --bogus"},
		{[]string{"dr", "--vip", "10.0.0.2"}, "VIP 10.0.0.2 is this host's own address (10.0.0.2/24 on eth0.100)"},
		{[]string{"dr", "--vip", vip + "," + vip}, "VIP " + vip + " is given twice"},
	}
	before := rs.Snapshot(t)
	for _, c := range cases {
		r := rs.Rsprep(t, c.args...)
		lines := strings.Split(strings.TrimSpace(r.Stderr), "\n")
		if r.Code != 2 || len(lines) != 1 || !strings.Contains(r.Stderr, c.want) {
			t.Errorf("rsprep %v: exit %d, stderr %q; want exit 2 and one line containing %q", c.args, r.Code, r.Stderr, c.want)
		}
	}
	if after := rs.Snapshot(t); after != before {
		t.Errorf("bad input changed the namespace:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}
