// Package nstest runs rsprep's integration tests against the real kernel,
// each in fresh network namespaces that are deleted when the test ends.
package nstest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/vishvananda/netns"

	"github.com/rsprep/rsprep/cmd/rsprep/schema"
	"github.com/rsprep/rsprep/realserver/persist"
)

// NeedRoot skips a privileged test when not root. Under CI (CI=true) a
// skip would hide a failure, so it fails instead.
func NeedRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatal("privileged test cannot run: not root, and CI=true forbids skipping")
	}
	t.Skip("needs root (network namespaces); skipped outside CI")
}

// RepoRoot is the module root (where go.mod is).
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

var (
	buildOnce sync.Map // package path → *built
)

type built struct {
	once sync.Once
	path string
	err  error
}

// Build compiles a main package of this module once per test process and
// returns the binary: the same binary users run is what the tests drive.
func Build(t testing.TB, pkg string) string {
	t.Helper()
	v, _ := buildOnce.LoadOrStore(pkg, &built{})
	b := v.(*built)
	b.once.Do(func() {
		dir, err := os.MkdirTemp("", "rsprep-test-bin")
		if err != nil {
			b.err = err
			return
		}
		b.path = filepath.Join(dir, filepath.Base(pkg))
		cmd := exec.Command("go", "build", "-o", b.path, "./"+pkg)
		cmd.Dir = RepoRoot()
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			b.err = fmt.Errorf("go build %s: %v\n%s", pkg, err, out)
		}
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.path
}

// removeBuilt deletes the binaries Build made, so that no run of the
// tests leaves them in the temporary directory.
func removeBuilt() {
	buildOnce.Range(func(_, v any) bool {
		if b := v.(*built); b.path != "" {
			os.RemoveAll(filepath.Dir(b.path))
		}
		return true
	})
}

// Rsprep builds cmd/rsprep once and returns its path.
func Rsprep(t testing.TB) string { return Build(t, "cmd/rsprep") }

var seq atomic.Int64

// NS is a network namespace owned by one test.
type NS struct {
	Name     string
	StateDir string // RSPREP_STATE_DIR for rsprep runs in this namespace
}

// New creates a namespace; it and everything running in it go away when
// the test ends.
func New(t testing.TB, role string) *NS {
	t.Helper()
	NeedRoot(t)
	name := fmt.Sprintf("rst-%d-%d-%s", os.Getpid(), seq.Add(1), role)
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add %s: %v: %s", name, err, out)
	}
	ns := &NS{Name: name, StateDir: t.TempDir()}
	t.Cleanup(func() {
		// Kill what still runs inside before the namespace goes.
		if pids, err := exec.Command("ip", "netns", "pids", name).Output(); err == nil {
			for _, p := range strings.Fields(string(pids)) {
				exec.Command("kill", "-9", p).Run()
			}
		}
		exec.Command("ip", "netns", "del", name).Run()
	})
	return ns
}

// Exec runs a command inside the namespace and returns its combined output.
func (n *NS) Exec(args ...string) (string, error) {
	out, err := exec.Command("ip", append([]string{"netns", "exec", n.Name}, args...)...).CombinedOutput()
	return string(out), err
}

// Must runs a command inside the namespace and fails the test on error.
func (n *NS) Must(t testing.TB, args ...string) string {
	t.Helper()
	out, err := n.Exec(args...)
	if err != nil {
		t.Fatalf("in %s: %s: %v\n%s", n.Name, strings.Join(args, " "), err, out)
	}
	return out
}

// stdout runs a command inside the namespace and returns its standard
// output alone, failing the test on error. A snapshot reads only this: on a
// busy machine ip writes "Peer netns reference is invalid." to stderr while
// a veth peer's namespace id settles, and merged output can put those words
// in the middle of a line of stdout.
func (n *NS) stdout(t testing.TB, args ...string) string {
	t.Helper()
	cmd := exec.Command("ip", append([]string{"netns", "exec", n.Name}, args...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("in %s: %s: %v\n%s", n.Name, strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}

// Sh runs a shell snippet inside the namespace, failing the test on error.
func (n *NS) Sh(t testing.TB, script string) string {
	t.Helper()
	return n.Must(t, "sh", "-ec", script)
}

// Result is one run of the rsprep binary.
type Result struct {
	Code           int
	Stdout, Stderr string
}

// Rsprep runs the rsprep binary with args plus --netns for this namespace
// (after the mode word, as a flag of the command).
func (n *NS) Rsprep(t testing.TB, args ...string) Result {
	t.Helper()
	return n.RsprepEnv(t, nil, args...)
}

// RsprepEnv is Rsprep with extra environment variables.
func (n *NS) RsprepEnv(t testing.TB, env []string, args ...string) Result {
	t.Helper()
	cmd := exec.Command(Rsprep(t), append(args, "--netns", n.Name)...)
	cmd.Env = append(append(os.Environ(), "RSPREP_STATE_DIR="+n.StateDir), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("running rsprep: %v", err)
		}
		code = ee.ExitCode()
	}
	if wantsJSON(args) && code <= 1 {
		// Every JSON a test makes rsprep print is held to the schema.
		if err := schema.Validate(stdout.Bytes()); err != nil {
			t.Errorf("rsprep %v: the JSON departs from rsprep.schema.json: %v\n%s", args, err, stdout.String())
		}
	}
	return Result{Code: code, Stdout: stdout.String(), Stderr: stderr.String()}
}

// wantsJSON reports whether args ask for -o json.
func wantsJSON(args []string) bool {
	for i, a := range args {
		if a == "-ojson" || a == "--output=json" || (a == "-o" || a == "--output") && i+1 < len(args) && args[i+1] == "json" {
			return true
		}
	}
	return false
}

// Snapshot is everything rsprep may touch in the namespace, normalised so
// that two snapshots of the same state are equal: links (flags), addresses,
// main-table routes, permanent neighbours, and every arp_ignore,
// arp_announce, rp_filter and (IPv4 and IPv6) forwarding value.
func (n *NS) Snapshot(t testing.TB) string {
	t.Helper()
	var parts []string
	links := n.stdout(t, "ip", "-o", "link", "show")
	for _, l := range strings.Split(strings.TrimSpace(links), "\n") {
		// Keep name and flags; drop counters, qdisc state and the like,
		// and any line that is not a link ("N: name: <flags>").
		f := strings.Fields(l)
		if len(f) >= 3 && strings.HasSuffix(f[0], ":") {
			parts = append(parts, "link "+f[1]+" "+f[2])
		}
	}
	for _, cmd := range []struct {
		label string
		args  []string
	}{
		{"addr", []string{"ip", "-o", "addr", "show"}},
		{"route", []string{"ip", "route", "show", "table", "main"}},
		{"neigh", []string{"ip", "neigh", "show", "nud", "permanent"}},
	} {
		out := n.stdout(t, cmd.args...)
		for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
			// Kernel-made fe80:: addresses are never rsprep's, and their
			// DAD flags (tentative) change by themselves: leave them out.
			if strings.Contains(l, "inet6 fe80:") {
				continue
			}
			l = strings.Join(strings.Fields(strings.Split(l, "valid_lft")[0]), " ")
			if l = strings.TrimSuffix(l, "\\"); l != "" {
				parts = append(parts, cmd.label+" "+l)
			}
		}
	}
	out := n.Sh(t, `cd /proc/sys/net/ipv4/conf && for f in */arp_ignore */arp_announce */rp_filter */forwarding; do echo "sysctl $f=$(cat $f)"; done
		echo "sysctl ip_forward=$(cat /proc/sys/net/ipv4/ip_forward)"
		if [ -d /proc/sys/net/ipv6/conf ]; then cd /proc/sys/net/ipv6/conf && for f in */forwarding; do echo "sysctl ipv6/$f=$(cat $f)"; done; fi`)
	parts = append(parts, strings.Split(strings.TrimSpace(out), "\n")...)
	sort.Strings(parts)
	return strings.Join(parts, "\n") + "\n"
}

// Veth connects two namespaces with a veth pair, both ends up, and gives
// each end an address (CIDR) unless it is empty.
func Veth(t testing.TB, a *NS, aName, aAddr string, b *NS, bName, bAddr string) {
	t.Helper()
	if out, err := exec.Command("ip", "link", "add", aName, "netns", a.Name, "type", "veth", "peer", "name", bName, "netns", b.Name).CombinedOutput(); err != nil {
		t.Fatalf("ip link add %s/%s: %v: %s", aName, bName, err, out)
	}
	for _, end := range []struct {
		ns         *NS
		name, addr string
	}{{a, aName, aAddr}, {b, bName, bAddr}} {
		end.ns.Must(t, "ip", "link", "set", end.name, "up")
		if end.addr != "" {
			end.ns.Must(t, "ip", "addr", "add", end.addr, "dev", end.name)
		}
	}
	// The kernel reports the link running (operstate up; ip shows
	// NO-CARRIER until then) from its linkwatch work, later: on a busy
	// machine a snapshot taken at once saw the flag change by itself.
	for _, end := range []struct {
		ns   *NS
		name string
	}{{a, aName}, {b, bName}} {
		end.ns.Sh(t, "i=0; until [ \"$(cat /sys/class/net/"+end.name+"/operstate)\" = up ]; do i=$((i+1)); [ $i -le 500 ] || { echo "+end.name+" operstate stays $(cat /sys/class/net/"+end.name+"/operstate) after 10 s >&2; exit 1; }; sleep 0.02; done")
	}
}

// MAC returns an interface's MAC address.
func (n *NS) MAC(t testing.TB, dev string) string {
	t.Helper()
	return strings.TrimSpace(n.Must(t, "cat", "/sys/class/net/"+dev+"/address"))
}

// Netns is the namespace's identity as rsprep keys its record and lock,
// read from inside it (the cookie belongs to a socket opened there).
func (n *NS) Netns(t testing.TB) persist.Netns {
	t.Helper()
	var id persist.Netns
	if err := n.In(func() (err error) { id, err = persist.CurrentNetns(); return err }); err != nil {
		t.Fatalf("identifying namespace %s: %v", n.Name, err)
	}
	return id
}

// In runs fn on a thread inside the namespace: what it opens (sockets)
// belongs to the namespace.
func (n *NS) In(fn func() error) error {
	ch := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			ch <- err
			return
		}
		defer orig.Close()
		h, err := netns.GetFromName(n.Name)
		if err == nil {
			err = netns.Set(h)
			h.Close()
		}
		if err != nil {
			ch <- err
			return
		}
		err = fn()
		// Back home before the thread is unlocked: a thread (even the
		// process's main one) left inside would make the test process one
		// of the namespace's, which its cleanup kills.
		if serr := netns.Set(orig); serr == nil {
			runtime.UnlockOSThread()
		}
		ch <- err
	}()
	return <-ch
}

// Main runs a test package's tests with rsprep's state directory
// (RSPREP_STATE_DIR) pointing at a directory of this process, for any run
// that does not name its own (NS.StateDir does, per namespace): no test
// writes the host's /run/rsprep. A file found there afterwards fails the
// package: some run did not use its namespace's own directory.
func Main(m *testing.M) {
	dir, err := os.MkdirTemp("", "rsprep-test-state")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Setenv("RSPREP_STATE_DIR", dir)
	code := m.Run()
	removeBuilt()
	if left, _ := os.ReadDir(dir); len(left) > 0 && code == 0 {
		var names []string
		for _, e := range left {
			names = append(names, e.Name())
		}
		fmt.Fprintf(os.Stderr, "FAIL: runs without a state directory of their own left %s in the package's (RSPREP_STATE_DIR): give each its namespace's (NS.StateDir) or t.TempDir()\n", strings.Join(names, ", "))
		code = 1
	}
	os.RemoveAll(dir)
	os.Exit(code)
}
