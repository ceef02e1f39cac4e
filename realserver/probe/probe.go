package probe

import (
	"cmp"
	"log/slog"
	"math/rand/v2"
	"net/netip"
	"slices"
	"time"
)

// State is the verdict on one real server's VIP path.
type State string

const (
	Open        State = "open"        // SYN-ACK from VIP:port
	Closed      State = "closed"      // RST from VIP:port: reached, nothing listening
	Unreachable State = "unreachable" // an ICMP error about the probe
	Lost        State = "lost"        // no answer within the timeout
)

// Result is what one VIP through one real server answered.
type Result struct {
	RIP      netip.Addr
	VIP      netip.AddrPort
	Encap    Encap
	State    State
	RTT      time.Duration // median round trip of the answers of State
	MSS      int           // open: the MSS the real server offered
	ICMPType int           // unreachable: the ICMP(v6) type and code
	ICMPCode int
	ICMPFrom netip.Addr // unreachable: who sent the error
	Sent     int
	Answered int
	Detail   string // why a probe could not even be sent
}

// target is one VIP through one real server, and what came back so far.
type target struct {
	rip  netip.Addr
	vip  netip.AddrPort
	path *path
	err  error

	answers map[State]int
	rtts    map[State][]time.Duration
	mss     int
	icmp    reply
}

// probe is one SYN in flight.
type probe struct {
	t    *target
	seq  uint32
	sent time.Time
	done bool
}

// Run probes every VIP through every real server, all at once: a run of
// many real servers takes about Count timeouts, not one per server. An
// error means nothing could be sent (bad input, no privilege); a real
// server that cannot be reached is a result, not an error.
func Run(c Config) ([]Result, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	capt, err := openCapture(c.Interface, c.VIPs)
	if err != nil {
		return nil, err
	}
	defer capt.close()
	snd, err := openSender(c.Encap, c.Interface)
	if err != nil {
		return nil, err
	}
	defer snd.close()

	targets := c.targets()
	if c.Encap == DR {
		paths := map[netip.Addr]*path{}
		for _, t := range targets {
			if t.err == nil {
				paths[t.rip] = t.path
			}
		}
		errs := resolveMACs(c.RIPs, paths, c.Timeout)
		for _, t := range targets {
			if t.err == nil && errs[t.rip] != nil {
				t.err = errs[t.rip]
			}
		}
	}
	r := runner{Config: c, capt: capt, snd: snd, port: uint16(portFirst + rand.IntN(portSpan))}
	for range c.Count {
		if err := r.round(targets); err != nil {
			return nil, err
		}
	}
	st, err := capt.stats()
	if err != nil {
		return nil, err
	}
	log := cmp.Or(c.Log, slog.New(slog.DiscardHandler))
	log.Debug("capture", "received", st.Received, "dropped", st.Dropped)
	if st.Dropped > 0 {
		log.Warn("the capture socket's buffer overflowed: answers may have been lost", "dropped", st.Dropped, "received", st.Received)
	}
	out := make([]Result, len(targets))
	for i, t := range targets {
		out[i] = t.result(c)
	}
	return out, nil
}

// targets pairs every VIP with every real server and finds each path.
func (c Config) targets() []*target {
	var ts []*target
	paths := map[[2]netip.Addr]*path{}
	errs := map[[2]netip.Addr]error{}
	for _, vip := range c.VIPs {
		for _, rip := range c.RIPs {
			key := [2]netip.Addr{rip, vip.Addr()}
			if _, seen := paths[key]; !seen {
				p, err := pathTo(rip, vip.Addr(), c.Encap, c.Interface)
				paths[key], errs[key] = &p, err
			}
			ts = append(ts, &target{rip: rip, vip: vip, path: paths[key], err: errs[key],
				answers: map[State]int{}, rtts: map[State][]time.Duration{}})
		}
	}
	return ts
}

// result sums a target's rounds up. One SYN-ACK makes the path open (the
// others were lost on the way, which --count is there to ride out); else
// any RST makes it closed, else any ICMP error unreachable, else lost.
func (t *target) result(c Config) Result {
	res := Result{RIP: t.rip, VIP: t.vip, Encap: c.Encap, State: Lost, Sent: c.Count}
	if t.err != nil {
		res.Sent, res.Detail = 0, t.err.Error()
		return res
	}
	for _, st := range []State{Open, Closed, Unreachable} {
		res.Answered += t.answers[st]
	}
	for _, st := range []State{Open, Closed, Unreachable} {
		if t.answers[st] > 0 {
			res.State = st
			rtts := slices.Clone(t.rtts[st])
			slices.Sort(rtts)
			res.RTT = rtts[len(rtts)/2]
			break
		}
	}
	switch res.State {
	case Open:
		res.MSS = t.mss
	case Unreachable:
		res.ICMPType, res.ICMPCode, res.ICMPFrom = int(t.icmp.icmpType), int(t.icmp.icmpCod), t.icmp.from
	}
	return res
}
