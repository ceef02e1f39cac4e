package probe

import (
	"net/netip"
	"testing"
	"time"
)

func newTarget(rip string, vip netip.AddrPort) *target {
	return &target{rip: a(rip), vip: vip, answers: map[State]int{}, rtts: map[State][]time.Duration{}}
}

// Answers find their probe by port, and only a real answer to it counts.
func TestMatchAnswersToProbes(t *testing.T) {
	vip := netip.MustParseAddrPort("192.168.79.180:80")
	t1, t2 := newTarget("10.0.0.11", vip), newTarget("10.0.0.12", vip)
	inflight := func() map[uint16]*probe {
		return map[uint16]*probe{40000: {t: t1, seq: 100}, 40001: {t: t2, seq: 200}}
	}
	ipip := &runner{Config: Config{Encap: IPIP}}
	dr := &runner{Config: Config{Encap: DR}}
	for _, c := range []struct {
		name string
		r    *runner
		rep  reply
		want []string // RIPs of the matched probes
	}{
		{"syn-ack", dr, reply{kind: kindSynAck, from: vip.Addr(), sport: 80, port: 40001, ack: 201}, []string{"10.0.0.12"}},
		{"wrong ack", dr, reply{kind: kindSynAck, from: vip.Addr(), sport: 80, port: 40001, ack: 200}, nil},
		{"wrong source address", dr, reply{kind: kindRST, from: a("10.0.0.12"), sport: 80, port: 40001, ack: 201}, nil},
		{"wrong source port", dr, reply{kind: kindRST, from: vip.Addr(), sport: 81, port: 40001, ack: 201}, nil},
		{"unknown port", dr, reply{kind: kindRST, from: vip.Addr(), sport: 80, port: 40002, ack: 201}, nil},
		{"icmp with port, dr", dr, reply{kind: kindICMP, quotedDst: vip.Addr(), port: 40000, hasPort: true}, []string{"10.0.0.11"}},
		{"icmp with port, ipip", ipip, reply{kind: kindICMP, quotedDst: a("10.0.0.11"), port: 40000, hasPort: true}, []string{"10.0.0.11"}},
		{"icmp about another packet", ipip, reply{kind: kindICMP, quotedDst: a("10.0.0.99"), port: 40000, hasPort: true}, nil},
		{"icmp, short quote, ipip: by RIP", ipip, reply{kind: kindICMP, quotedDst: a("10.0.0.12")}, []string{"10.0.0.12"}},
		{"icmp, short quote, dr: cannot tell", dr, reply{kind: kindICMP, quotedDst: vip.Addr()}, nil},
	} {
		var got []string
		for _, p := range c.r.match(c.rep, inflight()) {
			got = append(got, p.t.rip.String())
		}
		if len(got) != len(c.want) || (len(got) == 1 && got[0] != c.want[0]) {
			t.Errorf("%s: matched %v, want %v", c.name, got, c.want)
		}
	}
	done := inflight()
	done[40001].done = true
	if got := dr.match(reply{kind: kindSynAck, from: vip.Addr(), sport: 80, port: 40001, ack: 201}, done); got != nil {
		t.Errorf("a second answer to a done probe matched: %v", got)
	}
}

// One SYN-ACK in --count rounds makes a real server open; else RST makes
// it closed, else ICMP unreachable, else lost.
func TestResultPrecedence(t *testing.T) {
	vip := netip.MustParseAddrPort("192.168.79.180:80")
	c := Config{Encap: DR, Count: 3}
	for _, tc := range []struct {
		answers map[State]int
		want    State
	}{
		{map[State]int{}, Lost},
		{map[State]int{Unreachable: 1}, Unreachable},
		{map[State]int{Unreachable: 1, Closed: 1}, Closed},
		{map[State]int{Closed: 2, Open: 1}, Open},
	} {
		tg := newTarget("10.0.0.11", vip)
		for st, n := range tc.answers {
			tg.answers[st] = n
			for i := range n {
				tg.rtts[st] = append(tg.rtts[st], time.Duration(i+1)*time.Millisecond)
			}
		}
		tg.mss = 1400
		r := tg.result(c)
		if r.State != tc.want || r.Sent != 3 {
			t.Errorf("answers %v: %s (sent %d), want %s", tc.answers, r.State, r.Sent, tc.want)
		}
		if r.State == Open && r.MSS != 1400 || r.State != Open && r.MSS != 0 {
			t.Errorf("answers %v: MSS %d", tc.answers, r.MSS)
		}
	}
	tg := newTarget("10.0.0.11", vip)
	tg.err = errString("10.0.0.11 does not answer ARP/ND")
	if r := tg.result(c); r.State != Lost || r.Sent != 0 || r.Detail == "" {
		t.Errorf("a real server that could not be probed: %+v", r)
	}
}

type errString string

func (e errString) Error() string { return string(e) }
