package test

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rsprep/rsprep/test/nstest"
)

// The demo (test/demo/run) works, and writes its bold headings only to a
// terminal: into a pipe (a log, a CI job) it is plain text.
func TestDemoPlainWhenPiped(t *testing.T) {
	nstest.NeedRoot(t)
	demo := filepath.Join(nstest.RepoRoot(), "test", "demo", "run")
	out, err := exec.Command(demo).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", demo, err, out)
	}
	if !strings.Contains(string(out), "## done") {
		t.Fatalf("the demo did not finish:\n%s", out)
	}
	if strings.Contains(string(out), "\033[") {
		t.Errorf("the demo wrote ANSI escapes into a pipe:\n%q", out)
	}
	// script(1) gives it a terminal: the headings are bold there.
	if _, err := exec.LookPath("script"); err != nil {
		t.Fatalf("script (util-linux) is needed to give the demo a terminal: %v", err)
	}
	tty, err := exec.Command("script", "-qec", demo, "/dev/null").CombinedOutput()
	if err != nil {
		t.Fatalf("script -qec %s: %v\n%s", demo, err, tty)
	}
	if !strings.Contains(string(tty), "\033[1m## done") {
		t.Errorf("on a terminal the demo's headings are not bold:\n%q", tty)
	}
}
