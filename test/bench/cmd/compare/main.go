// Command compare measures the rsprep binary against `ip -batch` doing the
// same kernel work and, for one VIP, against the classic LVS real-server
// script. Every run uses fresh network namespaces; the contenders are
// interleaved within each run (their order rotates), so load on the
// machine hits them alike and the ratios stay fair. It prints a markdown
// table of medians, min–max, ratios, CPU time and peak RSS.
//
// It needs root (ip netns), ip, nsenter and sh. compare.sh builds the
// binaries and runs it from the repository root:
//
//	test/bench/compare.sh [-n 1,100,1000,10000] [-runs 5] [-baseline OLD-RSPREP]
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

func main() {
	os.Exit(run())
}

func run() int {
	var (
		sizes    = flag.String("n", "1,100,1000,10000", "VIP counts to measure, comma-separated")
		runs     = flag.Int("runs", 5, "runs per contender and size (the table shows medians)")
		rsprep   = flag.String("rsprep", "", "the rsprep binary to measure (required)")
		baseline = flag.String("baseline", "", "an earlier rsprep build to measure alongside, for before/after figures")
		scripts  = flag.String("scripts", "test/bench", "directory holding classic.sh and ipbatch.sh")
		onDisk   = flag.Bool("state-on-disk", false, "keep rsprep's records in the temporary directory, not on a tmpfs as /run is")
	)
	flag.Parse()
	ns, err := parseSizes(*sizes)
	if err == nil && *rsprep == "" {
		err = fmt.Errorf("-rsprep is required (compare.sh builds it)")
	}
	if err == nil && *runs < 1 {
		err = fmt.Errorf("-runs must be at least 1")
	}
	if err == nil && os.Geteuid() != 0 {
		err = fmt.Errorf("needs root: it creates network namespaces")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "compare:", err)
		return 2
	}

	b, err := newBench(*rsprep, *baseline, *scripts, *onDisk)
	if err != nil {
		fmt.Fprintln(os.Stderr, "compare:", err)
		return 1
	}
	defer b.close()
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	go func() {
		<-stop
		b.close() // always delete our namespaces
		os.Exit(130)
	}()

	before := loadavg()
	res, err := b.measureAll(ns, *runs)
	if err != nil {
		fmt.Fprintln(os.Stderr, "compare:", err)
		return 1
	}
	printReport(os.Stdout, res, ns, *runs, *onDisk, before, loadavg())
	return 0
}

func parseSizes(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > 60000 {
			return nil, fmt.Errorf("-n %q: want VIP counts between 1 and 60000", s)
		}
		out = append(out, n)
	}
	return out, nil
}

// loadavg is the first three fields of /proc/loadavg, for the report.
func loadavg() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// vips returns n addresses from 10.200.0.0/16 upwards: lab-only, and only
// ever bound on lo inside the benchmark's own namespaces.
func vips(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("10.%d.%d.%d", 200+i/(250*250), i/250%250, i%250+1)
	}
	return out
}

// writeBatch writes an ip -batch file: one "addr VERB VIP/32 dev lo" line
// per VIP, with rsprep's label on adds, so the kernel does the same work.
func writeBatch(dir, verb string, ips []string) (string, error) {
	var b strings.Builder
	for _, ip := range ips {
		b.WriteString("addr " + verb + " " + ip + "/32 dev lo")
		if verb == "add" {
			b.WriteString(" label lo:rsprep")
		}
		b.WriteByte('\n')
	}
	path := filepath.Join(dir, fmt.Sprintf("%s-%d.batch", verb, len(ips)))
	return path, os.WriteFile(path, []byte(b.String()), 0o644)
}
