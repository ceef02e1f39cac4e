package main

import (
	"cmp"
	"fmt"
	"os"
	"strings"
	"time"
)

// contender is one side of a run: it gets a fresh namespace and adds its
// samples to res.
type contender func(ns string, n int, res results) error

// measureAll runs every contender runs times for each VIP count. Within a
// run the contenders take turns, in an order that rotates from run to run.
func (b *bench) measureAll(sizes []int, runs int) (results, error) {
	res := results{}
	for _, n := range sizes {
		ips := vips(n)
		addFile, err := writeBatch(b.tmp, "add", ips)
		if err != nil {
			return nil, err
		}
		delFile, err := writeBatch(b.tmp, "del", ips)
		if err != nil {
			return nil, err
		}
		sides := []contender{b.rsprepSide(b.rsprep, "rsprep", ips), b.ipSide(addFile, delFile)}
		if b.baseline != "" {
			sides = append(sides, b.rsprepSide(b.baseline, "baseline", ips))
		}
		if n == 1 {
			sides = append(sides, b.classicSide(ips[0]))
		}
		for r := 0; r < runs; r++ {
			fmt.Fprintf(os.Stderr, "compare: N=%d run %d/%d (load %s)\n", n, r+1, runs, loadavg())
			for i := range sides {
				if err := b.inFreshNS(sides[(r+i)%len(sides)], n, res); err != nil {
					return nil, fmt.Errorf("N=%d run %d: %w", n, r+1, err)
				}
			}
		}
	}
	return res, nil
}

// inFreshNS runs one contender in a namespace of its own, deleted after.
// Each contender ends with lo as it found it, so deleting it is cheap; the
// short pause lets the kernel's asynchronous namespace work settle before
// the next timed step.
func (b *bench) inFreshNS(c contender, n int, res results) error {
	ns, err := b.newNS()
	if err != nil {
		return err
	}
	defer func() {
		b.delNS(ns)
		time.Sleep(100 * time.Millisecond)
	}()
	time.Sleep(100 * time.Millisecond)
	return c(ns, n, res)
}

// record times one command and files its sample under s.
func (b *bench) record(res results, s step, n int, ns string, nullStderr bool, args ...string) error {
	smp, stderr, err := b.timed(ns, nullStderr, args...)
	if err != nil {
		return fmt.Errorf("%s: %w", s, err)
	}
	if strings.HasSuffix(string(s), " re-apply") && stderr != "" {
		// A second apply must change nothing, so log nothing at info level.
		return fmt.Errorf("%s was not a no-op: %s", s, stderr)
	}
	res[key{s, n}] = append(res[key{s, n}], smp)
	return nil
}

// rsprepSide: apply (cold), apply again (no-op), verify, down; then apply
// once more with stderr to /dev/null (what the per-change log lines cost),
// and down again, untimed; at N=1, last, the start alone (version). who
// is "rsprep", or "baseline" for -baseline.
func (b *bench) rsprepSide(bin, who string, ips []string) contender {
	var vipArgs []string
	for i := 0; i < len(ips); i += vipsPerFlag {
		vipArgs = append(vipArgs, "--vip", strings.Join(ips[i:min(i+vipsPerFlag, len(ips))], ","))
	}
	cmd := func(verb ...string) []string { return append(append([]string{bin}, verb...), vipArgs...) }
	return func(ns string, n int, res results) error {
		for _, s := range []struct {
			step       step // "" is untimed
			args       []string
			nullStderr bool
			lo         int // IPv4 addresses on lo after it: 127.0.0.1 and the VIPs
		}{
			{as(who, rsApply), cmd("dr"), false, n + 1},
			{as(who, rsReapply), cmd("dr"), false, n + 1},
			{as(who, rsVerify), cmd("verify", "dr"), false, n + 1},
			{as(who, rsDown), cmd("down", "dr"), false, 1},
			{as(who, rsApplyNull), cmd("dr"), true, n + 1},
			{"", cmd("down", "dr"), true, 1},
		} {
			var err error
			if s.step == "" {
				_, _, err = b.timed(ns, true, s.args...)
			} else {
				err = b.record(res, s.step, n, ns, s.nullStderr, s.args...)
			}
			if err == nil {
				err = expectLo(ns, cmp.Or(string(s.step), who+" down"), s.lo)
			}
			if err != nil {
				return err
			}
		}
		if n == 1 {
			// What a run costs before it does anything (exec, the Go
			// runtime, package init): the part of N=1 that no change to
			// the engine can take away. Timed last, after the same pause
			// as every contender's first step (inFreshNS), so that it
			// starts as cold as apply and the classic script do.
			time.Sleep(100 * time.Millisecond)
			return b.record(res, as(who, rsStart), n, ns, false, bin, "version")
		}
		return nil
	}
}

// ipSide: ipbatch.sh up (six sysctl writes and ip -batch adding every
// VIP), ip -4 addr show dev lo (the floor for reading them back), and
// ipbatch.sh down.
func (b *bench) ipSide(addFile, delFile string) contender {
	return func(ns string, n int, res results) error {
		if err := b.record(res, ipApply, n, ns, false, "sh", b.ipbatch, "up", addFile); err != nil {
			return err
		}
		if err := expectLo(ns, string(ipApply), n+1); err != nil {
			return err
		}
		if err := b.record(res, ipShow, n, ns, false, "ip", "-4", "addr", "show", "dev", "lo"); err != nil {
			return err
		}
		if err := b.record(res, ipDown, n, ns, false, "sh", b.ipbatch, "down", delFile); err != nil {
			return err
		}
		return expectLo(ns, string(ipDown), 1)
	}
}

// classicSide: the tutorial script's start and stop, for one VIP.
func (b *bench) classicSide(vip string) contender {
	return func(ns string, n int, res results) error {
		if err := b.record(res, classicUp, n, ns, false, "sh", b.classic, "start", vip); err != nil {
			return err
		}
		if err := expectLo(ns, string(classicUp), 2); err != nil {
			return err
		}
		if err := b.record(res, classicDown, n, ns, false, "sh", b.classic, "stop", vip); err != nil {
			return err
		}
		return expectLo(ns, string(classicDown), 1)
	}
}
