package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// vipsPerFlag keeps each --vip argument under the kernel's 128 KiB limit
// for one argument (MAX_ARG_STRLEN): 10,000 VIPs in one comma-separated
// value would not even reach rsprep.
const vipsPerFlag = 1000

// sample is one timed process: wall clock, and what wait4 reports for it
// and its children (as /usr/bin/time -v does).
type sample struct {
	wall, user, sys time.Duration
	rssKB           int64
}

// step names one timed command of one contender.
type step string

const (
	rsApply     step = "rsprep apply"
	rsApplyNull step = "rsprep apply, stderr to /dev/null"
	rsReapply   step = "rsprep re-apply"
	rsVerify    step = "rsprep verify"
	rsDown      step = "rsprep down"
	rsStart     step = "rsprep version" // the binary's start alone: the floor of any run
	ipApply     step = "ip -batch add"
	ipShow      step = "ip -4 addr show dev lo"
	ipDown      step = "ip -batch del"
	classicUp   step = "classic start"
	classicDown step = "classic stop"
)

// as is an rsprep step of another build: as("baseline", rsApply).
func as(who string, s step) step { return step(who + strings.TrimPrefix(string(s), "rsprep")) }

type key struct {
	step step
	n    int
}

// results holds every sample, by step and VIP count.
type results map[key][]sample

type bench struct {
	rsprep, baseline string // baseline: an earlier build, or ""
	classic, ipbatch string
	tmp, stateDir    string
	mounted          bool // stateDir is our tmpfs
	devnull          *os.File

	mu  sync.Mutex
	nss map[string]bool // namespaces that exist now
	seq int
}

func newBench(rsprep, baseline, scripts string, stateOnDisk bool) (*bench, error) {
	b := &bench{nss: map[string]bool{}}
	var err error
	if b.rsprep, err = filepath.Abs(rsprep); err != nil {
		return nil, err
	}
	if baseline != "" {
		if b.baseline, err = filepath.Abs(baseline); err != nil {
			return nil, err
		}
	}
	b.classic = filepath.Join(scripts, "classic.sh")
	b.ipbatch = filepath.Join(scripts, "ipbatch.sh")
	for _, p := range []string{b.rsprep, b.baseline, b.classic, b.ipbatch} {
		if _, err := os.Stat(p); p != "" && err != nil {
			return nil, err
		}
	}
	for _, tool := range []string{"ip", "nsenter", "sh", "mount", gnuTime} {
		if _, err := exec.LookPath(tool); err != nil {
			return nil, fmt.Errorf("needs %s (Debian: ip is iproute2, nsenter and mount util-linux, /usr/bin/time the time package): %w", tool, err)
		}
	}
	if b.tmp, err = os.MkdirTemp("", "rsprep-bench-"); err != nil {
		return nil, err
	}
	b.stateDir = filepath.Join(b.tmp, "state")
	if err := os.Mkdir(b.stateDir, 0o700); err != nil {
		return nil, err
	}
	if !stateOnDisk {
		// rsprep keeps its records in /run, a tmpfs on every systemd host
		// (not on every VM: fsync on a disk costs about a millisecond).
		if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=64m,mode=0700", "rsprep-bench", b.stateDir).CombinedOutput(); err != nil {
			return nil, fmt.Errorf("mounting a tmpfs for the records: %v: %s", err, out)
		}
		b.mounted = true
	}
	if b.devnull, err = os.OpenFile(os.DevNull, os.O_WRONLY, 0); err != nil {
		return nil, err
	}
	removeStaleNamespaces()
	return b, nil
}

// close deletes every namespace still there, and the temporary files.
func (b *bench) close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for name := range b.nss {
		exec.Command("ip", "netns", "del", name).Run()
		delete(b.nss, name)
	}
	if b.mounted {
		exec.Command("umount", b.stateDir).Run()
		b.mounted = false
	}
	if b.tmp != "" {
		os.RemoveAll(b.tmp)
	}
}

// nsPrefix names this process's namespaces, so that a later run can tell
// leftovers of a killed run (whose pid is gone) from a concurrent run's.
const nsPrefix = "rsprep-bench-"

func removeStaleNamespaces() {
	entries, _ := os.ReadDir("/run/netns")
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), nsPrefix)
		if !ok {
			continue
		}
		pid, _, _ := strings.Cut(rest, "-")
		if _, err := os.Stat("/proc/" + pid); os.IsNotExist(err) {
			exec.Command("ip", "netns", "del", e.Name()).Run()
		}
	}
}

// newNS creates a fresh namespace with lo up, as on any real host.
func (b *bench) newNS() (string, error) {
	b.mu.Lock()
	b.seq++
	name := fmt.Sprintf("%s%d-%d", nsPrefix, os.Getpid(), b.seq)
	b.nss[name] = true
	b.mu.Unlock()
	for _, args := range [][]string{{"netns", "add", name}, {"-n", name, "link", "set", "dev", "lo", "up"}} {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			return "", fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	return name, nil
}

func (b *bench) delNS(name string) {
	exec.Command("ip", "netns", "del", name).Run()
	b.mu.Lock()
	delete(b.nss, name)
	b.mu.Unlock()
}

// timed runs one command inside namespace ns (entered with nsenter, the
// same way for every contender) under GNU time, and measures it. Wall
// time is taken around the whole; user and system time are wait4's for
// the whole (time's own share is tiny); peak RSS is the one time reports
// for the command alone (the rusage of a child of this process would
// start from the harness's own RSS: vfork). Stdout always goes to a pipe
// the harness drains, as a terminal, ssh or the journal would take it;
// stderr too unless nullStderr.
func (b *bench) timed(ns string, nullStderr bool, args ...string) (sample, string, error) {
	rssFile := filepath.Join(b.tmp, "rss")
	cmd := exec.Command(gnuTime, append([]string{"-f", "%M", "-o", rssFile, "nsenter", "--net=/run/netns/" + ns, "--"}, args...)...)
	cmd.Env = append(os.Environ(), "RSPREP_STATE_DIR="+b.stateDir)
	var errOut tail
	cmd.Stdout = io.Discard
	cmd.Stderr = &errOut
	if nullStderr {
		cmd.Stderr = b.devnull
	}
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if err != nil {
		return sample{}, "", fmt.Errorf("%s: %v: %s", strings.Join(args, " "), err, errOut.String())
	}
	out, err := os.ReadFile(rssFile)
	if err != nil {
		return sample{}, "", err
	}
	rss, err := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64)
	if err != nil {
		return sample{}, "", fmt.Errorf("reading %s's peak RSS from %s: %q", gnuTime, rssFile, out)
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	return sample{
		wall:  wall,
		user:  time.Duration(ru.Utime.Nano()),
		sys:   time.Duration(ru.Stime.Nano()),
		rssKB: rss,
	}, errOut.String(), nil
}

// gnuTime reports a command's peak RSS (Debian package "time").
const gnuTime = "/usr/bin/time"

// tail keeps the last few KiB written to it, for checks and error messages.
type tail struct{ buf []byte }

func (t *tail) Write(p []byte) (int, error) {
	t.buf = append(t.buf, p...)
	if len(t.buf) > 4096 {
		t.buf = t.buf[len(t.buf)-4096:]
	}
	return len(p), nil
}

func (t *tail) String() string { return strings.TrimSpace(string(t.buf)) }

// loCount counts the IPv4 addresses on lo in ns (untimed sanity checks).
func loCount(ns string) (int, error) {
	out, err := exec.Command("ip", "-n", ns, "-4", "-o", "addr", "show", "dev", "lo").Output()
	if err != nil {
		return 0, fmt.Errorf("listing lo in %s: %w", ns, err)
	}
	return strings.Count(string(out), "\n"), nil
}

// expectLo fails unless lo holds want IPv4 addresses: a contender that did
// not do its work must not produce a figure.
func expectLo(ns, who string, want int) error {
	got, err := loCount(ns)
	if err != nil {
		return err
	}
	if got != want {
		return fmt.Errorf("%s: lo holds %d IPv4 addresses, want %d", who, got, want)
	}
	return nil
}
