package main

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/rsprep/rsprep/realserver/drain"
	"github.com/rsprep/rsprep/realserver/input"
)

// drainPoll is how often a drain reads the connections to the VIPs.
const drainPoll = 100 * time.Millisecond

// drainPairs is what drain asks for: each VIP of the mode, probed from --dip.
func (r *modeRun) drainPairs() ([]drain.Pair, error) {
	if r.name == "nat" {
		return nil, input.Errorf("drain is for dr and tun: it fails the director's rsprep probe, which sends what IPVS-DR and -TUN send; a NAT real server has no VIP to drain")
	}
	if r.o.dip == "" {
		return nil, input.Errorf("drain needs --dip, the director's address its rsprep probe comes from: drain fails exactly the probes from it, and no client traffic")
	}
	dip, err := parseDIP(r.o.dip)
	if err != nil {
		return nil, err
	}
	from := []netip.Addr{dip}
	for _, f := range r.o.probeFrom {
		a, err := netip.ParseAddr(strings.TrimSpace(f))
		if err != nil {
			return nil, input.Errorf("--probe-from %q is not an IP address", f)
		}
		if err := input.CheckUnicast("--probe-from", a); err != nil {
			return nil, err
		}
		if !slices.Contains(from, a) {
			from = append(from, a)
		}
	}
	pairs, err := drain.Pairs(r.mode.VIPList(), from)
	if err != nil {
		return nil, input.Errorf("%v", err)
	}
	if r.o.drainQuiet <= 0 {
		return nil, input.Errorf("--quiet %v: want a duration longer than the director's delay_loop plus its check's timeout, like 5s", r.o.drainQuiet)
	}
	if r.o.drainTimeout < 0 {
		return nil, input.Errorf("--timeout %v: want 0 (no bound) or a duration, like 10m", r.o.drainTimeout)
	}
	return pairs, nil
}

// notPrepared is drain on a host that verify does not pass: exit 1.
type notPrepared struct{ mode, why string }

func (e notPrepared) Error() string {
	return fmt.Sprintf("this host is not prepared for %s with these VIPs (verify %s: %s): run rsprep %s first; nothing was changed", e.mode, e.mode, e.why, e.mode)
}

// drain makes the director's probe of this real server fail for each
// VIP, then waits until the director stops sending new connections and
// the established ones have ended (see package drain). The namespace's
// lock is held only while the rules change; the drain's own lock (one
// drain at a time) for the whole wait.
func (r *modeRun) drain() int {
	pairs, err := r.drainPairs()
	if err != nil {
		return r.fail(err)
	}
	rules, err := drain.Open()
	if err != nil {
		return r.fail(err)
	}
	defer rules.Close()
	turnWait := r.o.drainTimeout
	if turnWait == 0 {
		turnWait = 1<<63 - 1
	}
	start := time.Now()
	turn, err := r.state.LockDrain(turnWait)
	if err != nil {
		return r.fail(err)
	}
	defer turn.Unlock()
	key := drainKey(pairs)
	again, err := r.startDrain(rules, pairs, key, turn.Finished())
	if err != nil {
		if errors.As(err, new(notPrepared)) {
			fmt.Fprintf(r.stderr, "rsprep: %s\n", oneLine(err))
			return exitDrift
		}
		return r.fail(err)
	}
	if err := turn.SetFinished(""); err != nil {
		return r.fail(err)
	}
	p, code := r.waitDrained(rules, pairs, again, start)
	if code != exitOK {
		return code
	}
	if err := turn.SetFinished(key); err != nil {
		return r.fail(err)
	}
	took := time.Since(start).Round(10 * time.Millisecond)
	if again {
		fmt.Fprintf(r.stdout, "already drained: the director's probes from %s fail, no connection is open\n", probeSources(pairs))
		return exitOK
	}
	r.log.Info("drained", "vips", len(r.mode.VIPList()), "took", took.String(), "new_connections", p.NewConnections())
	fmt.Fprintf(r.stdout, "drained in %s: the director's probes from %s fail, %d new connections came meanwhile, none is open\n",
		took, probeSources(pairs), p.NewConnections())
	return exitOK
}

// waitDrained polls the connections to the VIPs until the drain is over
// (see drain.Progress), --timeout passes, or the rules go away. With
// again, the director is known to have stopped: only open connections
// are waited for.
func (r *modeRun) waitDrained(rules *drain.Rules, pairs []drain.Pair, again bool, start time.Time) (*drain.Progress, int) {
	p := &drain.Progress{Quiet: r.o.drainQuiet}
	if again {
		p.Quiet = 0
	}
	vips := r.mode.VIPList()
	conns, err := rules.Connections(vips)
	if err != nil {
		return nil, r.fail(err)
	}
	p.Start(time.Now(), conns)
	for now := time.Now(); !p.Done(now); now = time.Now() {
		if r.o.drainTimeout > 0 && now.Sub(start) >= r.o.drainTimeout {
			fmt.Fprintf(r.stderr, "rsprep: drain: not done after %s: %s (the host stays drained; rsprep undrain ends it)\n", r.o.drainTimeout, p.Why(now))
			return nil, exitDrift
		}
		time.Sleep(drainPoll)
		have, err := rules.List()
		if err == nil {
			conns, err = rules.Connections(vips)
		}
		if err != nil {
			return nil, r.fail(err)
		}
		if !drain.AllIn(pairs, have) {
			fmt.Fprintln(r.stderr, "rsprep: drain: the drain rules were removed while it waited (rsprep undrain or down): not drained")
			return nil, exitDrift
		}
		p.Observe(time.Now(), conns)
	}
	return p, exitOK
}

// startDrain checks, under the namespace's lock, that the mode holds and
// puts the drain rules in place; again reports that they were in place
// already, left by a drain of the same pairs that finished.
func (r *modeRun) startDrain(rules *drain.Rules, pairs []drain.Pair, key, finished string) (again bool, err error) {
	view, unlock, err := r.state.BeginWrite(r.host, r.mode.Preflight, r.o.lockWait)
	if err != nil {
		return false, err
	}
	defer unlock()
	found, err := view.Verify(r.mode.Invariants())
	if err != nil {
		return false, err
	}
	var failing []string
	for _, f := range found {
		if !f.OK {
			failing = append(failing, f.ID+" "+f.Subject)
		}
	}
	if len(failing) > 0 {
		return false, notPrepared{r.name, strings.Join(failing, ", ") + " failing"}
	}
	added, err := rules.Add(pairs)
	if err != nil {
		return false, err
	}
	for _, p := range added {
		r.log.Info("drain: the director's probe fails from now on", "rule", p.Rule())
	}
	return len(added) == 0 && finished == key, nil
}

// probeSources lists the director addresses of pairs, once each.
func probeSources(pairs []drain.Pair) string {
	var s []string
	for _, p := range pairs {
		if !slices.Contains(s, p.DIP.String()) {
			s = append(s, p.DIP.String())
		}
	}
	return strings.Join(s, ", ")
}

// drainKey names a set of pairs, for the drain lock's "finished" note.
func drainKey(pairs []drain.Pair) string {
	var s []string
	for _, p := range pairs {
		s = append(s, p.String())
	}
	slices.Sort(s)
	return strings.Join(s, "\n") + "\n"
}
