package test

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/rsprep/rsprep/realserver"
	"github.com/rsprep/rsprep/realserver/persist"
	"github.com/rsprep/rsprep/test/nstest"
)

// state is the namespace's record and lock, as rsprep keys them.
func state(t *testing.T, ns *nstest.NS) realserver.State {
	return realserver.State{Files: persist.Files{Dir: ns.StateDir, Netns: ns.Netns(t)}}
}

// oneLine checks that a run failed with want's exit code and one line on
// stderr containing each of the wanted strings.
func oneLine(t *testing.T, r nstest.Result, code int, wants ...string) {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(r.Stderr), "\n")
	if r.Code != code || len(lines) != 1 {
		t.Errorf("exit %d and %d stderr line(s), want exit %d and one line:\n%s", r.Code, len(lines), code, r.Stderr)
		return
	}
	for _, w := range wants {
		if !strings.Contains(r.Stderr, w) {
			t.Errorf("stderr lacks %q:\n%s", w, r.Stderr)
		}
	}
}

// startRsprep starts the rsprep binary in ns (as ns.Rsprep runs it) without
// waiting for it; its stderr collects in the returned buffer.
func startRsprep(t *testing.T, ns *nstest.NS, args ...string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(nstest.Rsprep(t), append(args, "--netns", ns.Name)...)
	cmd.Env = append(os.Environ(), "RSPREP_STATE_DIR="+ns.StateDir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, &stderr
}

// runCmd runs argv to completion with extra environment variables and
// returns its exit code and output.
func runCmd(t *testing.T, env []string, argv ...string) nstest.Result {
	t.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return nstest.Result{Code: code, Stdout: stdout.String(), Stderr: stderr.String()}
}

// diffLines shows the lines only one of two snapshots has.
func diffLines(before, after string) string {
	in := func(s string) map[string]bool {
		m := map[string]bool{}
		for _, l := range strings.Split(s, "\n") {
			m[l] = true
		}
		return m
	}
	b, a := in(before), in(after)
	var out []string
	for _, l := range strings.Split(before, "\n") {
		if !a[l] {
			out = append(out, "- "+l)
		}
	}
	for _, l := range strings.Split(after, "\n") {
		if !b[l] {
			out = append(out, "+ "+l)
		}
	}
	return strings.Join(out, "\n")
}
