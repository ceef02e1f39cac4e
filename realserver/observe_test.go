package realserver_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rsprep/rsprep/realserver"
	"github.com/rsprep/rsprep/realserver/fake"
)

// errDumpInterrupted stands for what the kernel host returns once an
// interrupted netlink dump has been retried too often.
var errDumpInterrupted = errors.New("the dump was interrupted 6 times in a row (the table keeps changing)")

// failingReads is a host whose reads fail from the k-th on, as when a
// table keeps changing under every dump.
type failingReads struct {
	*fake.Host
	reads, failFrom int
}

func (h *failingReads) read() error {
	h.reads++
	if h.failFrom > 0 && h.reads >= h.failFrom {
		return errDumpInterrupted
	}
	return nil
}

func (h *failingReads) Links() ([]realserver.Link, error) {
	if err := h.read(); err != nil {
		return nil, err
	}
	return h.Host.Links()
}

func (h *failingReads) Addrs() ([]realserver.Addr, error) {
	if err := h.read(); err != nil {
		return nil, err
	}
	return h.Host.Addrs()
}

func (h *failingReads) Sysctl(k realserver.SysctlKey) (int, error) {
	if err := h.read(); err != nil {
		return 0, err
	}
	return h.Host.Sysctl(k)
}

func (h *failingReads) Routes() ([]realserver.Route, error) {
	if err := h.read(); err != nil {
		return nil, err
	}
	return h.Host.Routes()
}

func (h *failingReads) Neighbors() ([]realserver.Neighbor, error) {
	if err := h.read(); err != nil {
		return nil, err
	}
	return h.Host.Neighbors()
}

// When the host cannot be read, verify says "cannot observe" (exit 3),
// never drift and never success, and reports no findings as if they held.
func TestVerifyCannotObserve(t *testing.T) {
	c := drCase()
	h := c.seed(t, filepath.Join(t.TempDir(), "record.json"))
	h.FailReads(errDumpInterrupted)
	fs, err := realserver.Verify(h, c.invs)
	var oe *realserver.ObserveError
	if !errors.As(err, &oe) || !errors.Is(err, errDumpInterrupted) || !strings.HasPrefix(err.Error(), "cannot observe the host: ") {
		t.Fatalf("verify with failing reads: %v, want an ObserveError", err)
	}
	if realserver.AllOK(fs) && len(fs) > 0 {
		t.Errorf("verify that could not observe returned passing findings: %+v", fs)
	}
}

// Reads that start failing at any point of an apply or a down (for every
// k: from the k-th read on) end in "cannot observe", with the host and the
// record as they were before the run.
func TestReadFaultAtEveryPointChangesNothing(t *testing.T) {
	for _, c := range faultCases() {
		runs := []struct {
			name string
			seed func(*testing.T, string) *fake.Host
			run  runFunc
			kept func(*testing.T, string, *fake.Host) (string, string)
		}{{"apply", c.seed, applyRun(c), c.kept}, {"down", applied(c), downRun(c), nil}}
		for _, r := range runs {
			t.Run(c.name+" "+r.name, func(t *testing.T) { readFaultAtEveryPoint(t, c, r.seed, r.run, r.kept) })
		}
	}
}

func readFaultAtEveryPoint(t *testing.T, c faultCase, seed func(*testing.T, string) *fake.Host, run runFunc, kept func(*testing.T, string, *fake.Host) (string, string)) {
	path := filepath.Join(t.TempDir(), "record.json")
	h := &failingReads{Host: seed(t, path)}
	if _, err := run(quietEngine(h, loadRecord(t, path), c.mode)); err != nil {
		t.Fatal(err)
	}
	n := h.reads
	t.Logf("a clean run makes %d reads", n)
	for k := 1; k <= n; k++ {
		path := filepath.Join(t.TempDir(), "record.json")
		h := &failingReads{Host: seed(t, path), failFrom: k}
		before, recBefore := h.Render(), readFile(t, path)
		_, err := run(quietEngine(h, loadRecord(t, path), c.mode))
		var oe *realserver.ObserveError
		if !errors.As(err, &oe) || !strings.Contains(err.Error(), "cannot observe") {
			t.Fatalf("read %d of %d failed: %v, want cannot observe", k, n, err)
		}
		after := h.Render()
		if kept != nil {
			before, after = kept(t, filepath.Join(t.TempDir(), "record.json"), h.Host)
		}
		if after != before {
			t.Errorf("read %d of %d failed (%v): host changed:\n%s", k, n, err, diff(before, after))
		}
		if got := readFile(t, path); got != recBefore {
			t.Errorf("read %d of %d failed: record changed:\nbefore:\n%s\nafter:\n%s", k, n, recBefore, got)
		}
	}
}
