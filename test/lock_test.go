package test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/rsprep/rsprep/realserver"
	"github.com/rsprep/rsprep/test/nstest"
)

// vipRange returns n VIPs 10.<a>.x.y as one comma-separated list.
func vipRange(a, n int) string {
	ips := make([]string, n)
	for i := range ips {
		ips[i] = fmt.Sprintf("10.%d.%d.%d", a, (i+1)>>8, (i+1)&0xff)
	}
	return strings.Join(ips, ",")
}

// Two applies of different VIP sets started together in one namespace do
// not interleave: both succeed, the result is exactly their union, and the
// record owns every VIP of both (without the lock, the later save would
// drop the other run's VIPs from it).
func TestConcurrentAppliesGiveTheUnion(t *testing.T) {
	rs, _ := realServer(t)
	pristine := rs.Snapshot(t)
	sets := []string{vipRange(101, 2000), vipRange(102, 2000)}
	nstest.Rsprep(t) // build it first, so that both start together
	cmds := make([]*exec.Cmd, len(sets))
	outs := make([]*bytes.Buffer, len(sets))
	for i, set := range sets {
		cmds[i], outs[i] = startRsprep(t, rs, "dr", "--vip", set, "--lock-wait", "2m")
	}
	for i, c := range cmds {
		if err := c.Wait(); err != nil {
			t.Fatalf("apply %d: %v\n%s", i, err, outs[i])
		}
	}
	union := sets[0] + "," + sets[1]
	mustRun(t, rs, 0, "verify", "dr", "--vip", union)
	if got := rsprepVIPs(t, rs); got != 4000 {
		t.Errorf("%d VIPs on lo, want exactly the 4000 of both sets", got)
	}
	rec, err := state(t, rs).Load()
	if err != nil {
		t.Fatal(err)
	}
	owned := map[string]bool{}
	for _, c := range rec.Changes {
		if c.Kind == realserver.KindAddrAdd {
			owned[c.Addr.Prefix.Addr().String()] = true
		}
	}
	for _, ip := range strings.Split(union, ",") {
		if !owned[ip] {
			t.Fatalf("the record does not own %s (it owns %d VIPs): a run's save lost the other's", ip, len(owned))
		}
	}
	mustRun(t, rs, 0, "down", "dr", "--vip", union)
	if after := rs.Snapshot(t); after != pristine {
		t.Errorf("down after the concurrent applies did not restore the namespace:\n%s", diffLines(pristine, after))
	}
}

// While another rsprep holds the namespace, apply, down, verify and dry
// runs wait a bounded time, then exit 3 naming the holder's pid, having
// changed nothing.
func TestHeldLockExits3NamingTheHolder(t *testing.T) {
	rs, _ := realServer(t)
	before := rs.Snapshot(t)
	unlock, err := state(t, rs).Lock(0)
	if err != nil {
		t.Fatal(err)
	}
	holder := fmt.Sprintf("another rsprep (pid %d) holds ", os.Getpid())
	// Readers (verify, a dry run) wait for a writer too: they must not
	// see its run half-way.
	for _, args := range [][]string{
		{"dr", "--vip", vip, "--lock-wait", "100ms"},
		{"down", "dr", "--vip", vip, "--lock-wait", "0"},
		{"verify", "dr", "--vip", vip, "--lock-wait", "100ms"},
		{"dr", "--vip", vip, "--dry-run", "--lock-wait", "0"},
	} {
		oneLine(t, rs.Rsprep(t, args...), 3, holder)
	}
	if after := rs.Snapshot(t); after != before {
		t.Errorf("a run that did not get the lock changed the namespace:\n%s", diffLines(before, after))
	}
	unlock()
	mustRun(t, rs, 1, "verify", "dr", "--vip", vip, "--lock-wait", "0")
	mustRun(t, rs, 0, "dr", "--vip", vip, "--dry-run", "--lock-wait", "0")
	mustRun(t, rs, 0, "dr", "--vip", vip, "--lock-wait", "0")
}
