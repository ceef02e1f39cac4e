package test

import (
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// A VIP already on an ARP-capable interface is where the director, or
// keepalived's VRRP, holds it: apply refuses it (exit 2, one line saying
// where and why and how to proceed) and changes nothing, not even the
// state directory.
func TestVIPOnAnARPInterfaceIsRefused(t *testing.T) {
	rs, _ := realServer(t)
	rs.Must(t, "ip", "addr", "add", vip+"/32", "dev", "eth0.100")
	before := rs.Snapshot(t)
	for _, args := range [][]string{{"dr", "--vip", vip}, {"dr", "--vip", vip, "--dry-run"}} {
		oneLine(t, rs.Rsprep(t, args...), 2, "VIP "+vip+" is on eth0.100", "director", "--take-vip-from-arp-interface")
	}
	if after := rs.Snapshot(t); after != before {
		t.Errorf("a refused apply changed the namespace:\n%s", diffLines(before, after))
	}
	if entries, _ := os.ReadDir(rs.StateDir); len(entries) != 0 {
		t.Errorf("a refused apply left %d file(s) in the state directory", len(entries))
	}
	r := mustRun(t, rs, 1, "verify", "dr", "--vip", vip)
	if !strings.Contains(r.Stdout, "--take-vip-from-arp-interface") {
		t.Errorf("verify does not say how to proceed with the VIP on eth0.100:\n%s", r.Stdout)
	}
}

// lifetimes are the valid_lft and preferred_lft ip shows for prefix on dev.
func lifetimes(t *testing.T, out, prefix string) (valid, preferred int) {
	t.Helper()
	m := regexp.MustCompile(regexp.QuoteMeta(prefix) + `.*valid_lft (\d+)sec preferred_lft (\d+)sec`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("%s has no finite lifetimes:\n%s", prefix, out)
	}
	valid, _ = strconv.Atoi(m[1])
	preferred, _ = strconv.Atoi(m[2])
	return valid, preferred
}

// With --take-vip-from-arp-interface apply moves the VIP to lo, and down
// gives it back as it was: label, flags (noprefixroute, nodad), scope,
// and what is left of its lifetimes.
func TestTakenVIPIsGivenBackAsItWas(t *testing.T) {
	rs, _ := realServer(t)
	const vip6 = "2001:db8::80"
	rs.Must(t, "ip", "addr", "add", vip+"/32", "dev", "eth0.100", "label", "eth0.100:vrrp", "noprefixroute", "valid_lft", "3000", "preferred_lft", "2000")
	rs.Must(t, "ip", "-6", "addr", "add", vip6+"/128", "dev", "eth0.100", "nodad", "scope", "link")
	pristine := rs.Snapshot(t)
	taken := time.Now()
	mustRun(t, rs, 0, "dr", "--vip", vip+","+vip6, "--take-vip-from-arp-interface")
	if on := rs.Must(t, "ip", "-o", "addr", "show", "dev", "eth0.100"); strings.Contains(on, vip+"/") || strings.Contains(on, vip6+"/") {
		t.Fatalf("the VIPs are still on eth0.100 after apply:\n%s", on)
	}
	mustRun(t, rs, 0, "verify", "dr", "--vip", vip+","+vip6)
	if st := mustRun(t, rs, 0, "status", "-o", "json"); !strings.Contains(st.Stdout, "dr took "+vip+"/32 from eth0.100") {
		t.Errorf("status does not say what rsprep took:\n%s", st.Stdout)
	}
	mustRun(t, rs, 0, "dr", "--vip", vip+","+vip6, "--take-vip-from-arp-interface") // a no-op: the record keeps what was taken
	r := mustRun(t, rs, 0, "down", "dr", "--vip", vip+","+vip6)
	if strings.Contains(r.Stderr, "left "+vip) {
		t.Errorf("down left a VIP it took:\n%s", r.Stderr)
	}
	if after := rs.Snapshot(t); after != pristine {
		t.Fatalf("down did not give the VIPs back as they were:\n%s", diffLines(pristine, after))
	}
	valid, preferred := lifetimes(t, rs.Must(t, "ip", "-o", "addr", "show", "dev", "eth0.100"), vip+"/32")
	held := int(time.Since(taken).Seconds()) + 2
	if valid > 3000 || valid < 3000-held || preferred > 2000 || preferred < 2000-held {
		t.Errorf("given back with valid_lft %d preferred_lft %d, want what was left of 3000 and 2000 after %d s", valid, preferred, held)
	}
	// Gone from the record: a second down gives nothing back again.
	rs.Must(t, "ip", "addr", "del", vip+"/32", "dev", "eth0.100")
	mustRun(t, rs, 0, "down", "dr", "--vip", vip+","+vip6)
	if strings.Contains(rs.Must(t, "ip", "-o", "addr", "show", "dev", "eth0.100"), vip+"/") {
		t.Error("a second down gave the VIP back again")
	}
}
