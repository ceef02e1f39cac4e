package test

import (
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rsprep/rsprep/test/nstest"
)

// arpSampler watches one namespace from inside, as fast as a shell loop
// can, for the instant the LVS outage needs: the VIP on lo while
// conf/all/arp_ignore is not 1 (read before and after the address dump,
// so a change in between is not counted). The test's cleanup stops it.
type arpSampler struct {
	cmd *exec.Cmd
	out *lockedBuffer
}

func sampleARP(t *testing.T, ns *nstest.NS, ip string) *arpSampler {
	t.Helper()
	script := `while :; do
read a < /proc/sys/net/ipv4/conf/all/arp_ignore
l=$(ip -o addr show dev lo)
read b < /proc/sys/net/ipv4/conf/all/arp_ignore
case "$l" in *" ` + ip + `/32 "*) [ "$a" = 1 ] || [ "$b" = 1 ] || echo "BAD arp_ignore=$a,$b with the VIP bound";; esac
echo sample
done`
	s := &arpSampler{cmd: exec.Command("ip", "netns", "exec", ns.Name, "sh", "-c", script), out: &lockedBuffer{}}
	s.cmd.Stdout = s.out
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.stop)
	return s
}

// stop ends the loop (idempotent) and returns what it saw.
func (s *arpSampler) stop() {
	if s.cmd.ProcessState == nil {
		syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		s.cmd.Wait()
	}
}

// check lets the sampler take n more samples (a bounded wait), stops it
// and fails the test if it saw the outage.
func (s *arpSampler) check(t *testing.T, n int) {
	t.Helper()
	count := func() int { return strings.Count(s.out.String(), "sample") }
	want, deadline := count()+n, time.Now().Add(60*time.Second)
	for count() < want && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	s.stop()
	out := s.out.String()
	if got := count(); got < want {
		t.Fatalf("the sampler took only %d samples", got)
	}
	if strings.Contains(out, "BAD") {
		t.Errorf("the VIP was bound while ARP answered for it:\n%s", grepLines(out, "BAD"))
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// waitExit waits (bounded) for watch to exit on its own and returns its
// exit code.
func (w *watchProc) waitExit(t *testing.T, bound time.Duration) int {
	t.Helper()
	select {
	case <-w.exited:
	case <-time.After(bound):
		t.Fatalf("rsprep watch still runs %v later", bound)
	}
	if ee, ok := w.err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	return 0
}

// An operator's down beside a running watch (issue 28): the watch stands
// down instead of putting the VIP back, down's work stays done (no VIP,
// the sysctls as they were before rsprep), and at no sampled instant is
// the VIP bound while arp_ignore is off.
func TestWatchStandsDownForAnOperatorsDown(t *testing.T) {
	rs, _ := realServer(t)
	pristine := rs.Snapshot(t)
	w := startWatch(t, rs, "dr", "--vip", vip, "--resync", "1s")
	s := sampleARP(t, rs, vip)
	mustRun(t, rs, 0, "down", "dr", "--vip", vip)
	if code := w.waitExit(t, 30*time.Second); code != 0 {
		t.Fatalf("watch exited %d after the down, want 0", code)
	}
	if !strings.Contains(w.log.String(), "standing down: rsprep down dr") {
		t.Errorf("watch did not say why it stopped:\n%s", w.log)
	}
	s.check(t, 50)
	if after := rs.Snapshot(t); after != pristine {
		t.Errorf("after watch and down the namespace is not as before rsprep:\n%s", diffLines(pristine, after))
	}
	// A new watch (or apply) makes the namespace rsprep's to keep again.
	w2 := startWatch(t, rs, "dr", "--vip", vip, "--resync", "1h")
	rs.Must(t, "ip", "addr", "del", vip+"/32", "dev", "lo")
	w2.waitFor(t, "the VIP back on lo", 30*time.Second, func() bool { return hasVIP(t, rs, vip) })
}

// A down of VIPs the watch does not keep leaves it watching; a down of
// one it keeps (beside others) stands it down.
func TestWatchStandsDownOnlyForItsOwnVIPs(t *testing.T) {
	rs, _ := realServer(t)
	other := "192.168.79.181"
	mustRun(t, rs, 0, "dr", "--vip", other)
	w := startWatch(t, rs, "dr", "--vip", vip, "--resync", "1h")
	mustRun(t, rs, 0, "down", "dr", "--vip", other)
	rs.Must(t, "ip", "addr", "del", vip+"/32", "dev", "lo")
	w.waitFor(t, "the VIP back on lo", 30*time.Second, func() bool { return hasVIP(t, rs, vip) })
	mustRun(t, rs, 0, "down", "dr", "--vip", vip+","+other)
	if code := w.waitExit(t, 30*time.Second); code != 0 {
		t.Fatalf("watch exited %d after the down, want 0", code)
	}
	if hasVIP(t, rs, vip) {
		t.Error("the VIP is bound after down")
	}
}

// Something resets arp_ignore and deletes the VIP at once: the repair the
// address event starts re-checks the whole mode and sets the sysctl
// before it binds the VIP (without waiting for the resync, an hour away).
func TestWatchSetsTheSysctlsBeforeTheVIP(t *testing.T) {
	rs, _ := realServer(t)
	w := startWatch(t, rs, "dr", "--vip", vip, "--resync", "1h")
	for i := 0; i < 5; i++ {
		rs.Sh(t, "sysctl -qw net.ipv4.conf.all.arp_ignore=0; ip addr del "+vip+"/32 dev lo")
		w.waitFor(t, "the VIP back on lo", 30*time.Second, func() bool { return hasVIP(t, rs, vip) })
		if got := sysctlValue(t, rs, "net/ipv4/conf/all/arp_ignore"); got != "1" {
			t.Fatalf("round %d: the VIP is back with arp_ignore %s", i, got)
		}
	}
	// And in that order: the sampler cannot tell (the test's own sysctl
	// write comes before its delete), the log can.
	log := w.log.String()
	repair := log[strings.Index(log, "repairing drift"):]
	if s, a := strings.Index(repair, "net.ipv4.conf.all.arp_ignore=1"), strings.Index(repair, "ip addr add "+vip); s < 0 || a < s {
		t.Errorf("the repair did not set arp_ignore before binding the VIP:\n%s", repair)
	}
}

// A director not up yet (issue 28): watch with a silent --dip says READY
// with a degraded STATUS, keeps what it can true (the VIP is bound and
// repaired), and converges when the director answers, without a restart.
func TestWatchStartsBeforeTheDirector(t *testing.T) {
	rs, peer := realServer(t)
	const dip = "10.0.0.77" // nobody yet
	w := startWatch(t, rs, "dr", "--vip", vip, "--dip", dip, "--resync", "1s")
	w.waitFor(t, "a degraded STATUS", 10*time.Second, func() bool {
		return regexp.MustCompile(`STATUS=dr: degraded: 1 of \d+ checks fail \(dip.reachable ` + dip + `\)`).MatchString(w.notes.String())
	})
	if !hasVIP(t, rs, vip) {
		t.Fatal("READY=1 without the VIP bound")
	}
	// The harness's WATCHDOG_USEC=2s is shorter than a repair may wait
	// for the lock (--lock-wait 10s): watch raises it to 2×(10s+5s).
	if !strings.Contains(w.notes.String(), "WATCHDOG_USEC=30000000\n") {
		t.Errorf("the watchdog was not raised for --lock-wait:\n%s", w.notes)
	}
	rs.Must(t, "ip", "addr", "del", vip+"/32", "dev", "lo")
	w.waitFor(t, "the VIP back on lo", 30*time.Second, func() bool { return hasVIP(t, rs, vip) })
	mustRun(t, rs, 1, "verify", "dr", "--vip", vip, "--dip", dip)

	peer.Must(t, "ip", "addr", "add", dip+"/24", "dev", "eth0")
	w.waitFor(t, "STATUS: every check holds", 60*time.Second, func() bool {
		return strings.Contains(w.notes.String(), "STATUS=dr: all ")
	})
	mustRun(t, rs, 0, "verify", "dr", "--vip", vip, "--dip", dip)
	for _, bad := range []string{"keeps undoing", "repair failed", "level=ERROR"} {
		if strings.Contains(w.log.String(), bad) {
			t.Errorf("watch logged %q while the director was away:\n%s", bad, w.log)
		}
	}
}

// Every invariant a kernel event can break, broken by hand, is repaired
// from its event, with the resync an hour away (issue 28): each one
// declares its events (realserver.EventDriven): netlink's address, link,
// route and neighbour groups, and the sysctls the kernel announces
// (netconf: forwarding, rp_filter). TUN's need a kernel with ipip (the VM
// lab's watch-tun.sh). A VIP put on the uplink is taken back only when watch
// is told it may take it (--take-vip-from-arp-interface; otherwise it is
// the director's, and reported).
func TestWatchRepairsEachInvariantFromItsEvent(t *testing.T) {
	type breakCase struct {
		id, breakIt, holds string // holds: a shell test that passes once repaired
	}
	for _, tc := range []struct {
		name  string
		setup string
		args  []string
		cases []breakCase
	}{
		{"dr", "ip route add default via 10.0.0.1", []string{"dr", "--vip", vip, "--pin-gateway-arp", "--take-vip-from-arp-interface", "--forwarding", "off"}, []breakCase{
			{"vip.bound", "ip addr del " + vip + "/32 dev lo", "ip -o addr show dev lo | grep -q ' " + vip + "/32 '"},
			{"vip.exclusive", "ip addr add " + vip + "/32 dev eth0.100", "! ip -o addr show dev eth0.100 | grep -q ' " + vip + "/32 '"},
			{"gw.pinned", "ip neigh del 10.0.0.1 dev eth0.100", "ip neigh show 10.0.0.1 dev eth0.100 | grep -q PERMANENT"},
			{"link.up", "ip link set lo down", "ip -o link show lo | grep -q ',UP'"},
			{"ip.forward", "sysctl -qw net.ipv4.ip_forward=1", "[ $(cat /proc/sys/net/ipv4/ip_forward) = 0 ]"},
		}},
		{"nat", "ip route add default via 10.0.0.254", []string{"nat", "--dip", "10.0.0.1", "--keep-route", "10.20.0.0/16"}, []breakCase{
			{"route.keep", "ip route del 10.20.0.0/16", "ip route show 10.20.0.0/16 | grep -q 'via 10.0.0.254'"},
			{"route.default", "ip route del default via 10.0.0.1", "ip route show default | grep -q 'via 10.0.0.1'"},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rs, _ := realServer(t)
			rs.Sh(t, tc.setup)
			w := startWatch(t, rs, append(tc.args, "--resync", "1h")...)
			for _, c := range tc.cases {
				rs.Sh(t, c.breakIt)
				w.waitFor(t, c.id+" repaired", 30*time.Second, func() bool {
					_, err := rs.Exec("sh", "-c", c.holds)
					return err == nil
				})
				w.waitFor(t, c.id+"'s repair logged with its event", 10*time.Second, func() bool {
					return regexp.MustCompile(`msg="repairing drift" mode=` + tc.name + ` invariant=` + regexp.QuoteMeta(c.id) + ` .* cause="(address|route|neighbour|link|sysctl|rule) `).MatchString(w.log.String())
				})
			}
		})
	}
}
