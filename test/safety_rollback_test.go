package test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rsprep/rsprep/realserver"
	"github.com/rsprep/rsprep/realserver/persist"
)

// A real kernel refusal half-way through an apply rolls back what that
// apply had done. The refusal is an honest one: IPv6 is disabled on lo (a
// hardened host), so adding the IPv6 VIP fails with EACCES after the
// sysctls are written and the IPv4 VIPs are bound.
func TestRealKernelFailureRollsBack(t *testing.T) {
	rs, _ := realServer(t)
	rs.Must(t, "sysctl", "-qw", "net.ipv6.conf.lo.disable_ipv6=1")
	before := rs.Snapshot(t)
	r := rs.Rsprep(t, "dr", "--vip", vip+",192.168.79.181,2001:db8::80")
	errLine := r.Stderr[strings.LastIndex(strings.TrimSpace(r.Stderr), "\n")+1:]
	if r.Code != 3 || !strings.HasPrefix(errLine, "rsprep: ip addr add 2001:db8::80/128 dev lo ") ||
		!strings.Contains(errLine, "permission denied; rolled back the ") {
		t.Fatalf("exit %d, want 3 with an error naming the failed change and the rollback:\n%s", r.Code, r.Stderr)
	}
	for _, undone := range []string{"ip addr del " + vip + "/32 dev lo", "sysctl -w net.ipv4.conf.all.arp_ignore=0"} {
		if !strings.Contains(r.Stderr, `msg="rolled back" change="`+undone) {
			t.Errorf("the log does not show %q rolled back:\n%s", undone, r.Stderr)
		}
	}
	if after := rs.Snapshot(t); after != before {
		t.Errorf("the namespace is not as it was before the failed apply:\n%s", diffLines(before, after))
	}
	rec, err := state(t, rs).Load()
	if err != nil || len(rec.Changes) != 0 {
		t.Errorf("after the rollback the record owns %v (%v), want nothing", rec, err)
	}
	mustRun(t, rs, 1, "verify", "dr", "--vip", vip)
	// With IPv6 back, the same apply goes through.
	rs.Must(t, "sysctl", "-qw", "net.ipv6.conf.lo.disable_ipv6=0")
	mustRun(t, rs, 0, "dr", "--vip", vip+",192.168.79.181,2001:db8::80")
	mustRun(t, rs, 0, "verify", "dr", "--vip", vip+",192.168.79.181,2001:db8::80")
}

// A torn or garbage record is reported (exit 3, naming the file) and not
// trusted: apply, down and their dry runs change nothing and leave the
// file as it is for the operator to inspect. So does an apply with nothing
// to do, which never decodes the record's changes (they are only checked
// to be JSON).
func TestTornRecordIsReportedNotTrusted(t *testing.T) {
	rs, _ := realServer(t)
	mustRun(t, rs, 0, "dr", "--vip", vip)
	path := state(t, rs).RecordPath()
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string][]byte{
		"torn":    good[:len(good)/2],
		"empty":   {},
		"garbage": []byte("\x00\xffnot json\n"),
	} {
		t.Run(name, func(t *testing.T) {
			if err := os.WriteFile(path, content, 0o600); err != nil {
				t.Fatal(err)
			}
			before := rs.Snapshot(t)
			for _, args := range [][]string{
				{"dr", "--vip", vip}, // nothing to do
				{"dr", "--vip", vip + ",192.168.79.181"},
				{"dr", "--vip", vip + ",192.168.79.181", "--dry-run"},
				{"down", "dr", "--vip", vip},
				{"down", "dr", "--vip", vip, "--dry-run"},
			} {
				oneLine(t, rs.Rsprep(t, args...), 3, path, "not trusting it")
			}
			if after := rs.Snapshot(t); after != before {
				t.Errorf("a run with a %s record changed the namespace:\n%s", name, diffLines(before, after))
			}
			if got, err := os.ReadFile(path); err != nil || string(got) != string(content) {
				t.Errorf("the %s record was overwritten with %q (%v)", name, got, err)
			}
			mustRun(t, rs, 0, "verify", "dr", "--vip", vip) // verify needs no record
		})
	}
}

// Everything rsprep writes under its state directory has explicit, private
// permissions, and no temporary file is left beside the record.
func TestStateFilesArePrivate(t *testing.T) {
	rs, _ := realServer(t)
	dir := filepath.Join(rs.StateDir, "run", "rsprep") // not there yet: rsprep creates it
	env := []string{"RSPREP_STATE_DIR=" + dir}
	for _, args := range [][]string{{"dr", "--vip", vip}, {"dr", "--vip", vip + ",192.168.79.181"}, {"down", "dr", "--vip", vip}} {
		if r := rs.RsprepEnv(t, env, args...); r.Code != 0 {
			t.Fatalf("rsprep %v: exit %d\n%s", args, r.Code, r.Stderr)
		}
	}
	s := realserver.State{Files: persist.Files{Dir: dir, Netns: rs.Netns(t)}}
	base := strings.TrimSuffix(s.RecordPath(), ".json")
	// The down leaves its intent (.down) for a watch that may run: it
	// stays until an apply makes the VIP rsprep's to keep again.
	want := map[string]os.FileMode{dir: 0o700 | os.ModeDir, s.RecordPath(): 0o600, base + ".lock": 0o600, base + ".down": 0o600}
	for path, mode := range want {
		fi, err := os.Lstat(path)
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		if fi.Mode() != mode {
			t.Errorf("%s has mode %v, want %v", path, fi.Mode(), mode)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 3 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("the state directory holds %v, want only the record, the lock and the down's intent", names)
	}
}
