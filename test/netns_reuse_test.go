package test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rsprep/rsprep/test/nstest"
)

// inode is the nsfs inode of a named namespace: the identity rsprep must
// not key its records by alone, since a freed namespace hands it on.
func inode(t *testing.T, ns *nstest.NS) uint64 {
	t.Helper()
	fi, err := os.Stat("/run/netns/" + ns.Name)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Sys().(*syscall.Stat_t).Ino
}

// drHost is a namespace with lo up and an ARP-capable uplink, using
// stateDir for rsprep's records (one /run shared by namespaces, as under
// ip netns exec).
func drHost(t *testing.T, role, stateDir string) *nstest.NS {
	ns := nstest.New(t, role)
	ns.StateDir = stateDir
	ns.Sh(t, "ip link set lo up; ip link add eth0 type veth peer name eth1; ip addr add 10.0.0.2/24 dev eth0; ip link set eth0 up; ip link set eth1 up")
	return ns
}

// Issue 12's scenario: a namespace with 50 VIPs dies without down (a
// container going away), the next namespace gets its inode, and there
// `rsprep dr --vip X; rsprep down dr --vip X` must leave conf/all, default
// and lo as they were. Keyed by the inode, down believed the dead
// namespace's 50 VIPs were still rsprep's and kept arp_ignore=1 /
// arp_announce=2. The test retries until the kernel hands the inode on
// (it gives out the lowest free one); with the cookie that must not
// matter, and the test says whether it happened.
func TestRecordOfFreedNamespaceNeverGovernsItsSuccessor(t *testing.T) {
	dir := t.TempDir()
	a := drHost(t, "gone", dir)
	var vips []string
	for i := 1; i <= 50; i++ {
		vips = append(vips, fmt.Sprintf("10.208.0.%d", i))
	}
	mustRun(t, a, 0, "dr", "--vip", strings.Join(vips, ","))
	gone := inode(t, a)
	if out, err := exec.Command("ip", "netns", "del", a.Name).CombinedOutput(); err != nil {
		t.Fatalf("ip netns del: %v: %s", err, out)
	}

	// The kernel frees the inode asynchronously and gives out the lowest
	// free one: namespaces that got another inode are kept (until the test
	// ends), filling the lower holes, so the next one reaches the dead one's.
	var b *nstest.NS
	reused := false
	for try := 0; try < 60 && !reused; try++ {
		b = nstest.New(t, fmt.Sprintf("next%d", try))
		if reused = inode(t, b) == gone; !reused {
			time.Sleep(50 * time.Millisecond)
		}
	}
	b.StateDir = dir
	b.Sh(t, "ip link set lo up; ip link add eth0 type veth peer name eth1; ip addr add 10.0.0.2/24 dev eth0; ip link set eth0 up; ip link set eth1 up")
	t.Logf("the next namespace reused the dead one's inode %d: %v", gone, reused)

	before := b.Snapshot(t)
	apply := mustRun(t, b, 0, "dr", "--vip", "10.208.1.1")
	if reused && !strings.Contains(apply.Stderr, "removed the record of a network namespace that no longer exists") {
		t.Errorf("the dead namespace's record was not removed, or not said:\n%s", apply.Stderr)
	}
	if files, _ := filepath.Glob(filepath.Join(dir, "*.json")); reused && len(files) != 1 {
		t.Errorf("records in the state directory: %v, want only the live namespace's", files)
	}
	if b.Snapshot(t) == before {
		t.Fatal("apply changed nothing: the test would prove nothing")
	}
	down := mustRun(t, b, 0, "down", "dr", "--vip", "10.208.1.1")
	if after := b.Snapshot(t); after != before {
		t.Errorf("down did not restore the namespace (reused inode: %v):\nbefore:\n%s\nafter:\n%s\nstderr:\n%s", reused, before, after, down.Stderr)
	}
}
