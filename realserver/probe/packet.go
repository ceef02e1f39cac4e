package probe

import (
	"encoding/binary"
	"net"
	"net/netip"
)

// IP protocol numbers and EtherTypes the probe writes and reads.
const (
	protoICMP   = 1
	protoIPIP   = 4 // IPv4 inside
	protoTCP    = 6
	protoUDP    = 17
	protoIPv6   = 41 // IPv6 inside
	protoGRE    = 47
	protoICMPv6 = 58

	etherIPv4 = 0x0800
	etherIPv6 = 0x86DD
)

// TCP flags.
const (
	flagFIN = 0x01
	flagSYN = 0x02
	flagRST = 0x04
	flagACK = 0x10
)

// segment is one TCP segment of a probe: the SYN, or the RST that answers
// the real server's SYN-ACK so that it keeps no half-open connection.
type segment struct {
	src, dst     netip.Addr // inner addresses: the director's and the VIP
	sport, dport uint16
	seq          uint32
	flags        uint8
	mss          uint16 // MSS option of a SYN; 0 = none
}

// tcp returns the TCP header (with checksum) of s: a SYN carries only the
// MSS option, as the shortest client SYN does; IPVS forwards the client's
// SYN unchanged, and the real server's answer does not depend on the rest.
func (s segment) tcp() []byte {
	hl := 20
	if s.mss != 0 {
		hl = 24
	}
	b := make([]byte, hl)
	binary.BigEndian.PutUint16(b[0:], s.sport)
	binary.BigEndian.PutUint16(b[2:], s.dport)
	binary.BigEndian.PutUint32(b[4:], s.seq)
	b[12] = byte(hl/4) << 4
	b[13] = s.flags
	if s.flags&flagSYN != 0 {
		binary.BigEndian.PutUint16(b[14:], 64240) // the window Linux offers
	}
	if s.mss != 0 {
		b[20], b[21] = 2, 4 // kind MSS, length 4
		binary.BigEndian.PutUint16(b[22:], s.mss)
	}
	binary.BigEndian.PutUint16(b[16:], transportChecksum(s.src, s.dst, protoTCP, b))
	return b
}

// packet is s in its IP header: the packet IPVS would hand to the real server.
func (s segment) packet() []byte { return ipPacket(s.src, s.dst, protoTCP, s.tcp()) }

// ipPacket wraps payload in an IPv4 or IPv6 header from src to dst.
func ipPacket(src, dst netip.Addr, proto uint8, payload []byte) []byte {
	if src.Is4() {
		return append(ipv4Header(src, dst, proto, len(payload)), payload...)
	}
	return append(ipv6Header(src, dst, proto, len(payload)), payload...)
}

// ipv4Header is a 20-byte header with DF set (IPVS copies DF to the outer
// header of a tunnel, so a probe shows a path MTU problem the same way)
// and TTL 64.
func ipv4Header(src, dst netip.Addr, proto uint8, payloadLen int) []byte {
	b := make([]byte, 20)
	b[0] = 0x45
	binary.BigEndian.PutUint16(b[2:], uint16(20+payloadLen))
	binary.BigEndian.PutUint16(b[6:], 0x4000) // DF
	b[8] = 64
	b[9] = proto
	s4, d4 := src.As4(), dst.As4()
	copy(b[12:16], s4[:])
	copy(b[16:20], d4[:])
	binary.BigEndian.PutUint16(b[10:], ^fold(sum(b, 0)))
	return b
}

// ipv6Header is a 40-byte header, hop limit 64, no flow label.
func ipv6Header(src, dst netip.Addr, next uint8, payloadLen int) []byte {
	b := make([]byte, 40)
	b[0] = 0x60
	binary.BigEndian.PutUint16(b[4:], uint16(payloadLen))
	b[6] = next
	b[7] = 64
	s16, d16 := src.As16(), dst.As16()
	copy(b[8:24], s16[:])
	copy(b[24:40], d16[:])
	return b
}

// ethernetFrame addresses an IP packet to a MAC, as IPVS-DR does: the
// packet keeps dst=VIP and only the frame goes to the real server.
func ethernetFrame(dst, src net.HardwareAddr, ip []byte) []byte {
	b := make([]byte, 14, 14+len(ip))
	copy(b[0:6], dst)
	copy(b[6:12], src)
	etherType := uint16(etherIPv4)
	if len(ip) > 0 && ip[0]>>4 == 6 {
		etherType = etherIPv6
	}
	binary.BigEndian.PutUint16(b[12:], etherType)
	return append(b, ip...)
}

// innerProto is the protocol number that says "an IP packet of this
// family follows": 4 for IPv4 (ipip), 41 for IPv6.
func innerProto(inner netip.Addr) uint8 {
	if inner.Is4() {
		return protoIPIP
	}
	return protoIPv6
}

// ipipPacket is IPVS's default tunnel: the inner packet straight after the
// outer header (ipip, sit or ip6tnl on the real server).
func ipipPacket(outerSrc, outerDst netip.Addr, inner segment) []byte {
	return ipPacket(outerSrc, outerDst, innerProto(inner.dst), inner.packet())
}

// grePacket is IPVS's --tun-type gre: keyless GRE (4 bytes: no flags,
// version 0, the inner EtherType).
func grePacket(outerSrc, outerDst netip.Addr, inner segment) []byte {
	ip := inner.packet()
	b := make([]byte, 4, 4+len(ip))
	etherType := uint16(etherIPv4)
	if inner.dst.Is6() {
		etherType = etherIPv6
	}
	binary.BigEndian.PutUint16(b[2:], etherType)
	return ipPacket(outerSrc, outerDst, protoGRE, append(b, ip...))
}

// guePacket is IPVS's --tun-type gue: UDP to the real server's fou port,
// then a 4-byte GUE header (version 0, no options, the inner protocol)
// and the inner packet. The UDP source port is the probe's own port (IPVS
// hashes the flow into it). Over IPv4 the UDP checksum is 0, as IPVS sends
// it by default; over IPv6 a zero checksum is not allowed, so it is set.
func guePacket(outerSrc, outerDst netip.Addr, port uint16, inner segment) []byte {
	ip := inner.packet()
	u := make([]byte, 12, 12+len(ip))
	binary.BigEndian.PutUint16(u[0:], inner.sport)
	binary.BigEndian.PutUint16(u[2:], port)
	binary.BigEndian.PutUint16(u[4:], uint16(12+len(ip)))
	u[9] = innerProto(inner.dst) // GUE: version 0, C 0, hlen 0 | proto | flags 0
	u = append(u, ip...)
	if outerDst.Is6() {
		binary.BigEndian.PutUint16(u[6:], transportChecksum(outerSrc, outerDst, protoUDP, u))
	}
	return ipPacket(outerSrc, outerDst, protoUDP, u)
}

// transportChecksum is the TCP/UDP/ICMPv6 checksum over the pseudo-header
// of src and dst and the segment b (whose checksum field is zero).
func transportChecksum(src, dst netip.Addr, proto uint8, b []byte) uint16 {
	var s uint32
	s = sum(src.AsSlice(), s)
	s = sum(dst.AsSlice(), s)
	s += uint32(proto) + uint32(len(b))
	c := ^fold(sum(b, s))
	if c == 0 && proto == protoUDP {
		return 0xffff // 0 means "no checksum" in UDP
	}
	return c
}

// sum adds b as big-endian 16-bit words to s (the Internet checksum,
// RFC 1071, before folding).
func sum(b []byte, s uint32) uint32 {
	for len(b) >= 2 {
		s += uint32(b[0])<<8 | uint32(b[1])
		b = b[2:]
	}
	if len(b) == 1 {
		s += uint32(b[0]) << 8
	}
	return s
}

func fold(s uint32) uint16 {
	for s > 0xffff {
		s = s>>16 + s&0xffff
	}
	return uint16(s)
}
