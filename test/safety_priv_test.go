package test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rsprep/rsprep/test/nstest"
)

// unprivileged copies the rsprep binary where any user can run it.
func unprivilegedBinary(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(nstest.Rsprep(t))
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "rsprep")
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	return bin
}

// runAs runs argv (setpriv … rsprep …) with the namespace's state
// directory.
func runAs(t *testing.T, ns *nstest.NS, argv ...string) nstest.Result {
	t.Helper()
	return runCmd(t, []string{"RSPREP_STATE_DIR=" + ns.StateDir}, argv...)
}

// Without CAP_NET_ADMIN (as nobody, or as root with the capability
// dropped), apply and down exit 3 saying they need root, before touching
// anything, not even the state directory; verify still works, since the
// kernel lets anyone read addresses and /proc/sys.
func TestWithoutNetAdmin(t *testing.T) {
	rs, _ := realServer(t)
	bin := unprivilegedBinary(t)
	nobody := []string{"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all"}
	noCap := []string{"setpriv", "--inh-caps=-net_admin", "--bounding-set=-net_admin"}
	before := rs.Snapshot(t)
	for who, prefix := range map[string][]string{"nobody": nobody, "root without CAP_NET_ADMIN": noCap} {
		for _, args := range [][]string{
			{"dr", "--vip", vip},
			{"down", "dr", "--vip", vip},
			{"tun", "--vip", vip},
			{"nat", "--dip", "10.0.0.1"},
			{"down", "nat", "--dip", "10.0.0.1"},
		} {
			t.Run(who+" "+strings.Join(args[:2], " "), func(t *testing.T) {
				argv := append(append(append([]string{}, prefix...), bin), args...)
				oneLine(t, runAs(t, rs, append(argv, "--netns", rs.Name)...), 3, "needs root (CAP_NET_ADMIN)")
			})
		}
	}
	if after := rs.Snapshot(t); after != before {
		t.Errorf("an unprivileged run changed the namespace:\n%s", diffLines(before, after))
	}
	if entries, _ := os.ReadDir(rs.StateDir); len(entries) != 0 {
		t.Errorf("an unprivileged run wrote into the state directory: %v", entries)
	}

	// verify as nobody inside the namespace (entering it needs
	// CAP_SYS_ADMIN, so ip netns exec does that as root first).
	verify := func() nstest.Result {
		return runAs(t, rs, append(append([]string{"ip", "netns", "exec", rs.Name}, nobody...), bin, "verify", "dr", "--vip", vip)...)
	}
	if r := verify(); r.Code != 1 || !strings.Contains(r.Stdout, "FAIL vip.bound "+vip) {
		t.Errorf("unprivileged verify before apply: exit %d, want 1 with vip.bound failing:\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	mustRun(t, rs, 0, "dr", "--vip", vip)
	if r := verify(); r.Code != 0 || !strings.Contains(r.Stdout, "ok   arp.ignore eth0.100 want 1 got 1") {
		t.Errorf("unprivileged verify after apply: exit %d, want 0:\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
}
