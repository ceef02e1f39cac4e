package probe

import (
	"encoding/binary"
	"net/netip"
	"testing"
)

// answer builds what a real server sends back: a TCP segment from VIP:port
// to the prober, with an MSS option when mss > 0.
func answer(from, to netip.Addr, sport, port uint16, seq, ack uint32, flags uint8, mss uint16) []byte {
	s := segment{src: from, dst: to, sport: sport, dport: port, seq: seq, flags: flags, mss: mss}
	p := s.packet()
	hl := 20
	if from.Is6() {
		hl = 40
	}
	binary.BigEndian.PutUint32(p[hl+8:], ack)
	return p
}

// icmpError quotes the start of a probe the way the kernel does (the whole
// packet up to its limit, or just 8 bytes past the header with quoteLen).
func icmpError(from, to netip.Addr, typ, code uint8, probe []byte, quoteLen int) []byte {
	if quoteLen > 0 && quoteLen < len(probe) {
		probe = probe[:quoteLen]
	}
	m := append([]byte{typ, code, 0, 0, 0, 0, 0, 0}, probe...)
	proto := uint8(protoICMP)
	if from.Is6() {
		proto = protoICMPv6
	}
	return ipPacket(from, to, proto, m)
}

func etherTypeOf(b []byte) uint16 {
	if b[0]>>4 == 6 {
		return etherIPv6
	}
	return etherIPv4
}

func TestParseReply(t *testing.T) {
	vip, me, rip := a("192.168.79.180"), a("10.0.0.1"), a("10.0.0.11")
	vip6, me6, rip6 := a("2001:db8::180"), a("2001:db8::1"), a("2001:db8::11")
	syn := segment{src: me, dst: vip, sport: 40000, dport: 80, seq: 7, flags: flagSYN, mss: 1460}
	syn6 := segment{src: me6, dst: vip6, sport: 40001, dport: 443, seq: 7, flags: flagSYN, mss: 1440}
	for _, c := range []struct {
		name string
		pkt  []byte
		want reply
		ok   bool
	}{
		{"syn-ack with mss", answer(vip, me, 80, 40000, 99, 8, flagSYN|flagACK, 1234), reply{kind: kindSynAck, from: vip, sport: 80, port: 40000, seq: 99, ack: 8, mss: 1234}, true},
		{"ipv6 syn-ack", answer(vip6, me6, 443, 40001, 99, 8, flagSYN|flagACK, 1440), reply{kind: kindSynAck, from: vip6, sport: 443, port: 40001, seq: 99, ack: 8, mss: 1440}, true},
		{"rst|ack", answer(vip, me, 80, 40000, 0, 8, flagRST|flagACK, 0), reply{kind: kindRST, from: vip, sport: 80, port: 40000, ack: 8}, true},
		{"a plain ack is no answer", answer(vip, me, 80, 40000, 0, 8, flagACK, 0), reply{}, false},
		{"a syn is no answer", answer(vip, me, 80, 40000, 0, 8, flagSYN, 0), reply{}, false},
		{"dr: icmp quoting the syn", icmpError(rip, me, 3, 3, syn.packet(), 28),
			reply{kind: kindICMP, from: rip, icmpType: 3, icmpCod: 3, quotedDst: vip, port: 40000, hasPort: true}, true},
		{"ipip: port unreachable quoting all (tunl0 down)", icmpError(rip, me, 3, 3, ipipPacket(me, rip, syn), 0),
			reply{kind: kindICMP, from: rip, icmpType: 3, icmpCod: 3, quotedDst: rip, port: 40000, hasPort: true}, true},
		{"ipip: quote of 8 bytes past the outer header", icmpError(rip, me, 3, 2, ipipPacket(me, rip, syn), 28),
			reply{kind: kindICMP, from: rip, icmpType: 3, icmpCod: 2, quotedDst: rip}, true},
		{"gre: port from the inner syn", icmpError(rip, me, 3, 3, grePacket(me, rip, syn), 0),
			reply{kind: kindICMP, from: rip, icmpType: 3, icmpCod: 3, quotedDst: rip, port: 40000, hasPort: true}, true},
		{"gue: the UDP source port is the probe's", icmpError(rip, me, 3, 3, guePacket(me, rip, 6080, syn), 28),
			reply{kind: kindICMP, from: rip, icmpType: 3, icmpCod: 3, quotedDst: rip, port: 40000, hasPort: true}, true},
		{"gue: through to the inner syn", icmpError(rip, me, 3, 3, guePacket(me, rip, 6080, syn), 0),
			reply{kind: kindICMP, from: rip, icmpType: 3, icmpCod: 3, quotedDst: rip, port: 40000, hasPort: true}, true},
		{"icmpv6 quoting ipv6-in-ipv6", icmpError(rip6, me6, 1, 4, ipipPacket(me6, rip6, syn6), 0),
			reply{kind: kindICMP, from: rip6, icmpType: 1, icmpCod: 4, quotedDst: rip6, port: 40001, hasPort: true}, true},
		{"icmp echo reply is no answer", ipPacket(rip, me, protoICMP, make([]byte, 8)), reply{}, false},
		{"icmpv6 neighbour advert is no answer", ipPacket(rip6, me6, protoICMPv6, append([]byte{136}, make([]byte, 23)...)), reply{}, false},
		{"udp is no answer", ipPacket(rip, me, protoUDP, make([]byte, 8)), reply{}, false},
	} {
		got, ok := parseReply(etherTypeOf(c.pkt), c.pkt)
		if ok != c.ok || got != c.want {
			t.Errorf("%s: got %+v, %v; want %+v, %v", c.name, got, ok, c.want, c.ok)
		}
	}
}

func TestParseReplyRefusesShortAndOdd(t *testing.T) {
	good := answer(a("192.168.79.180"), a("10.0.0.1"), 80, 40000, 1, 2, flagSYN|flagACK, 1460)
	for n := 0; n < len(good); n++ {
		if r, ok := parseReply(etherIPv4, good[:n]); ok && n < 40 {
			t.Errorf("a %d-byte packet parsed as %+v", n, r)
		}
	}
	frag := append([]byte(nil), good...)
	frag[7] = 1 // a later fragment: not a TCP header
	if _, ok := parseReply(etherIPv4, frag); ok {
		t.Error("a non-first fragment parsed as an answer")
	}
	if _, ok := parseReply(etherIPv6, good); ok {
		t.Error("an IPv4 packet parsed as IPv6")
	}
	if _, ok := parseReply(0x0806, good); ok {
		t.Error("an ARP frame parsed as an answer")
	}
}

func TestMSSOption(t *testing.T) {
	for _, c := range []struct {
		opts []byte
		want uint16
	}{
		{[]byte{2, 4, 5, 0xb4}, 1460},
		{[]byte{1, 1, 4, 2, 2, 4, 4, 0xd2}, 1234},  // NOPs and SACK-permitted first
		{[]byte{0, 2, 4, 5, 0xb4}, 0},              // after end of options
		{[]byte{8, 10, 0, 0, 0, 0, 0, 0, 0, 0}, 0}, // timestamps only
		{[]byte{2, 4, 5}, 0},                       // cut short
		{[]byte{5, 0, 2, 4, 1, 1}, 0},              // a length of 0 would loop
	} {
		if got := mssOption(c.opts); got != c.want {
			t.Errorf("mssOption(% x) = %d, want %d", c.opts, got, c.want)
		}
	}
}
