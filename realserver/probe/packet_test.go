package probe

import (
	"encoding/hex"
	"net"
	"net/netip"
	"strings"
	"testing"
)

var a = netip.MustParseAddr

// syn4 is the probe of 192.168.79.180:80 from 10.0.0.1:40000.
var syn4 = segment{src: a("10.0.0.1"), dst: a("192.168.79.180"), sport: 40000, dport: 80, seq: 0x01020304, flags: flagSYN, mss: 1460}

// The inner packet every IPv4 encapsulation below carries, field by field.
const syn4Hex = "" +
	"4500 002c 0000 4000 4006 206f 0a000001 c0a84fb4" + // IPv4: 44 bytes, DF, TTL 64, TCP, 10.0.0.1 → 192.168.79.180
	"9c40 0050 01020304 00000000 6002 faf0 e241 0000" + // TCP 40000 → 80, seq, no ack, 24-byte header, SYN, window 64240
	"020405b4" // MSS 1460

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Each probe byte for byte. Checksums were checked apart from this code
// (an RFC 1071 sum over header or pseudo-header and segment gives 0xffff),
// and the kernel accepts the DR SYN and RST (test/probe_test.go).
func TestProbePacketsByteForByte(t *testing.T) {
	rst := segment{src: a("10.0.0.1"), dst: a("192.168.79.180"), sport: 40000, dport: 80, seq: 0x0a0b0c0d, flags: flagRST}
	syn6 := segment{src: a("2001:db8::1"), dst: a("2001:db8::180"), sport: 40000, dport: 443, seq: 0x01020304, flags: flagSYN, mss: 1440}
	rip4, rip6 := a("10.0.0.11"), a("2001:db8::11")
	for _, c := range []struct {
		name string
		got  []byte
		want string
	}{
		{"dr syn", syn4.packet(), syn4Hex},
		{"rst (seq = the SYN-ACK's ack, no ack, no options)", rst.packet(), "" +
			"4500 0028 0000 4000 4006 2073 0a000001 c0a84fb4" +
			"9c40 0050 0a0b0c0d 00000000 5004 0000 e2da 0000"},
		{"ipv6 syn", syn6.packet(), "" +
			"6000 0000 0018 06 40 20010db8000000000000000000000001 20010db8000000000000000000000180" + // 24 bytes of TCP, hop limit 64
			"9c40 01bb 01020304 00000000 6002 faf0 9e55 0000 020405a0"}, // MSS 1440
		{"ipip", ipipPacket(a("10.0.0.1"), rip4, syn4), "" +
			"4500 0040 0000 4000 4004 26af 0a000001 0a00000b" + // protocol 4, 10.0.0.1 → 10.0.0.11
			syn4Hex},
		{"gre (keyless)", grePacket(a("10.0.0.1"), rip4, syn4), "" +
			"4500 0044 0000 4000 402f 2680 0a000001 0a00000b" + // protocol 47
			"0000 0800" + // no flags, version 0, IPv4 inside
			syn4Hex},
		{"gue", guePacket(a("10.0.0.1"), rip4, 6080, syn4), "" +
			"4500 004c 0000 4000 4011 2696 0a000001 0a00000b" + // UDP
			"9c40 17c0 0038 0000" + // 40000 → 6080, 56 bytes, no checksum (as IPVS sends it)
			"00 04 0000" + // GUE version 0, hlen 0, proto 4 (IPv4), flags 0
			syn4Hex},
		{"gue over ipv6", guePacket(a("2001:db8::1"), rip6, 6080, syn4), "" +
			"6000 0000 0038 11 40 20010db8000000000000000000000001 20010db8000000000000000000000011" +
			"9c40 17c0 0038 0a72" + // a checksum: UDP over IPv6 must have one
			"00 04 0000" + syn4Hex},
		{"ipv4 in ipv6", ipipPacket(a("2001:db8::1"), rip6, syn4), "" +
			"6000 0000 002c 04 40 20010db8000000000000000000000001 20010db8000000000000000000000011" + // next header 4
			syn4Hex},
		{"ipv6 in gre over ipv4", grePacket(a("10.0.0.1"), rip4, syn6)[20:24], "0000 86dd"},
		{"ipv6 in gue", guePacket(a("10.0.0.1"), rip4, 6080, syn6)[28:32], "00 29 0000"}, // proto 41
		{"dr frame", ethernetFrame(net.HardwareAddr{2, 0, 0, 0, 0, 0x11}, net.HardwareAddr{2, 0, 0, 0, 0, 1}, syn4.packet()),
			"020000000011 020000000001 0800" + syn4Hex},
		{"dr frame ipv6", ethernetFrame(net.HardwareAddr{2, 0, 0, 0, 0, 0x11}, net.HardwareAddr{2, 0, 0, 0, 0, 1}, syn6.packet())[:14],
			"020000000011 020000000001 86dd"},
	} {
		if want := unhex(t, c.want); string(c.got) != string(want) {
			t.Errorf("%s:\n got %x\nwant %x", c.name, c.got, want)
		}
	}
}

// The RFC 1071 example header (as on Wikipedia's IPv4 page) gets the
// same checksum from ipv4Header.
func TestIPv4HeaderChecksumKnownExample(t *testing.T) {
	got := ipv4Header(a("192.168.0.1"), a("192.168.0.199"), protoUDP, 0x73-20)
	if want := unhex(t, "4500 0073 0000 4000 4011 b861 c0a80001 c0a800c7"); string(got) != string(want) {
		t.Fatalf("got %x, want %x", got, want)
	}
}

// A UDP checksum that sums to zero is sent as 0xffff: 0 means none.
func TestUDPChecksumNeverZero(t *testing.T) {
	// 0xffff of payload cancels the pseudo-header's sum exactly.
	src, dst := a("::"), a("::")
	b := make([]byte, 10)
	b[9] = 0                          // len 10, proto 17: pseudo sum 27 = 0x1b; make the segment's sum 0xffff-0x1b
	b[0], b[1] = 0xff, 0xff-0x1b-0x0a // minus the length field at b[4:6]
	b[4], b[5] = 0, 10
	if c := transportChecksum(src, dst, protoUDP, b); c != 0xffff {
		t.Fatalf("checksum %#x, want 0xffff", c)
	}
}
