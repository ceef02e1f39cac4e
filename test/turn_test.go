package test

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/rsprep/rsprep/test/nstest"
)

// A large apply or down changes the address table at kernel speed for
// seconds, so no dump of it finishes uninterrupted meanwhile. A second
// rsprep must then wait its turn on the namespace's lock (issue 17), not
// exit 3 "cannot observe".

// bigRun starts `rsprep args…` with 10,000 VIPs in ns and returns once it
// is changing the address table (past(number of rsprep's VIPs on lo)
// holds), with a wait for its end. A dump is interrupted only when it
// takes several parts (about 300 addresses each), so past should ask for
// thousands of addresses on lo.
func bigRun(t *testing.T, ns *nstest.NS, past func(n int) bool, args ...string) (pid int, wait func() error) {
	t.Helper()
	cmd, stderr := startRsprep(t, ns, append(args, manyVIPs(10000)...)...)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	deadline := time.Now().Add(2 * time.Minute)
	for !past(rsprepVIPs(t, ns)) {
		select {
		case err := <-done:
			t.Fatalf("rsprep %s ended (%v) before it was seen changing the table\n%s", args[0], err, stderr)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("rsprep %s did not start changing the table within 2 minutes", args[0])
		}
	}
	return cmd.Process.Pid, func() error {
		if err := <-done; err != nil {
			return fmt.Errorf("%v\n%s", err, stderr)
		}
		return nil
	}
}

func TestSmallApplyDuringLargeApplyWaitsItsTurn(t *testing.T) {
	rs, _ := realServer(t)
	_, wait := bigRun(t, rs, func(n int) bool { return n > 2000 }, "dr", "--lock-wait", "2m")
	r := rs.Rsprep(t, "dr", "--vip", "10.99.0.1", "--lock-wait", "2m")
	if err := wait(); err != nil {
		t.Fatalf("the large apply: %v", err)
	}
	if r.Code != 0 {
		t.Fatalf("a small apply during a large one: exit %d, want 0 (wait for the lock)\n%s", r.Code, r.Stderr)
	}
	mustRun(t, rs, 0, append([]string{"verify", "dr", "--vip", "10.99.0.1"}, manyVIPs(10000)...)...)
}

func TestVerifyDuringLargeDownSeesTheTrueState(t *testing.T) {
	rs, _ := realServer(t)
	mustRun(t, rs, 0, append([]string{"dr"}, manyVIPs(10000)...)...)
	_, wait := bigRun(t, rs, func(n int) bool { return n < 9900 }, "down", "dr", "--lock-wait", "2m")
	r := rs.Rsprep(t, append([]string{"verify", "dr", "--lock-wait", "2m"}, manyVIPs(10000)...)...)
	if err := wait(); err != nil {
		t.Fatalf("the large down: %v", err)
	}
	// It waited for down to finish, so every VIP is gone: drift, not
	// "cannot observe".
	if r.Code != 1 || strings.Contains(r.Stderr, "cannot observe") {
		t.Fatalf("verify during a large down: exit %d, want 1 (the true state)\n%s", r.Code, r.Stderr)
	}
	if !strings.Contains(r.Stdout, "FAIL vip.bound 172.16.0.1 ") {
		t.Errorf("verify does not report the removed VIPs:\n%.600s", r.Stdout)
	}
}

func TestVerifyDuringLargeApplyWaitsForIt(t *testing.T) {
	rs, _ := realServer(t)
	_, wait := bigRun(t, rs, func(n int) bool { return n > 2000 }, "dr")
	r := rs.Rsprep(t, append([]string{"verify", "dr", "--lock-wait", "2m"}, manyVIPs(10000)...)...)
	if err := wait(); err != nil {
		t.Fatalf("the large apply: %v", err)
	}
	if r.Code != 0 {
		t.Fatalf("verify during a large apply: exit %d, want 0 (wait for it, then every VIP is there)\n%s", r.Code, r.Stderr)
	}
}

func TestTwoLargeAppliesOfDisjointSetsBothSucceed(t *testing.T) {
	rs, _ := realServer(t)
	nstest.Rsprep(t) // build it first, so that both start together
	// 10,000 VIPs in 172.16.0.0/12, and 10,000 in 10.103-112.0.0/16.
	sets := [][]string{manyVIPs(10000), nil}
	for a := 103; a < 113; a++ {
		sets[1] = append(sets[1], "--vip", vipRange(a, 1000))
	}
	cmds := make([]*exec.Cmd, len(sets))
	waits := make([]func() string, len(sets))
	for i, set := range sets {
		cmd, stderr := startRsprep(t, rs, append([]string{"dr", "--lock-wait", "2m"}, set...)...)
		cmds[i], waits[i] = cmd, stderr.String
	}
	for i, c := range cmds {
		if err := c.Wait(); err != nil {
			t.Fatalf("apply %d: %v\n%s", i, err, waits[i]())
		}
	}
	mustRun(t, rs, 0, append(append([]string{"verify", "dr"}, sets[0]...), sets[1]...)...)
	if got := rsprepVIPs(t, rs); got != 20000 {
		t.Errorf("%d VIPs on lo, want the 20,000 of both sets", got)
	}
}

// A writer that keeps the lock past --lock-wait: exit 3 naming its pid,
// also when the tables keep changing meanwhile.
func TestLockHeldPastLockWaitNamesTheWriter(t *testing.T) {
	rs, _ := realServer(t)
	pid, wait := bigRun(t, rs, func(n int) bool { return n > 2000 }, "dr", "--lock-wait", "0")
	r := rs.Rsprep(t, "dr", "--vip", "10.99.0.1", "--lock-wait", "0")
	if err := wait(); err != nil {
		t.Fatalf("the large apply: %v", err)
	}
	oneLine(t, r, 3, fmt.Sprintf("another rsprep (pid %d) holds ", pid))
	if strings.Contains(rs.Must(t, "ip", "-o", "addr", "show", "dev", "lo"), "10.99.0.1/") {
		t.Error("the run that did not get the lock bound its VIP")
	}
}

// verify without root may not open the lock (the state directory is
// root's): it retries its observation until --lock-wait instead, and
// reports what it sees, which may be the apply half-way: drift, truly,
// but never "cannot observe".
func TestUnprivilegedVerifyDuringLargeApplyRetries(t *testing.T) {
	rs, _ := realServer(t)
	bin := unprivilegedBinary(t)
	_, wait := bigRun(t, rs, func(n int) bool { return n > 2000 }, "dr")
	argv := []string{"ip", "netns", "exec", rs.Name, "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all",
		bin, "verify", "dr", "--lock-wait", "2m"}
	r := runAs(t, rs, append(argv, manyVIPs(10000)...)...)
	if err := wait(); err != nil {
		t.Fatalf("the large apply: %v", err)
	}
	if r.Code != 0 && r.Code != 1 {
		t.Fatalf("unprivileged verify during a large apply: exit %d, want 0 or 1\n%s", r.Code, r.Stderr)
	}
}
