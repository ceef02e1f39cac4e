package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"
)

// goalN is the VIP count the issues state their scale goals at.
const goalN = 10000

// row is one line of the table: an rsprep step against its reference.
type row struct {
	label    string
	step     step
	ref      step
	refLabel string
	goal     string  // stated goal, shown at goalN (or at N=1 for the classic rows)
	limit    float64 // ratio the goal allows; 0 = informational
	goalAt   int
}

func rows(n int) []row {
	// Goals: issue 13's (apply, re-apply, verify, N=1 apply), issue 6's
	// where issue 13 names none (down).
	rs := []row{
		{label: "apply (cold)", step: rsApply, ref: ipApply, refLabel: "`ip -batch` add + 6 sysctl writes", goal: "≤ 1.0×", limit: 1.0, goalAt: goalN},
		{label: "apply, stderr → /dev/null", step: rsApplyNull, ref: ipApply, refLabel: "`ip -batch` add + 6 sysctl writes"},
		{label: "re-apply (no-op)", step: rsReapply, ref: rsVerify, refLabel: "rsprep verify", goal: "≤ 1.5×", limit: 1.5, goalAt: goalN},
		{label: "verify", step: rsVerify, ref: ipShow, refLabel: "`ip -4 addr show dev lo`", goal: "≤ 1.3×", limit: 1.3, goalAt: goalN},
		{label: "down", step: rsDown, ref: ipDown, refLabel: "`ip -batch` del + 6 sysctl writes", goal: "≤ 1.2×", limit: 1.2, goalAt: goalN},
	}
	if n == 1 {
		rs = slices.Insert(rs, 1,
			row{label: "apply (cold)", step: rsApply, ref: classicUp, refLabel: "classic script start", goal: "≤ 1.0×", limit: 1, goalAt: 1},
			row{label: "start only (`rsprep version`)", step: rsStart, ref: classicUp, refLabel: "classic script start"})
		rs = append(rs, row{label: "down", step: rsDown, ref: classicDown, refLabel: "classic script stop"})
	}
	return rs
}

// stats summarises one series of samples.
type stats struct {
	med, lo, hi time.Duration // wall clock
	user, sys   time.Duration // medians
	peakKB      int64         // highest max RSS of any run
}

func summarize(ss []sample) stats {
	pick := func(f func(sample) time.Duration) []time.Duration {
		out := make([]time.Duration, len(ss))
		for i, s := range ss {
			out[i] = f(s)
		}
		slices.Sort(out)
		return out
	}
	wall := pick(func(s sample) time.Duration { return s.wall })
	st := stats{
		med:  median(wall),
		lo:   wall[0],
		hi:   wall[len(wall)-1],
		user: median(pick(func(s sample) time.Duration { return s.user })),
		sys:  median(pick(func(s sample) time.Duration { return s.sys })),
	}
	for _, s := range ss {
		st.peakKB = max(st.peakKB, s.rssKB)
	}
	return st
}

func median(sorted []time.Duration) time.Duration {
	n := len(sorted)
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}

func printReport(w io.Writer, res results, sizes []int, runs int, stateOnDisk bool, loadBefore, loadAfter string) {
	host, _ := os.Hostname()
	kernel, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	fmt.Fprintf(w, "rsprep vs `ip -batch` and the classic script: %d runs each, medians (min–max) of wall time; ratio = rsprep median / reference median.\n", runs)
	state := "on a tmpfs, as /run is"
	if stateOnDisk {
		state = "on disk"
	}
	fmt.Fprintf(w, "Host %s, Linux %s, %d CPUs, load %s before, %s after, %s; every command entered its namespace with nsenter; rsprep's records %s.\n\n",
		host, strings.TrimSpace(string(kernel)), runtime.NumCPU(), loadBefore, loadAfter, time.Now().UTC().Format("2006-01-02 15:04 UTC"), state)
	fmt.Fprintln(w, "| step | N | rsprep | user / sys | peak RSS | reference | reference time | user / sys | peak RSS | ratio | goal |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---|")
	for _, n := range sizes {
		for _, r := range rows(n) {
			a, b := res[key{r.step, n}], res[key{r.ref, n}]
			if len(a) == 0 || len(b) == 0 {
				continue
			}
			sa, sb := summarize(a), summarize(b)
			goal := ""
			if r.goalAt == n {
				goal = r.goal
			}
			fmt.Fprintf(w, "| %s | %d | %s | %s | %s | %s | %s | %s | %s | %.2f× | %s |\n",
				r.label, n, wallCell(sa), cpuCell(sa), mib(sa.peakKB), r.refLabel, wallCell(sb), cpuCell(sb), mib(sb.peakKB),
				ratio(sa.med, sb.med), goal)
		}
	}
	fmt.Fprintln(w)
	printGoals(w, res, sizes)
	printBaseline(w, res, sizes)
}

// printBaseline compares rsprep with the -baseline build, step by step.
func printBaseline(w io.Writer, res results, sizes []int) {
	if len(res[key{as("baseline", rsApply), sizes[0]}]) == 0 {
		return
	}
	fmt.Fprintln(w, "\nThis build against the baseline build, same runs:")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| step | N | rsprep | user / sys | peak RSS | baseline | user / sys | peak RSS | ratio |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, n := range sizes {
		for _, s := range []step{rsStart, rsApply, rsApplyNull, rsReapply, rsVerify, rsDown} {
			if len(res[key{s, n}]) == 0 {
				continue // the start is timed at N=1 only
			}
			sa, sb := summarize(res[key{s, n}]), summarize(res[key{as("baseline", s), n}])
			fmt.Fprintf(w, "| %s | %d | %s | %s | %s | %s | %s | %s | %.2f× |\n",
				strings.TrimPrefix(string(s), "rsprep "), n, wallCell(sa), cpuCell(sa), mib(sa.peakKB), wallCell(sb), cpuCell(sb), mib(sb.peakKB), ratio(sa.med, sb.med))
		}
	}
}

// printGoals checks the goals against this run's medians.
func printGoals(w io.Writer, res results, sizes []int) {
	has := func(n int) bool { return slices.Contains(sizes, n) }
	med := func(s step, n int) time.Duration { return summarize(res[key{s, n}]).med }
	verdict := func(ok bool) string {
		if ok {
			return "met"
		}
		return "MISSED"
	}
	fmt.Fprintln(w, "Goals:")
	if has(goalN) {
		for _, r := range rows(goalN) {
			if r.goalAt != goalN {
				continue
			}
			x := ratio(med(r.step, goalN), med(r.ref, goalN))
			fmt.Fprintf(w, "- %s, N=%d: %.2f× %s (goal %s) — %s\n", r.label, goalN, x, r.refLabel, r.goal, verdict(x <= r.limit))
		}
		if has(1000) {
			x := ratio(med(rsVerify, goalN), med(rsVerify, 1000))
			fmt.Fprintf(w, "- verify(%d) / verify(1000): %.1f (goal ≤ 12) — %s\n", goalN, x, verdict(x <= 12))
		}
		peak, at := int64(0), step("")
		for _, s := range []step{rsApply, rsApplyNull, rsReapply, rsVerify, rsDown} {
			if kb := summarize(res[key{s, goalN}]).peakKB; kb > peak {
				peak, at = kb, s
			}
		}
		fmt.Fprintf(w, "- peak RSS, N=%d: %s (%s; goal ≤ 40 MiB) — %s\n", goalN, mib(peak), at, verdict(peak <= 40<<10))
	} else {
		fmt.Fprintf(w, "- the scale goals are stated at N=%d, which this run did not measure\n", goalN)
	}
	if has(1) {
		x := ratio(med(rsApply, 1), med(classicUp, 1))
		fmt.Fprintf(w, "- apply, N=1: %.2f× the classic script (goal ≤ 1.0×) — %s; this binary's start alone (`rsprep version`) is %.2f× of it\n",
			x, verdict(x <= 1), ratio(med(rsStart, 1), med(classicUp, 1)))
	}
}

func ratio(a, b time.Duration) float64 { return float64(a) / float64(b) }

func wallCell(s stats) string {
	return fmt.Sprintf("%s (%s–%s)", dur(s.med), dur(s.lo), dur(s.hi))
}

func cpuCell(s stats) string { return dur(s.user) + " / " + dur(s.sys) }

// dur prints a duration with three significant digits.
func dur(d time.Duration) string {
	ms := float64(d) / float64(time.Millisecond)
	switch {
	case ms >= 1000:
		return fmt.Sprintf("%.2f s", ms/1000)
	case ms >= 100:
		return fmt.Sprintf("%.0f ms", ms)
	case ms >= 10:
		return fmt.Sprintf("%.1f ms", ms)
	}
	return fmt.Sprintf("%.2f ms", ms)
}

func mib(kb int64) string { return fmt.Sprintf("%.1f MiB", float64(kb)/1024) }
