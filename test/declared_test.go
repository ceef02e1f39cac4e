package test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rsprep/rsprep/test/nstest"
)

// The second VIP of the config tests.
const vip2 = "192.168.79.181"

// writeConfig writes a dr config declaring vips to path, root's and 0644.
func writeConfig(t *testing.T, path string, vips ...string) {
	t.Helper()
	s := "[rsprep]\nmode = dr\n"
	for _, v := range vips {
		s += "vip = " + v + "\n"
	}
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

// sysctl reads one sysctl in ns.
func sysctl(t *testing.T, ns *nstest.NS, key string) string {
	t.Helper()
	return strings.TrimSpace(ns.Must(t, "sysctl", "-n", key))
}

// appliedFromConfig is a real server with rsprep apply --config run from a
// config declaring vip and vip2; pristine is the namespace before.
func appliedFromConfig(t *testing.T) (rs *nstest.NS, pristine, conf string) {
	t.Helper()
	rs, _ = realServer(t)
	pristine = rs.Snapshot(t)
	conf = filepath.Join(t.TempDir(), "rsprep.conf")
	writeConfig(t, conf, vip, vip2)
	mustRun(t, rs, 0, "apply", "--config", conf)
	if !hasVIP(t, rs, vip) || !hasVIP(t, rs, vip2) {
		t.Fatalf("apply --config did not bind both VIPs:\n%s", rs.Must(t, "ip", "-o", "addr"))
	}
	return rs, pristine, conf
}

// The config file is the whole truth: a VIP dropped from it is drift for
// verify (text, JSON, Prometheus) until the next apply --config removes it,
// while the ARP sysctls the remaining VIP needs stay. A config that
// declares no VIP is bad input, not "remove everything": down --all is,
// and it leaves the namespace as rsprep found it.
func TestConfigApplyConvergesToWhatItDeclares(t *testing.T) {
	rs, pristine, conf := appliedFromConfig(t)

	writeConfig(t, conf, vip)
	r := mustRun(t, rs, 1, "verify", "--config", conf)
	if want := "FAIL own.undeclared " + vip2 + "/32 on lo"; !strings.Contains(r.Stdout, want) {
		t.Errorf("verify --config lacks %q:\n%s", want, r.Stdout)
	}
	r = mustRun(t, rs, 1, "verify", "--config", conf, "-o", "json")
	var rep struct {
		OK     bool `json:"ok"`
		Checks []struct {
			ID, Subject string
			OK          bool
		} `json:"checks"`
	}
	if err := json.Unmarshal([]byte(r.Stdout), &rep); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, c := range rep.Checks {
		found = found || (c.ID == "own.undeclared" && c.Subject == vip2+"/32 on lo" && !c.OK)
	}
	if rep.OK || !found {
		t.Errorf("verify -o json: ok=%v, own.undeclared for %s found=%v:\n%s", rep.OK, vip2, found, r.Stdout)
	}
	r = mustRun(t, rs, 1, "verify", "--config", conf, "-o", "prometheus")
	if want := `rsprep_invariant_ok{mode="dr",id="own.undeclared",subject="` + vip2 + `/32 on lo",source="verify"} 0`; !strings.Contains(r.Stdout, want) {
		t.Errorf("verify -o prometheus lacks %s:\n%s", want, r.Stdout)
	}
	// With flags too: an audit of vip alone sees vip2 as rsprep's, undeclared.
	r = mustRun(t, rs, 1, "verify", "dr", "--vip", vip)
	if !strings.Contains(r.Stdout, "FAIL own.undeclared "+vip2+"/32 on lo") {
		t.Errorf("verify dr --vip %s does not report %s:\n%s", vip, vip2, r.Stdout)
	}

	mustRun(t, rs, 0, "apply", "--config", conf)
	if hasVIP(t, rs, vip2) || !hasVIP(t, rs, vip) {
		t.Errorf("apply --config after the edit: want only %s on lo:\n%s", vip, rs.Must(t, "ip", "-o", "addr", "show", "dev", "lo"))
	}
	if got := sysctl(t, rs, "net.ipv4.conf.all.arp_ignore") + sysctl(t, rs, "net.ipv4.conf.all.arp_announce"); got != "12" {
		t.Errorf("arp_ignore, arp_announce = %s, want 1 and 2 while %s needs them", got, vip)
	}
	mustRun(t, rs, 0, "verify", "--config", conf)

	writeConfig(t, conf)
	before := rs.Snapshot(t)
	oneLine(t, rs.Rsprep(t, "apply", "--config", conf), 2, conf, "--vip")
	if after := rs.Snapshot(t); after != before {
		t.Errorf("a config declaring no VIP changed the host:\n%s", diffLines(before, after))
	}
	mustRun(t, rs, 0, "down", "--all")
	if after := rs.Snapshot(t); after != pristine {
		t.Errorf("down --all did not leave the namespace as it was:\n%s", diffLines(pristine, after))
	}
	if out := mustRun(t, rs, 0, "status").Stdout; strings.Contains(out, "192.168.79.") {
		t.Errorf("status after down --all still lists a VIP:\n%s", out)
	}
}

// The command line adds: two applies of different VIPs give the union,
// and down of one keeps the sysctls while the other needs them.
func TestCommandLineApplyAdds(t *testing.T) {
	rs, _ := realServer(t)
	mustRun(t, rs, 0, "dr", "--vip", vip)
	mustRun(t, rs, 0, "dr", "--vip", vip2)
	if !hasVIP(t, rs, vip) || !hasVIP(t, rs, vip2) {
		t.Fatalf("two applies did not give the union:\n%s", rs.Must(t, "ip", "-o", "addr", "show", "dev", "lo"))
	}
	mustRun(t, rs, 0, "verify", "dr", "--vip", vip+","+vip2)
}

// The unit's stop (down --all; down --config does the same) leaves nothing,
// even after the config was edited before the stop.
func TestDownConfigAfterAnEditLeavesNothing(t *testing.T) {
	rs, pristine, conf := appliedFromConfig(t)
	writeConfig(t, conf, vip)
	mustRun(t, rs, 0, "down", "--config", conf)
	if after := rs.Snapshot(t); after != pristine {
		t.Errorf("down --config after an edit left state behind:\n%s", diffLines(pristine, after))
	}
}

// A config root runs from must be root's: a file, or a directory above
// it, that others can write is refused (exit 2, naming it and its mode)
// before anything changes.
func TestConfigWritableByOthersIsRefused(t *testing.T) {
	rs, _ := realServer(t)
	before := rs.Snapshot(t)
	dir := t.TempDir()
	conf := filepath.Join(dir, "rsprep.conf")
	writeConfig(t, conf, vip)
	if err := os.Chmod(conf, 0o666); err != nil {
		t.Fatal(err)
	}
	oneLine(t, rs.Rsprep(t, "apply", "--config", conf), 2, "config file "+conf, "mode 0666")
	if err := os.Chmod(conf, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	oneLine(t, rs.Rsprep(t, "apply", "--config", conf), 2, "directory "+dir, "mode 0777")
	if err := os.Chown(conf, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	oneLine(t, rs.Rsprep(t, "apply", "--config", conf), 2, "config file "+conf, "owned by uid 65534")
	if after := rs.Snapshot(t); after != before {
		t.Errorf("a refused config changed the host:\n%s", diffLines(before, after))
	}
}

// watch --config converges on SIGHUP: a VIP removed from the config goes
// at the reload, and is not put back.
func TestWatchSIGHUPDropsARemovedVIP(t *testing.T) {
	rs, _ := realServer(t)
	conf := filepath.Join(t.TempDir(), "rsprep.conf")
	writeConfig(t, conf, vip, vip2)
	w := startWatch(t, rs, "--config", conf)
	if !hasVIP(t, rs, vip2) {
		t.Fatal("watch did not bind the second VIP")
	}
	writeConfig(t, conf, vip)
	w.cmd.Process.Signal(syscall.SIGHUP)
	w.waitFor(t, vip2+" removed", 20*time.Second, func() bool { return !hasVIP(t, rs, vip2) })
	if !hasVIP(t, rs, vip) {
		t.Errorf("the SIGHUP removed %s too", vip)
	}
	mustRun(t, rs, 0, "verify", "--config", conf)
	if code := w.stop(t, syscall.SIGTERM); code != 0 {
		t.Fatalf("exit %d after SIGTERM\n%s", code, w.log)
	}
	if hasVIP(t, rs, vip2) {
		t.Errorf("watch put %s back", vip2)
	}
}

// Routes too: a keep-route dropped from a NAT config is removed by the
// next apply --config, while the default route via the DIP stays; down
// --all puts the routing table back as it was.
func TestConfigDroppedKeepRouteIsRemoved(t *testing.T) {
	rs, peer := nstest.New(t, "rs"), nstest.New(t, "gw")
	rs.Must(t, "ip", "link", "set", "lo", "up")
	nstest.Veth(t, rs, "eth0", "192.168.10.11/24", peer, "eth0", "192.168.10.254/24")
	peer.Must(t, "ip", "addr", "add", natDIP+"/24", "dev", "eth0")
	rs.Must(t, "ip", "route", "add", "default", "via", "192.168.10.254")
	routes := func() string { return rs.Must(t, "ip", "route", "show", "table", "main") }
	pristine := routes()
	conf := filepath.Join(t.TempDir(), "rsprep.conf")
	write := func(s string) {
		if err := os.WriteFile(conf, []byte("[rsprep]\nmode = nat\ndip = "+natDIP+"\n"+s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("keep-route = " + natMgmt + "\n")
	mustRun(t, rs, 0, "apply", "--config", conf)
	if got := routes(); !strings.Contains(got, natMgmt+" via 192.168.10.254") || !strings.Contains(got, "default via "+natDIP) {
		t.Fatalf("apply --config: routes\n%s", got)
	}
	write("")
	r := mustRun(t, rs, 1, "verify", "--config", conf)
	if !strings.Contains(r.Stdout, "FAIL own.undeclared route "+natMgmt) {
		t.Errorf("verify does not report the dropped keep-route:\n%s", r.Stdout)
	}
	mustRun(t, rs, 0, "apply", "--config", conf)
	if got := routes(); strings.Contains(got, natMgmt) || !strings.Contains(got, "default via "+natDIP) {
		t.Errorf("apply --config after dropping the keep-route: routes\n%s", got)
	}
	mustRun(t, rs, 0, "verify", "--config", conf)
	mustRun(t, rs, 0, "down", "--all", "--dry-run", "-o", "json")
	mustRun(t, rs, 0, "down", "--all")
	if got := routes(); got != pristine {
		t.Errorf("after down --all: routes\n%s\nwant\n%s", got, pristine)
	}
}

// Another mode's state is undeclared too: switching the config from dr to
// nat removes the VIPs and restores the ARP sysctls dr needed.
func TestConfigModeSwitchUndoesTheOldMode(t *testing.T) {
	rs, pristine, conf := appliedFromConfig(t)
	if err := os.WriteFile(conf, []byte("[rsprep]\nmode = nat\ndip = 10.0.0.1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	mustRun(t, rs, 0, "apply", "--config", conf)
	if hasVIP(t, rs, vip) || hasVIP(t, rs, vip2) {
		t.Errorf("dr's VIPs stayed after the switch to nat:\n%s", rs.Must(t, "ip", "-o", "addr", "show", "dev", "lo"))
	}
	if got := sysctl(t, rs, "net.ipv4.conf.all.arp_ignore") + sysctl(t, rs, "net.ipv4.conf.all.arp_announce"); got != "00" {
		t.Errorf("arp_ignore, arp_announce = %s after the switch to nat, want 0 and 0 as before dr", got)
	}
	if got := rs.Must(t, "ip", "route", "show", "default"); !strings.Contains(got, "via 10.0.0.1") {
		t.Errorf("default route after the switch to nat: %s", got)
	}
	mustRun(t, rs, 0, "verify", "--config", conf)
	mustRun(t, rs, 0, "down", "--all")
	if after := rs.Snapshot(t); after != pristine {
		t.Errorf("down --all after the switch:\n%s", diffLines(pristine, after))
	}
}

// A drain (rsprep's policy rule failing the director's probe of a VIP) is
// rsprep's too: verify reports the drain of a VIP the file no longer
// declares, apply --config ends it and keeps the one of a VIP it does;
// down --all ends every one.
func TestConfigAndDownAllEndDrains(t *testing.T) {
	rs, _, conf := appliedFromConfig(t)
	drained := func(ip string) bool {
		return strings.Contains(rs.Must(t, "ip", "rule", "show", "priority", "7300"), "from "+ip+" to 10.0.0.1 ")
	}
	for _, ip := range []string{vip, vip2} { // as rsprep drain writes it
		rs.Must(t, "ip", "rule", "add", "from", ip, "to", "10.0.0.1", "ipproto", "tcp", "priority", "7300", "proto", "114", "unreachable")
	}
	writeConfig(t, conf, vip)
	r := mustRun(t, rs, 1, "verify", "--config", conf)
	if want := "FAIL own.undeclared drain " + vip2 + " to 10.0.0.1"; !strings.Contains(r.Stdout, want) || strings.Contains(r.Stdout, "drain "+vip+" ") {
		t.Errorf("verify --config: want %q, and no finding on the drain of %s:\n%s", want, vip, r.Stdout)
	}
	mustRun(t, rs, 0, "apply", "--config", conf)
	if !drained(vip) || drained(vip2) {
		t.Errorf("after apply --config: the drain of %s kept=%v (want true), of the dropped %s kept=%v (want false)", vip, drained(vip), vip2, drained(vip2))
	}
	mustRun(t, rs, 0, "down", "--all")
	if drained(vip) {
		t.Errorf("down --all left the drain of %s", vip)
	}
}
