package test

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rsprep/rsprep/test/nstest"
)

// watchProc is an rsprep watch running in the background of one test: its
// log, its sd_notify messages (through a NOTIFY_SOCKET the test owns) and
// its textfile. The test's cleanup kills it.
type watchProc struct {
	cmd      *exec.Cmd
	log      *lockedBuffer
	notes    *lockedBuffer // sd_notify datagrams, one per line
	Textfile string
	exited   chan struct{}
	err      error
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startWatch runs `rsprep watch ARGS --textfile … --netns NS` with a
// notify socket and waits for READY=1 (the first apply converged).
func startWatch(t *testing.T, ns *nstest.NS, args ...string) *watchProc {
	t.Helper()
	dir := t.TempDir()
	w := &watchProc{log: &lockedBuffer{}, notes: &lockedBuffer{}, Textfile: filepath.Join(dir, "rsprep.prom"), exited: make(chan struct{})}
	sock := filepath.Join(dir, "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				return
			}
			w.notes.Write(append(bytes.ReplaceAll(buf[:n], []byte("\n"), []byte("|")), '\n'))
		}
	}()
	argv := append([]string{"watch"}, args...)
	argv = append(argv, "--textfile", w.Textfile, "--netns", ns.Name)
	w.cmd = exec.Command(nstest.Rsprep(t), argv...)
	w.cmd.Env = append(os.Environ(), "RSPREP_STATE_DIR="+ns.StateDir, "NOTIFY_SOCKET="+sock, "WATCHDOG_USEC=2000000")
	w.cmd.Stderr = w.log
	if err := w.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { w.err = w.cmd.Wait(); close(w.exited) }()
	t.Cleanup(func() {
		w.cmd.Process.Kill()
		<-w.exited
		if t.Failed() {
			t.Logf("rsprep watch log:\n%s\nsd_notify:\n%s", w.log, w.notes)
		}
	})
	w.waitFor(t, "READY=1", 60*time.Second, func() bool { return strings.Contains(w.notes.String(), "READY=1") })
	return w
}

// waitFor polls cond every 50 ms, failing the test after bound: the
// kernel and a loaded CI machine may be slow; a bound is never a timing
// assertion, only a way not to hang.
func (w *watchProc) waitFor(t *testing.T, what string, bound time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(bound)
	for !cond() {
		select {
		case <-w.exited:
			t.Fatalf("rsprep watch exited (%v) while waiting for %s", w.err, what)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s within %v", what, bound)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop sends sig and returns the exit code.
func (w *watchProc) stop(t *testing.T, sig syscall.Signal) int {
	t.Helper()
	w.cmd.Process.Signal(sig)
	select {
	case <-w.exited:
	case <-time.After(30 * time.Second):
		t.Fatalf("rsprep watch did not exit within 30s of %v", sig)
	}
	if ee, ok := w.err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	if w.err != nil {
		t.Fatal(w.err)
	}
	return 0
}

// stopClean fails the test if the log holds any of bad, then stops the
// watcher with SIGTERM and wants exit 0.
func (w *watchProc) stopClean(t *testing.T, bad ...string) {
	t.Helper()
	for _, b := range bad {
		if strings.Contains(w.log.String(), b) {
			t.Errorf("watch logged %q:\n%s", b, w.log)
		}
	}
	if code := w.stop(t, syscall.SIGTERM); code != 0 {
		t.Errorf("SIGTERM: exit %d", code)
	}
}

// metric reads one sample of the textfile (-1 when absent).
func (w *watchProc) metric(t *testing.T, series string) float64 {
	t.Helper()
	data, err := os.ReadFile(w.Textfile)
	if err != nil {
		return -1
	}
	m := regexp.MustCompile("(?m)^" + regexp.QuoteMeta(series) + " (\\S+)$").FindSubmatch(data)
	if m == nil {
		return -1
	}
	v, err := strconv.ParseFloat(string(m[1]), 64)
	if err != nil {
		t.Fatalf("%s: %v", series, err)
	}
	return v
}

// hasVIP reports whether ip/32 is on lo in ns.
func hasVIP(t *testing.T, ns *nstest.NS, ip string) bool {
	return strings.Contains(ns.Must(t, "ip", "-o", "addr", "show", "dev", "lo"), " "+ip+"/32 ")
}
