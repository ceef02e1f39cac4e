package probe

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"time"
)

// runner sends rounds of probes and matches what comes back.
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
	if r.port < portFirst || r.port > portLast {
		r.port = portFirst
	}
	return r.port
}

// round probes every target once, in waves of at most portSpan targets:
// within a wave every probe has its own source port.
func (r *runner) round(targets []*target) error {
	for wave := range slices.Chunk(targets, portSpan) {
		if err := r.wave(wave); err != nil {
			return err
		}
	}
	return nil
}

// wave sends one SYN to every reachable target and collects the answers
// until each has one or the timeout ends.
func (r *runner) wave(targets []*target) error {
	inflight := map[uint16]*probe{}
	for _, t := range targets {
		if t.err != nil {
			continue
		}
		p := &probe{t: t, seq: rand.Uint32()}
		port := r.nextPort()
		if err := r.send(t, port, p.seq, flagSYN); err != nil {
			var priv *NoPrivilegeError
			if errors.As(err, &priv) {
				return err
			}
			// This real server's fault or its route's (EHOSTUNREACH, a
			// firewall's EPERM): its result, while the others go on.
			t.err = fmt.Errorf("sending the probe: %w", err)
			continue
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
