package test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/rsprep/rsprep/test/nstest"
)

// manyVIPs returns n IPv4 VIPs in 172.16.0.0/12, as --vip flags of at most
// 1,000 VIPs each (one argument must stay under the kernel's 128 KiB).
func manyVIPs(n int) (flags []string) {
	var chunk []string
	flush := func() {
		flags = append(flags, "--vip", strings.Join(chunk, ","))
		chunk = chunk[:0]
	}
	for i := 1; i <= n; i++ {
		ip := fmt.Sprintf("172.%d.%d.%d", 16+i>>16, i>>8&0xff, i&0xff)
		chunk = append(chunk, ip)
		if len(chunk) == 1000 {
			flush()
		}
	}
	if len(chunk) > 0 {
		flush()
	}
	return flags
}

// rsprepVIPs counts the VIPs rsprep has bound on lo.
func rsprepVIPs(t *testing.T, ns *nstest.NS) int {
	t.Helper()
	return strings.Count(ns.Must(t, "ip", "-4", "-o", "addr", "show", "dev", "lo", "label", "lo:rsprep"), "\n")
}

// killMidway starts rsprep with args in ns and kills it with SIGKILL as
// soon as past(number of its VIPs on lo) holds. It returns false if rsprep
// finished before it could be killed.
func killMidway(t *testing.T, ns *nstest.NS, past func(n int) bool, args ...string) bool {
	t.Helper()
	cmd, stderr := startRsprep(t, ns, args...)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	for {
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("rsprep %s failed before it was killed: %v\n%s", args[0], err, stderr.String())
			}
			return false
		default:
		}
		if past(rsprepVIPs(t, ns)) {
			cmd.Process.Kill() // SIGKILL: no deferred cleanup runs
			err := <-done
			if ws, ok := cmd.ProcessState.Sys().(interface{ Signaled() bool }); ok && ws.Signaled() {
				return true
			}
			if err != nil {
				t.Fatalf("rsprep %s: %v\n%s", args[0], err, stderr.String())
			}
			return false // it finished between the count and the kill
		}
	}
}

// kill -9 in the middle of a 10,000-VIP apply (and then of a down) loses
// nothing: the record was written ahead, so the next apply converges and
// down returns the namespace to exactly its state before the first apply.
func TestKillMidApplyThenApplyAndDownRecover(t *testing.T) {
	const n = 10000
	rs, _ := realServer(t)
	flags := manyVIPs(n)
	pristine := rs.Snapshot(t)

	killed := 0
	for attempt := 0; attempt < 5 && killed == 0; attempt++ {
		if killMidway(t, rs, func(k int) bool { return k >= 500 }, append([]string{"dr"}, flags...)...) {
			killed = rsprepVIPs(t, rs)
			break
		}
		mustRun(t, rs, 0, append([]string{"down", "dr"}, flags...)...) // finished too soon: start over
	}
	if killed == 0 || killed >= n {
		t.Fatalf("could not kill rsprep part-way through binding %d VIPs (%d bound)", n, killed)
	}
	t.Logf("killed apply with %d of %d VIPs bound", killed, n)
	mustRun(t, rs, 1, append([]string{"verify", "dr"}, flags...)...)
	mustRun(t, rs, 0, append([]string{"dr"}, flags...)...)
	mustRun(t, rs, 0, append([]string{"verify", "dr"}, flags...)...)
	if got := rsprepVIPs(t, rs); got != n {
		t.Fatalf("%d VIPs bound after the second apply, want %d", got, n)
	}

	if killMidway(t, rs, func(k int) bool { return k <= n-500 }, append([]string{"down", "dr"}, flags...)...) {
		t.Logf("killed down with %d of %d VIPs left", rsprepVIPs(t, rs), n)
	}
	mustRun(t, rs, 0, append([]string{"down", "dr"}, flags...)...)
	if after := rs.Snapshot(t); after != pristine {
		t.Errorf("after a kill -9 and down the namespace is not as before:\n%s", diffLines(pristine, after))
	}
}
