package test

import (
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A VIP someone deletes is put back, the repair is logged at warning level
// with the check, the old value and the event; a sysctl drift (no event)
// is repaired at the next resync; the textfile counts both and passes
// promtool; sd_notify sent READY, STATUS and WATCHDOG.
func TestWatchRestoresVIPAndSysctl(t *testing.T) {
	rs, _ := realServer(t)
	w := startWatch(t, rs, "dr", "--vip", vip, "--resync", "1s")
	if !hasVIP(t, rs, vip) {
		t.Fatal("READY=1 before the VIP was bound")
	}
	rs.Must(t, "ip", "addr", "del", vip+"/32", "dev", "lo")
	w.waitFor(t, "the VIP back on lo", 20*time.Second, func() bool { return hasVIP(t, rs, vip) })
	w.waitFor(t, "the repair's log line", 10*time.Second, func() bool {
		return strings.Contains(w.log.String(), `level=WARN msg="repairing drift" mode=dr invariant=vip.bound subject=192.168.79.180 want="192.168.79.180/32 on lo" got=absent cause="address 192.168.79.180/32 removed from lo"`)
	})

	rs.Must(t, "sysctl", "-qw", "net.ipv4.conf.all.arp_ignore=0")
	w.waitFor(t, "arp_ignore back at 1", 30*time.Second, func() bool { return sysctlValue(t, rs, "net/ipv4/conf/all/arp_ignore") == "1" })
	w.waitFor(t, "the textfile counting both repairs", 10*time.Second, func() bool {
		return w.metric(t, `rsprep_repairs_total{check="vip.bound"}`) >= 1 && w.metric(t, `rsprep_repairs_total{check="arp.ignore"}`) >= 1
	})
	if got := w.metric(t, `rsprep_invariant_ok{mode="dr",id="vip.bound",subject="192.168.79.180",source="watch"}`); got != 1 {
		t.Errorf("rsprep_invariant_ok for the VIP = %v", got)
	}
	if got := w.metric(t, `rsprep_fight{check="vip.bound"}`); got != 0 {
		t.Errorf("rsprep_fight = %v without a fight", got)
	}
	if got := w.metric(t, `rsprep_last_resync_timestamp_seconds`); got < float64(time.Now().Add(-time.Hour).Unix()) {
		t.Errorf("rsprep_last_resync_timestamp_seconds = %v", got)
	}
	w.waitFor(t, "WATCHDOG=1 (WATCHDOG_USEC=2s)", 20*time.Second, func() bool { return strings.Contains(w.notes.String(), "WATCHDOG=1") })
	if notes := w.notes.String(); !strings.Contains(notes, "STATUS=dr: all 11 checks hold; 0 repairs") {
		t.Errorf("no STATUS= summary after READY:\n%s", notes)
	}
	promtoolCheck(t, w.Textfile)
}

// promtoolCheck runs promtool check metrics on a textfile when promtool is
// installed (test/systemd-checks.sh installs it); CI=true requires it.
func promtoolCheck(t *testing.T, path string) {
	t.Helper()
	if _, err := exec.LookPath("promtool"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("promtool is not installed (apt-get install prometheus), and CI=true forbids skipping the check")
		}
		t.Log("promtool not installed: textfile not checked by promtool")
		return
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("promtool", "check", "metrics")
	cmd.Stdin = strings.NewReader(string(data))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics: %v\n%s\n%s", err, out, data)
	}
}

// An interface that appears with a bad arp_ignore is fixed from its link
// event, not at a resync (which is an hour away here).
func TestWatchFixesANewInterface(t *testing.T) {
	rs, _ := realServer(t)
	w := startWatch(t, rs, "dr", "--vip", vip, "--resync", "1h")
	rs.Sh(t, "ip link add veth7 type veth peer name veth8 && echo 2 > /proc/sys/net/ipv4/conf/veth7/arp_ignore && ip link set veth7 up")
	w.waitFor(t, "veth7's arp_ignore fixed", 20*time.Second, func() bool { return sysctlValue(t, rs, "net/ipv4/conf/veth7/arp_ignore") == "1" })
	if log := w.log.String(); !strings.Contains(log, `msg="repairing drift" mode=dr invariant=arp.ignore subject=veth7 want=1 got=2 cause="`) || !strings.Contains(log, "link veth7 appeared or changed") {
		t.Errorf("no repair log naming veth7 and its link event:\n%s", w.log)
	}
}

// A loop that deletes the VIP every 200 ms is fought max-repairs times,
// then left alone with one error naming the fight (and rsprep_fight=1),
// and the VIP is restored once the window has passed.
func TestWatchDampsAFight(t *testing.T) {
	rs, _ := realServer(t)
	w := startWatch(t, rs, "dr", "--vip", vip+",192.168.79.181", "--resync", "1h", "--max-repairs", "3", "--repair-window", "15s")
	fighter := exec.Command("ip", "netns", "exec", rs.Name, "sh", "-c", "while :; do ip addr del "+vip+"/32 dev lo 2>/dev/null; sleep 0.2; done")
	if err := fighter.Start(); err != nil {
		t.Fatal(err)
	}
	stopFighter := func() { fighter.Process.Kill(); fighter.Wait() }
	defer stopFighter()
	const fight = "something keeps undoing vip.bound 192.168.79.180: repaired 3 times within 15s, undone again each time by: address 192.168.79.180/32 removed from lo"
	w.waitFor(t, "the fight's error", 30*time.Second, func() bool { return strings.Contains(w.log.String(), fight) })
	w.waitFor(t, "rsprep_fight=1", 10*time.Second, func() bool { return w.metric(t, `rsprep_fight{check="vip.bound"}`) == 1 })
	if got := w.metric(t, `rsprep_repairs_total{check="vip.bound"}`); got != 3 {
		t.Errorf("rsprep_repairs_total{vip.bound} = %v during the fight, want 3 (max-repairs)", got)
	}
	time.Sleep(time.Second) // the fighter keeps deleting: no more repairs, no second error
	if n := strings.Count(w.log.String(), "something keeps undoing"); n != 1 {
		t.Errorf("%d fight errors, want one", n)
	}
	// The rest is still kept: another VIP of the same check is repaired,
	// and the fought-over one is not put back with it.
	rs.Must(t, "ip", "addr", "del", "192.168.79.181/32", "dev", "lo")
	w.waitFor(t, "the other VIP repaired during the fight", 20*time.Second, func() bool { return hasVIP(t, rs, "192.168.79.181") })
	if n := strings.Count(w.log.String(), `change="ip addr add 192.168.79.180/32`); n != 4 {
		t.Errorf("the fought-over VIP was added %d times, want 4 (the first apply and 3 repairs)", n)
	}
	stopFighter()
	w.waitFor(t, "the VIP restored after the window", 60*time.Second, func() bool { return hasVIP(t, rs, vip) })
	w.waitFor(t, "rsprep_fight=0", 10*time.Second, func() bool { return w.metric(t, `rsprep_fight{check="vip.bound"}`) == 0 })
	if got := w.metric(t, `rsprep_drift_events_total{check="vip.bound"}`); got < 4 {
		t.Errorf("rsprep_drift_events_total{vip.bound} = %v, want the drift during the fight counted", got)
	}
}

// --on-drift report leaves the drift in place, logs it and counts it.
func TestWatchReportOnly(t *testing.T) {
	rs, _ := realServer(t)
	mustRun(t, rs, 0, "dr", "--vip", vip)
	w := startWatch(t, rs, "dr", "--vip", vip, "--on-drift", "report", "--resync", "1s")
	rs.Must(t, "ip", "addr", "del", vip+"/32", "dev", "lo")
	rs.Must(t, "ip", "addr", "add", vip+"/32", "dev", "eth0.100")
	w.waitFor(t, "the drift counted", 20*time.Second, func() bool {
		return w.metric(t, `rsprep_drift_events_total{check="vip.bound"}`) >= 1 && w.metric(t, `rsprep_drift_events_total{check="vip.exclusive"}`) >= 1
	})
	if !strings.Contains(w.log.String(), `msg="drift (--on-drift report: not repairing)" mode=dr invariant=vip.bound subject=192.168.79.180`) {
		t.Errorf("drift not logged:\n%s", w.log)
	}
	if hasVIP(t, rs, vip) || w.metric(t, `rsprep_repairs_total{check="vip.bound"}`) != 0 || w.metric(t, `rsprep_verify_ok{mode="dr",source="watch"}`) != 0 {
		t.Errorf("report mode repaired, or the textfile does not show the drift:\n%s", w.log)
	}
	if strings.Contains(w.log.String(), "msg=changed") {
		t.Errorf("report mode changed something:\n%s", w.log)
	}
	// A lasting drift is counted and logged once, not at every resync.
	seen := w.metric(t, `rsprep_last_resync_timestamp_seconds`)
	w.waitFor(t, "two more resyncs", 30*time.Second, func() bool { return w.metric(t, `rsprep_last_resync_timestamp_seconds`) >= seen+2 })
	if got := w.metric(t, `rsprep_drift_events_total{check="vip.bound"}`); got != 1 {
		t.Errorf("rsprep_drift_events_total{vip.bound} = %v after resyncs of one lasting drift, want 1", got)
	}
	if n := strings.Count(w.log.String(), "invariant=vip.bound subject=192.168.79.180"); n != 1 {
		t.Errorf("the lasting drift logged %d times, want once:\n%s", n, w.log)
	}
}

// SIGTERM: exit 0, and the host is exactly as watch kept it.
func TestWatchSIGTERMChangesNothing(t *testing.T) {
	rs, _ := realServer(t)
	w := startWatch(t, rs, "dr", "--vip", vip+",2001:db8::80")
	before := rs.Snapshot(t)
	if code := w.stop(t, syscall.SIGTERM); code != 0 {
		t.Fatalf("exit %d after SIGTERM, want 0\n%s", code, w.log)
	}
	if after := rs.Snapshot(t); after != before {
		t.Errorf("SIGTERM changed the host:\n%s", diffLines(before, after))
	}
	mustRun(t, rs, 0, "verify", "dr", "--vip", vip+",2001:db8::80")
}

// SIGHUP re-reads the config: a bad one is refused (logged) and watch keeps
// the old desired state; a good one is applied.
func TestWatchSIGHUPReloadsTheConfig(t *testing.T) {
	rs, _ := realServer(t)
	conf := t.TempDir() + "/rsprep.conf"
	write := func(s string) {
		if err := os.WriteFile(conf, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("[rsprep]\nmode = dr\nvip = " + vip + "\n")
	w := startWatch(t, rs, "--config", conf)
	write("[rsprep]\nmode = dr\nvip = 192.168.79.999\n")
	w.cmd.Process.Signal(syscall.SIGHUP)
	w.waitFor(t, "the bad config refused", 20*time.Second, func() bool {
		return strings.Contains(w.log.String(), "SIGHUP: keeping the current desired state") && strings.Contains(w.log.String(), "192.168.79.999")
	})
	rs.Must(t, "ip", "addr", "del", vip+"/32", "dev", "lo")
	w.waitFor(t, "the old VIP still kept", 20*time.Second, func() bool { return hasVIP(t, rs, vip) })

	write("[rsprep]\nmode = dr\nvip = " + vip + "\nvip = 192.168.79.181\n")
	w.cmd.Process.Signal(syscall.SIGHUP)
	w.waitFor(t, "the new VIP bound", 20*time.Second, func() bool { return hasVIP(t, rs, "192.168.79.181") })
	rs.Must(t, "ip", "addr", "del", "192.168.79.181/32", "dev", "lo")
	w.waitFor(t, "the new VIP kept", 20*time.Second, func() bool { return hasVIP(t, rs, "192.168.79.181") })
}

// Bad watch flags: exit 2, one line, nothing changed.
func TestWatchBadInput(t *testing.T) {
	rs, _ := realServer(t)
	before := rs.Snapshot(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--resync", "0s"}, "--resync 0s"},
		{[]string{"--resync", "often"}, "--resync"},
		{[]string{"--max-repairs", "0"}, "--max-repairs 0"},
		{[]string{"--repair-window", "0s"}, "--repair-window 0s"},
		{[]string{"--on-drift", "fix"}, `--on-drift "fix"`},
		{[]string{"--textfile", "/nonexistent/dir/rsprep.prom"}, "directory /nonexistent/dir does not exist"},
		{[]string{"--vip", "192.168.79.999"}, "192.168.79.999"},
	} {
		args := append([]string{"watch", "dr", "--vip", vip}, tc.args...)
		if tc.args[0] == "--vip" {
			args = append([]string{"watch", "dr"}, tc.args...)
		}
		oneLine(t, rs.Rsprep(t, args...), 2, tc.want)
	}
	if after := rs.Snapshot(t); after != before {
		t.Errorf("bad input changed the host:\n%s", diffLines(before, after))
	}
}

// verify, apply and down by hand keep working beside watch, even a
// 5,000-VIP apply whose address churn interrupts watch's dumps (issue 17:
// watch waits its turn rather than fail), and watch keeps its own VIP.
func TestWatchBesideHandRuns(t *testing.T) {
	rs, _ := realServer(t)
	w := startWatch(t, rs, "dr", "--vip", vip)
	big := vipRange(103, 5000)
	mustRun(t, rs, 0, "dr", "--vip", big, "--lock-wait", "2m")
	mustRun(t, rs, 0, "verify", "dr", "--vip", vip+","+big, "--lock-wait", "2m")
	mustRun(t, rs, 0, "down", "dr", "--vip", big, "--lock-wait", "2m")
	rs.Must(t, "ip", "addr", "del", vip+"/32", "dev", "lo")
	w.waitFor(t, "the VIP back on lo", 30*time.Second, func() bool { return hasVIP(t, rs, vip) })
	for _, bad := range []string{"cannot observe", "repair failed", "level=ERROR"} {
		if strings.Contains(w.log.String(), bad) {
			t.Errorf("watch logged %q beside the hand runs:\n%s", bad, w.log)
		}
	}
}

// A DHCP client or networkd putting its default route back ahead of
// rsprep's, at its metric (the kernel uses the first), is drift the
// watcher repairs: the route via the DIP is the one in effect again, with
// no failed repair (replacing the manager's route with the DIP's again is
// a duplicate the kernel refuses). The boot test's networkd restart is
// the same fight on a real manager.
func TestWatchPutsTheDIPRouteAheadOfAManagersAgain(t *testing.T) {
	rs, _ := realServer(t)
	rs.Must(t, "ip", "route", "add", "default", "via", "10.0.0.254", "proto", "dhcp")
	w := startWatch(t, rs, "nat", "--dip", "10.0.0.1", "--resync", "1h")
	if got := firstDefault(t, rs); !strings.HasPrefix(got, "default via 10.0.0.1 ") {
		t.Fatalf("READY=1 with the default route %q in effect", got)
	}
	rs.Must(t, "ip", "route", "prepend", "default", "via", "10.0.0.254", "dev", "eth0.100", "proto", "dhcp")
	w.waitFor(t, "the route via the DIP in effect again", 30*time.Second, func() bool {
		return strings.HasPrefix(firstDefault(t, rs), "default via 10.0.0.1 ")
	})
	w.waitFor(t, "the repair's log line", 10*time.Second, func() bool {
		return strings.Contains(w.log.String(), `level=WARN msg="repairing drift" mode=nat invariant=route.default subject=default`)
	})
	w.stopClean(t, "repair failed", "did not converge", "level=ERROR")
	mustRun(t, rs, 0, "down", "nat", "--dip", "10.0.0.1")
	if got := strings.TrimSpace(rs.Must(t, "ip", "route", "show", "default")); got != "default via 10.0.0.254 dev eth0.100 proto dhcp" {
		t.Errorf("after down the default routes are\n%s\nwant only the manager's", got)
	}
}

// One repair per break: watch ignores the kernel's echo of its own
// repairs, so N deletions are N repairs, counted and logged once each, and
// the count stays there across the resyncs that follow.
func TestWatchRepairsOncePerBreak(t *testing.T) {
	rs, _ := realServer(t)
	vips := []string{vip, "192.168.79.181", "192.168.79.182"}
	w := startWatch(t, rs, "dr", "--vip", strings.Join(vips, ","), "--resync", "1s")
	const rounds = 2 // per VIP: under --max-repairs (5), no fight
	for range rounds {
		for _, ip := range vips {
			rs.Must(t, "ip", "addr", "del", ip+"/32", "dev", "lo")
			w.waitFor(t, ip+" back on lo", 20*time.Second, func() bool { return hasVIP(t, rs, ip) })
		}
	}
	want := float64(rounds * len(vips))
	w.waitFor(t, "the textfile counting the repairs", 10*time.Second, func() bool {
		return w.metric(t, `rsprep_repairs_total{check="vip.bound"}`) >= want
	})
	idleFrom := time.Now().Unix() + 1
	w.waitFor(t, "two resyncs after the last repair", 30*time.Second, func() bool {
		return w.metric(t, "rsprep_last_resync_timestamp_seconds") >= float64(idleFrom+1)
	})
	if got := w.metric(t, `rsprep_repairs_total{check="vip.bound"}`); got != want {
		t.Errorf("rsprep_repairs_total{vip.bound} = %v after %v deletions and two idle resyncs, want %v", got, want, want)
	}
	if n := strings.Count(w.log.String(), `msg="repairing drift"`); n != int(want) {
		t.Errorf("%d repairs logged for %v deletions:\n%s", n, want, grepLines(w.log.String(), "repairing drift"))
	}
	w.stopClean(t)
}
