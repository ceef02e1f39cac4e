package realserver_test

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rsprep/rsprep/arp"
	"github.com/rsprep/rsprep/realserver"
	"github.com/rsprep/rsprep/realserver/fake"
)

// faultCase is one mode's apply, from a seeded host and a record that an
// earlier run left: everything a fault test needs to start afresh for each
// k.
type faultCase struct {
	name string
	// seed builds the host and saves the prior record at path.
	seed func(t *testing.T, path string) *fake.Host
	invs []realserver.Invariant
	vips []netip.Addr // what down removes: everything rsprep owns
	mode string
	// kept, if set, renders the state a failed apply must leave (the seed
	// plus what rollback deliberately keeps: a loaded module) and the
	// failed host's state, for comparison. Unset: the seed exactly.
	kept func(t *testing.T, path string, failed *fake.Host) (want, got string)
}

const testNetns = "net:[4026531840]"

func quietEngine(h realserver.Host, rec *realserver.Record, mode string) *realserver.Engine {
	return &realserver.Engine{Host: h, Record: rec, Mode: mode, Log: slog.New(slog.DiscardHandler)}
}

func loadRecord(t *testing.T, path string) *realserver.Record {
	t.Helper()
	rec, err := realserver.LoadRecord(path, testNetns)
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func vips(s ...string) []netip.Addr {
	out := make([]netip.Addr, len(s))
	for i, x := range s {
		out[i] = netip.MustParseAddr(x)
	}
	return out
}

var drVIPs = vips("192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4", "2001:db8::1")

// drHost is a host an earlier rsprep run prepared for 198.51.100.1 and that
// drifted since, so that the run under test must write every kind of DR
// change: sysctls it already owns and new ones, lo up, a VIP moved off the
// uplink (TakeHeldVIPs), a /24 on lo replaced by the /32, new VIPs of
// both families.
func drHost(t *testing.T, path string) *fake.Host {
	h := fake.New()
	h.AddLink(realserver.Link{Name: "eth0.100", Type: "vlan", Up: true})
	h.AddAddrRaw(realserver.Addr{Link: "eth0.100", Prefix: netip.MustParsePrefix("10.0.0.2/24")})
	h.AddLink(realserver.Link{Name: "eth1", Type: "veth", Up: true})
	h.AddAddrRaw(realserver.Addr{Link: "eth1", Prefix: netip.MustParsePrefix("10.1.0.2/24")})
	rec := loadRecord(t, path)
	if _, err := quietEngine(h, rec, "dr").Apply(arp.DR{VIPs: vips("198.51.100.1")}.Invariants(), false); err != nil {
		t.Fatal(err)
	}
	// Drift since that run.
	h.SetSysctlRaw("all", "arp_ignore", 0)
	h.SetSysctlRaw("eth0.100", "arp_ignore", 2)
	h.SetSysctlRaw("eth1", "arp_announce", 2)
	h.SetSysctlRaw("lo", "arp_announce", 0)
	if err := h.SetLinkUp("lo", false); err != nil {
		t.Fatal(err)
	}
	h.AddAddrRaw(realserver.Addr{Link: "eth0.100", Prefix: netip.MustParsePrefix("192.0.2.3/32")})
	h.AddAddrRaw(realserver.Addr{Link: "lo", Prefix: netip.MustParsePrefix("192.0.2.4/24")})
	return h
}

func drCase() faultCase {
	return faultCase{name: "dr", seed: drHost, invs: arp.DR{VIPs: drVIPs, HeldVIPs: realserver.TakeHeldVIPs}.Invariants(), vips: append(vips("198.51.100.1"), drVIPs...), mode: "dr"}
}

// faultCases are the modes whose apply must be all-or-nothing.
func faultCases() []faultCase { return append([]faultCase{drCase()}, moreFaultCases()...) }

// runFunc is a run that must be all-or-nothing: apply or down.
type runFunc func(*realserver.Engine) (realserver.Result, error)

func applyRun(c faultCase) runFunc {
	return func(e *realserver.Engine) (realserver.Result, error) { return e.Apply(c.invs, false) }
}

func downRun(c faultCase) runFunc {
	return func(e *realserver.Engine) (realserver.Result, error) { return e.Down(c.vips, false) }
}

// applied is c's host after a clean apply, ready for a down.
func applied(c faultCase) func(t *testing.T, path string) *fake.Host {
	return func(t *testing.T, path string) *fake.Host {
		h := c.seed(t, path)
		if _, err := applyRun(c)(quietEngine(h, loadRecord(t, path), c.mode)); err != nil {
			t.Fatal(err)
		}
		return h
	}
}

// cleanRun returns the changes of a fault-free run, in the order it made
// them: one kernel write each.
func cleanRun(t *testing.T, c faultCase, seed func(*testing.T, string) *fake.Host, run runFunc) []realserver.Change {
	t.Helper()
	path := filepath.Join(t.TempDir(), "record.json")
	h := seed(t, path)
	start := h.Writes()
	res, err := run(quietEngine(h, loadRecord(t, path), c.mode))
	if err != nil {
		t.Fatalf("clean run: %v", err)
	}
	n := h.Writes() - start
	t.Logf("a clean run makes %d writes", n)
	if n != len(res.Changes) {
		t.Fatalf("a clean run made %d writes for %d changes", n, len(res.Changes))
	}
	if n < 4 {
		t.Fatalf("a clean run made %d writes: the fixture exercises too little", n)
	}
	return res.Changes
}

// wantError checks the error of a run whose k-th write failed: it names
// that change (a module by name), the fault, and ends saying how the k-1
// changes before it were rolled back.
func wantError(t *testing.T, err error, changes []realserver.Change, k int) {
	t.Helper()
	failed := changes[k-1]
	name := failed.String()
	if failed.Kind == realserver.KindModule {
		name = failed.Module
	}
	var ce *realserver.ChangeError
	switch msg := fmt.Sprint(err); {
	case !errors.As(err, &ce) || ce.Change.String() != failed.String():
		t.Errorf("write %d of %d (%s) failed: got %v, want a ChangeError for it", k, len(changes), failed, err)
	case !strings.Contains(msg, name+": injected fault") && !strings.Contains(msg, name+" (injected fault)"),
		!strings.HasSuffix(msg, rolledBack(changes[:k-1])):
		t.Errorf("write %d of %d failed: error\n%q, want it to name %q and end\n%q", k, len(changes), msg, name, rolledBack(changes[:k-1]))
	}
}

// faultAtEveryWrite fails the k-th kernel write of a run, for every k, and
// checks that the host and the record are left exactly as they were (or,
// with kept, as kept says), and that the error names the change that
// failed and says it was rolled back.
func faultAtEveryWrite(t *testing.T, c faultCase, seed func(*testing.T, string) *fake.Host, run runFunc, kept func(*testing.T, string, *fake.Host) (string, string)) {
	changes := cleanRun(t, c, seed, run)
	for k := 1; k <= len(changes); k++ {
		path := filepath.Join(t.TempDir(), "record.json")
		h := seed(t, path)
		before, recBefore := h.Render(), readFile(t, path)
		h.FailWrite(k)
		_, err := run(quietEngine(h, loadRecord(t, path), c.mode))
		wantError(t, err, changes, k)
		after := h.Render()
		if kept != nil {
			before, after = kept(t, filepath.Join(t.TempDir(), "record.json"), h)
		}
		if after != before {
			t.Errorf("write %d of %d (%s) failed: host not restored:\n%s", k, len(changes), changes[k-1], diff(before, after))
		}
		if got := readFile(t, path); got != recBefore {
			t.Errorf("write %d of %d failed: record not restored:\nbefore:\n%s\nafter:\n%s", k, len(changes), recBefore, got)
		}
	}
}

// All-or-nothing apply: a kernel write failing anywhere in an apply undoes
// what that apply did.
func TestApplyFaultAtEveryWriteRollsBack(t *testing.T) {
	for _, c := range faultCases() {
		t.Run(c.name, func(t *testing.T) { faultAtEveryWrite(t, c, c.seed, applyRun(c), c.kept) })
	}
}

// All-or-nothing down: a kernel write failing anywhere in a down puts back
// what that down had removed or restored.
func TestDownFaultAtEveryWriteRollsBack(t *testing.T) {
	for _, c := range faultCases() {
		t.Run(c.name, func(t *testing.T) { faultAtEveryWrite(t, c, applied(c), downRun(c), nil) })
	}
}

// failTwice is a host whose injected fault is followed by exactly one more:
// the first write of the rollback fails too.
type failTwice struct {
	*fake.Host
	faults *int
}

func (h failTwice) fail(err error) error {
	if errors.Is(err, fake.ErrInjected) {
		if *h.faults++; *h.faults == 1 {
			h.FailWrite(1)
		}
	}
	return err
}

func (h failTwice) AddAddr(a realserver.Addr) error { return h.fail(h.Host.AddAddr(a)) }
func (h failTwice) DelAddr(a realserver.Addr) error { return h.fail(h.Host.DelAddr(a)) }
func (h failTwice) SetLinkUp(l string, up bool) error {
	return h.fail(h.Host.SetLinkUp(l, up))
}
func (h failTwice) SetSysctl(k realserver.SysctlKey, v int) error {
	return h.fail(h.Host.SetSysctl(k, v))
}
func (h failTwice) AddRoute(r realserver.Route) error       { return h.fail(h.Host.AddRoute(r)) }
func (h failTwice) DelRoute(r realserver.Route) error       { return h.fail(h.Host.DelRoute(r)) }
func (h failTwice) SetNeighbor(n realserver.Neighbor) error { return h.fail(h.Host.SetNeighbor(n)) }
func (h failTwice) DelNeighbor(n realserver.Neighbor) error { return h.fail(h.Host.DelNeighbor(n)) }
func (h failTwice) LoadModule(m string) error               { return h.fail(h.Host.LoadModule(m)) }

// When rollback itself fails, the error says the host is partly changed
// and what could not be undone; it never claims a clean rollback.
func TestApplyRollbackFailureSaysHostIsPartlyChanged(t *testing.T) {
	for _, c := range faultCases() {
		t.Run(c.name, func(t *testing.T) {
			n := len(cleanRun(t, c, c.seed, applyRun(c)))
			for k := 2; k <= n; k++ { // the k-th write fails after k-1 succeeded
				path := filepath.Join(t.TempDir(), "record.json")
				h := c.seed(t, path)
				start := h.Writes()
				h.FailWrite(k)
				_, err := applyRun(c)(quietEngine(failTwice{h, new(int)}, loadRecord(t, path), c.mode))
				var ce *realserver.ChangeError
				if !errors.As(err, &ce) {
					t.Fatalf("write %d of %d failed: apply returned %v, want a ChangeError", k, n, err)
				}
				if h.Writes() == start+k {
					continue // nothing this run did is undone (a module load): no rollback write to fail
				}
				if msg := err.Error(); !strings.Contains(msg, "; rollback failed, the host is partly changed: ") || strings.Count(msg, "injected fault") != 2 {
					t.Errorf("write %d of %d failed, and a rollback write too: error %q does not say the host is partly changed", k, n, msg)
				}
			}
		})
	}
}

// rolledBack is how an error ends when the run had made done and undid
// them all: modules stay loaded.
func rolledBack(done []realserver.Change) string {
	var modules []string
	for _, c := range done {
		if c.Kind == realserver.KindModule {
			modules = append(modules, c.Module)
		}
	}
	var s string
	switch undone := len(done) - len(modules); {
	case undone > 0:
		s = fmt.Sprintf("; rolled back the %d change(s) this run made", undone)
	case len(modules) == 0:
		s = "; nothing was changed"
	}
	if len(modules) > 0 {
		s += "; left module(s) " + strings.Join(modules, ", ") + " loaded (rsprep never unloads a module)"
	}
	return s
}

// diff lists the lines only one of two renders has.
func diff(a, b string) string {
	in := func(s string) map[string]bool {
		m := map[string]bool{}
		for _, l := range strings.Split(s, "\n") {
			m[l] = true
		}
		return m
	}
	ma, mb := in(a), in(b)
	var out []string
	for _, l := range strings.Split(a, "\n") {
		if !mb[l] {
			out = append(out, "- "+l)
		}
	}
	for _, l := range strings.Split(b, "\n") {
		if !ma[l] {
			out = append(out, "+ "+l)
		}
	}
	return strings.Join(out, "\n")
}
