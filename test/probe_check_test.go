package test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/rsprep/rsprep/test/nstest"
)

// As keepalived's check (--error-exit N): a probe that cannot run exits
// N, whatever kept it from running (bad input, a flag it does not know,
// no CAP_NET_RAW), and still says why on stderr; verdicts keep 0 and 1;
// an --error-exit of 0, 1 or more than 255 is bad input (exit 2).
func TestProbeErrorExit(t *testing.T) {
	nstest.NeedRoot(t)
	bin := nstest.Rsprep(t)
	run := func(setpriv bool, args ...string) (int, string) {
		t.Helper()
		cmd := exec.Command(bin, append([]string{"probe"}, args...)...)
		if setpriv {
			cmd = exec.Command("setpriv", append([]string{"--bounding-set=-net_raw", "--inh-caps=-net_raw", "--", bin, "probe"}, args...)...)
		}
		out, err := cmd.CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return code, string(out)
	}
	for _, c := range []struct {
		setpriv bool
		args    []string
		code    int
		want    string
	}{
		{false, []string{"--rip", "10.0.0.11", "--vip", vip, "--error-exit", "3"}, 3, "has no port"},
		{false, []string{"--error-exit=7", "--rip", "10.0.0.11", "--vip", vip + ":80", "--bogus"}, 7, "unknown flag: --bogus"},
		{true, []string{"--rip", "10.0.0.11", "--vip", vip + ":80", "--error-exit", "3"}, 3, "CAP_NET_RAW"},
		{false, []string{"--rip", "10.0.0.11", "--vip", vip + ":80", "--error-exit", "1"}, 2, `--error-exit "1": want an exit code from 2 to 255`},
		{false, []string{"--rip", "10.0.0.11", "--vip", vip + ":80", "--error-exit", "256"}, 2, "want an exit code from 2 to 255"},
	} {
		code, out := run(c.setpriv, c.args...)
		if code != c.code || !strings.Contains(out, c.want) || strings.Count(out, "\n") != 1 {
			t.Errorf("rsprep probe %s: exit %d, want %d and one line with %q:\n%s", strings.Join(c.args, " "), code, c.code, c.want, out)
		}
	}
	// A verdict is not an error: a lost real server exits 1 with --error-exit too.
	l := newDrainLAN(t)
	if r := l.director.Rsprep(t, "probe", "--rip", "10.0.0.11", "--vip", vip+":80", "--timeout", "1s", "--error-exit", "3"); r.Code != 1 {
		t.Fatalf("a lost real server with --error-exit 3: exit %d, want 1\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	mustRun(t, l.rs1, 0, "dr", "--vip", vip)
	if r := l.director.Rsprep(t, "probe", "--rip", "10.0.0.11", "--vip", vip+":80", "--timeout", "5s", "--error-exit", "3"); r.Code != 0 {
		t.Fatalf("an open real server with --error-exit 3: exit %d, want 0\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
}
