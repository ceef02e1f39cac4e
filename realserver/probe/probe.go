package probe

import (
	"fmt"
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
	capt, err := openCapture(c.Interface)
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
	r := runner{Config: c, capt: capt, snd: snd, port: uint16(32768 + rand.IntN(28000))}
	for range c.Count {
		if err := r.round(targets); err != nil {
			return nil, err
		}
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

type runner struct {
	Config
	capt *capture
	snd  *sender
	port uint16 // the last source port handed out
}

// nextPort gives each probe its own source port, so answers find their
// probe (and real server) by port alone.
func (r *runner) nextPort() uint16 {
	r.port++
	if r.port < 32768 || r.port > 60999 {
		r.port = 32768
	}
	return r.port
}

// round sends one SYN to every reachable target and collects the answers
// until each has one or the timeout ends.
func (r *runner) round(targets []*target) error {
	inflight := map[uint16]*probe{}
	for _, t := range targets {
		if t.err != nil {
			continue
		}
		p := &probe{t: t, seq: rand.Uint32()}
		port := r.nextPort()
		if err := r.send(t, port, p.seq, flagSYN); err != nil {
			return fmt.Errorf("sending a probe to %s: %w", t.rip, err)
		}
		p.sent = time.Now()
		inflight[port] = p
	}
	pending := len(inflight)
	deadline := time.Now().Add(r.Timeout)
	buf := make([]byte, 65536)
	for pending > 0 {
		etherType, pkt, at, ok, err := r.capt.next(buf, deadline)
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		rep, ok := parseReply(etherType, pkt)
		if !ok {
			continue
		}
		for _, p := range r.match(rep, inflight) {
			p.done = true
			pending--
			if err := r.record(p, rep, at); err != nil {
				return err
			}
		}
	}
	// A real server whose SYN-ACK never made it back (a broken return
	// path) holds a half-open connection and retransmits for a minute: an
	// RST at the next sequence number (ISN+1, what it expects) ends it.
	// Where no connection exists, the real server ignores it.
	for port, p := range inflight {
		if !p.done {
			if err := r.send(p.t, port, p.seq+1, flagRST); err != nil {
				return fmt.Errorf("resetting the probe connection on %s: %w", p.t.rip, err)
			}
		}
	}
	return nil
}

// match finds the probes a reply answers. TCP: by port, from VIP:port,
// acknowledging the probe's SYN. ICMP: by the port in the quote; when the
// quote is too short for it, every probe still waiting on that real server.
func (r *runner) match(rep reply, inflight map[uint16]*probe) []*probe {
	if rep.kind != kindICMP {
		p := inflight[rep.port]
		if p == nil || p.done || rep.from != p.t.vip.Addr() || rep.sport != p.t.vip.Port() || rep.ack != p.seq+1 {
			return nil
		}
		return []*probe{p}
	}
	if rep.hasPort {
		p := inflight[rep.port]
		if p == nil || p.done || rep.quotedDst != r.outerDst(p.t) {
			return nil
		}
		return []*probe{p}
	}
	var ps []*probe
	for _, p := range inflight {
		if !p.done && r.Encap != DR && rep.quotedDst == p.t.rip {
			ps = append(ps, p)
		}
	}
	return ps
}

// outerDst is where a probe's outermost header goes.
func (r *runner) outerDst(t *target) netip.Addr {
	if r.Encap == DR {
		return t.vip.Addr()
	}
	return t.rip
}

// record notes an answer; a SYN-ACK is answered with RST at once (seq =
// its ack), so that the real server keeps no half-open connection.
func (r *runner) record(p *probe, rep reply, at time.Time) error {
	t := p.t
	var st State
	switch rep.kind {
	case kindSynAck:
		st = Open
		t.mss = int(rep.mss)
		if err := r.send(t, rep.port, rep.ack, flagRST); err != nil {
			return fmt.Errorf("resetting the probe connection on %s: %w", t.rip, err)
		}
	case kindRST:
		st = Closed
	default:
		st = Unreachable
		t.icmp = rep
	}
	t.answers[st]++
	t.rtts[st] = append(t.rtts[st], at.Sub(p.sent))
	return nil
}

// send puts one TCP segment to t on the wire, the way IPVS forwards it.
func (r *runner) send(t *target, port uint16, seq uint32, flags uint8) error {
	s := segment{src: t.path.innerSrc, dst: t.vip.Addr(), sport: port, dport: t.vip.Port(), seq: seq, flags: flags}
	if flags&flagSYN != 0 {
		s.mss = 1460
		if s.dst.Is6() {
			s.mss = 1440
		}
	}
	o := t.path.outerSrc
	switch r.Encap {
	case DR:
		return r.snd.frame(t.path.link, t.path.ripMAC, ethernetFrame(t.path.ripMAC, t.path.linkMAC, s.packet()))
	case IPIP:
		return r.snd.ip(t.rip, ipipPacket(o, t.rip, s))
	case GRE:
		return r.snd.ip(t.rip, grePacket(o, t.rip, s))
	default:
		return r.snd.ip(t.rip, guePacket(o, t.rip, r.Port, s))
	}
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
