package test

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

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

	killBlockedDown(t, rs, append([]string{"down", "dr"}, flags...)...)
	mustRun(t, rs, 0, append([]string{"down", "dr"}, flags...)...)
	if after := rs.Snapshot(t); after != pristine {
		t.Errorf("after a kill -9 and down the namespace is not as before:\n%s", diffLines(pristine, after))
	}
}

// killBlockedDown runs down with its stderr on a pipe nobody reads, and
// kills it with SIGKILL once it is stuck there. Down logs one line per VIP
// it removed (10,000 lines, far more than a pipe holds), each chunk of 256
// as it is removed and before it restores any sysctl or saves the record,
// so the kill lands mid-down every time, part of the VIPs removed: the
// count of VIPs left stops moving. It checks that it did: conf/all still
// as rsprep set it.
func killBlockedDown(t *testing.T, ns *nstest.NS, args ...string) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	cmd := exec.Command(nstest.Rsprep(t), append(args, "--netns", ns.Name)...)
	cmd.Env = append(os.Environ(), "RSPREP_STATE_DIR="+ns.StateDir)
	cmd.Stderr = w
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close() // the child holds the only write end
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	waited := false
	defer func() {
		if !waited {
			cmd.Process.Kill()
			<-done
		}
	}()
	last, still := -1, 0
	for deadline := time.Now().Add(5 * time.Minute); still < 20; time.Sleep(100 * time.Millisecond) {
		select {
		case err := <-done:
			t.Fatalf("down exited (%v) although its log was never read", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("down never blocked on its log in 5 minutes (%d VIPs left)", rsprepVIPs(t, ns))
		}
		if n := rsprepVIPs(t, ns); n == last {
			still++
		} else {
			last, still = n, 0
		}
	}
	cmd.Process.Kill() // SIGKILL: no deferred cleanup runs
	err = <-done
	waited = true
	if err == nil || !strings.Contains(err.Error(), "killed") {
		t.Fatalf("down was not killed mid-way: %v", err)
	}
	if got := strings.TrimSpace(ns.Must(t, "cat", "/proc/sys/net/ipv4/conf/all/arp_ignore")); got != "1" {
		t.Fatalf("killed down had already restored conf/all/arp_ignore (%s): the kill was not mid-down", got)
	}
	t.Logf("killed down with %d VIPs left, before it restored the sysctls or saved the record", last)
}
