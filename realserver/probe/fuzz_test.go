package probe

import "testing"

// parseReply reads whatever arrives on the director's links: it must never
// panic or read past the packet, and what it accepts must be an answer.
func FuzzParseReply(f *testing.F) {
	me, rip, vip := a("10.0.0.1"), a("10.0.0.11"), a("192.168.79.180")
	me6, rip6 := a("2001:db8::1"), a("2001:db8::11")
	syn := segment{src: me, dst: vip, sport: 40000, dport: 80, seq: 7, flags: flagSYN, mss: 1460}
	f.Add(uint16(etherIPv4), answer(vip, me, 80, 40000, 1, 8, flagSYN|flagACK, 1460))
	f.Add(uint16(etherIPv4), icmpError(rip, me, 3, 3, ipipPacket(me, rip, syn), 0))
	f.Add(uint16(etherIPv4), icmpError(rip, me, 3, 3, guePacket(me, rip, 6080, syn), 0))
	f.Add(uint16(etherIPv4), icmpError(rip, me, 3, 3, grePacket(me, rip, syn), 36))
	f.Add(uint16(etherIPv6), icmpError(rip6, me6, 1, 4, ipipPacket(me6, rip6, syn), 0))
	f.Fuzz(func(t *testing.T, etherType uint16, b []byte) {
		r, ok := parseReply(etherType, b)
		if !ok {
			return
		}
		if r.kind < kindSynAck || r.kind > kindICMP || !r.from.IsValid() {
			t.Fatalf("accepted %+v", r)
		}
		if r.kind == kindICMP && !r.quotedDst.IsValid() {
			t.Fatalf("an ICMP error without the quoted destination: %+v", r)
		}
	})
}

// mssOption walks TCP options of any shape without looping or panicking.
func FuzzMSSOption(f *testing.F) {
	f.Add([]byte{2, 4, 5, 0xb4})
	f.Add([]byte{1, 1, 8, 10, 0, 0, 0, 0, 0, 0, 0, 0, 2, 4, 1, 0})
	f.Fuzz(func(t *testing.T, opts []byte) { mssOption(opts) })
}
