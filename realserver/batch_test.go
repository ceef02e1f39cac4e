package realserver_test

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/rsprep/rsprep/realserver"
	"github.com/rsprep/rsprep/realserver/fake"
)

// pipelined is the fake behind an AddrBatcher that works as the kernel
// host does: a window of requests in flight, so requests after a failing
// one in its window still happen; nothing is sent after that window.
type pipelined struct {
	*fake.Host
	window int
}

// The batch tests mean something only while pipelined is an AddrBatcher:
// the engine type-asserts it, and without it would quietly go one by one.
var _ realserver.AddrBatcher = pipelined{}

var errNotSent = errors.New("not attempted")

func (h pipelined) batch(as []realserver.Addr, one func(realserver.Addr) error) []error {
	errs := make([]error, len(as))
	for start := 0; start < len(as); start += h.window {
		end := min(start+h.window, len(as))
		failed := false
		for i := start; i < end; i++ {
			errs[i] = one(as[i])
			failed = failed || errs[i] != nil
		}
		if failed {
			for i := end; i < len(as); i++ {
				errs[i] = errNotSent
			}
			break
		}
	}
	return errs
}

func (h pipelined) AddAddrs(as []realserver.Addr) []error { return h.batch(as, h.AddAddr) }
func (h pipelined) DelAddrs(as []realserver.Addr) []error { return h.batch(as, h.DelAddr) }

// With a pipelining host, a write failing anywhere in apply or down still
// leaves host and record as they were: what the batch did after the failed
// request is rolled back too.
func TestBatchedFaultAtEveryWriteRollsBack(t *testing.T) {
	c := drCase()
	for _, r := range []struct {
		name string
		seed func(*testing.T, string) *fake.Host
		run  runFunc
	}{
		{"apply", c.seed, applyRun(c)},
		{"down", applied(c), downRun(c)},
	} {
		t.Run(r.name, func(t *testing.T) {
			n := len(cleanRun(t, c, r.seed, r.run))
			for k := 1; k <= n; k++ {
				path := filepath.Join(t.TempDir(), "record.json")
				h := r.seed(t, path)
				before, recBefore := h.Render(), readFile(t, path)
				h.FailWrite(k)
				_, err := r.run(quietEngine(pipelined{h, 2}, loadRecord(t, path), c.mode))
				var ce *realserver.ChangeError
				if !errors.As(err, &ce) || !errors.Is(err, fake.ErrInjected) || ce.RollbackErr != nil {
					t.Fatalf("write %d of %d failed: the run returned %v, want a ChangeError for the injected fault, rolled back", k, n, err)
				}
				if after := h.Render(); after != before {
					t.Errorf("write %d of %d (%s) failed: host not restored:\n%s", k, n, ce.Change, diff(before, after))
				}
				if got := readFile(t, path); got != recBefore {
					t.Errorf("write %d of %d failed: record not restored:\nbefore:\n%s\nafter:\n%s", k, n, recBefore, got)
				}
			}
		})
	}
}

// Batching changes how changes reach the host, not what they do.
func TestBatchedApplyAndDownMatchOneByOne(t *testing.T) {
	c := drCase()
	renders := map[bool][2]string{}
	for _, batched := range []bool{false, true} {
		path := filepath.Join(t.TempDir(), "record.json")
		h := c.seed(t, path)
		var host realserver.Host = h
		if batched {
			host = pipelined{h, 2}
		}
		if _, err := applyRun(c)(quietEngine(host, loadRecord(t, path), c.mode)); err != nil {
			t.Fatal(err)
		}
		applied := h.Render() + readFile(t, path)
		if _, err := downRun(c)(quietEngine(host, loadRecord(t, path), c.mode)); err != nil {
			t.Fatal(err)
		}
		renders[batched] = [2]string{applied, h.Render() + readFile(t, path)}
	}
	for i, step := range []string{"apply", "down"} {
		if a, b := renders[false][i], renders[true][i]; a != b {
			t.Errorf("after %s, batched differs from one by one:\n%s", step, diff(a, b))
		}
	}
}
