package test

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rsprep/rsprep/test/nstest"
)

// Ctrl-C during a 5,000-VIP apply (issue 31 item 6): the run stops at a
// safe point, rolls back what it changed (the namespace is as before),
// exits 130 saying so, and every address it bound is in the log, each
// with its rollback.
func TestCtrlCDuringALargeApplyRollsBack(t *testing.T) {
	rs, _ := realServer(t)
	pristine := rs.Snapshot(t)
	cmd := exec.Command(nstest.Rsprep(t), "dr", "--vip", vipRange(104, 5000), "--netns", rs.Name)
	cmd.Env = append(os.Environ(), "RSPREP_STATE_DIR="+rs.StateDir)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var log strings.Builder
	lines := bufio.NewScanner(stderr)
	signalled := false
	for lines.Scan() {
		log.WriteString(lines.Text() + "\n")
		if !signalled && strings.Contains(lines.Text(), `change="ip addr add 10.104.`) {
			cmd.Process.Signal(syscall.SIGINT) // the first changes are made
			signalled = true
		}
	}
	io.Copy(io.Discard, stderr)
	err = cmd.Wait()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	}
	out := log.String()
	if !signalled {
		t.Fatalf("the apply logged no address before it ended (exit %d):\n%s", code, tail(out))
	}
	if code != 130 {
		t.Fatalf("exit %d after SIGINT, want 130:\n%s", code, tail(out))
	}
	m := regexp.MustCompile(`rsprep: interrupted \(stopped by SIGINT\); rolled back the (\d+) change\(s\) this run made`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("the error does not say it was interrupted and rolled back:\n%s", tail(out))
	}
	added := strings.Count(out, `msg=changed mode=dr change="ip addr add 10.104.`)
	undone := strings.Count(out, `msg="rolled back" change="ip addr del 10.104.`)
	if added == 0 || added == 5000 || added != undone {
		t.Errorf("%d addresses logged as added, %d as rolled back: want the same, between 1 and 4,999", added, undone)
	}
	if n, _ := strconv.Atoi(m[1]); n < added {
		t.Errorf("rolled back %d change(s), fewer than the %d addresses logged", n, added)
	}
	if after := rs.Snapshot(t); after != pristine {
		t.Errorf("the namespace after the interrupted apply differs from before:\n%s", diffLines(pristine, after))
	}
	if r := mustRun(t, rs, 0, "status"); !strings.Contains(r.Stdout, "owns nothing") {
		t.Errorf("status after the rolled-back apply:\n%s", r.Stdout)
	}
	t.Logf("interrupted after %d of 5000 addresses, all logged and rolled back", added)
}

func tail(s string) string {
	if len(s) > 3000 {
		return "…" + s[len(s)-3000:]
	}
	return s
}

// The watch unit's stop during a fight (issue 28): something deletes the
// VIP every 50 ms, systemd's ExecStop sends SIGTERM and runs down at once
// (not waiting for the watcher to exit). Every round leaves nothing of
// rsprep's. RSPREP_STOP_ROUNDS sets the count (50 for the proof;
// a few in the regular suite).
func TestWatchStopDuringAFightLeavesNothing(t *testing.T) {
	rounds := 4
	if n, err := strconv.Atoi(os.Getenv("RSPREP_STOP_ROUNDS")); err == nil && n > 0 {
		rounds = n
	}
	rs, _ := realServer(t)
	pristine := rs.Snapshot(t)
	for i := 0; i < rounds; i++ {
		w := startWatch(t, rs, "dr", "--vip", vip, "--resync", "1s")
		fight := exec.Command("ip", "netns", "exec", rs.Name, "sh", "-c",
			"while :; do ip addr del "+vip+"/32 dev lo 2>/dev/null; sleep 0.05; done")
		fight.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := fight.Start(); err != nil {
			t.Fatal(err)
		}
		stopFight := func() { syscall.Kill(-fight.Process.Pid, syscall.SIGKILL); fight.Wait() }
		w.waitFor(t, "a repair in the fight", 30*time.Second, func() bool { return strings.Contains(w.log.String(), "repairing drift") })
		time.Sleep(time.Duration(i%5) * 37 * time.Millisecond) // a different point of the fight each round (not an assertion)
		w.cmd.Process.Signal(syscall.SIGTERM)
		r := rs.Rsprep(t, "down", "dr", "--vip", vip)
		code := w.waitExit(t, 30*time.Second)
		stopFight()
		if r.Code != 0 || code != 0 {
			t.Fatalf("round %d: down exit %d, watch exit %d\n%s\nwatch:\n%s", i, r.Code, code, r.Stderr, w.log)
		}
		if after := rs.Snapshot(t); after != pristine {
			t.Fatalf("round %d: rsprep left something after stop and down:\n%s\nwatch:\n%s", i, diffLines(pristine, after), w.log)
		}
	}
}
