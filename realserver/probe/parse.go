package probe

import (
	"encoding/binary"
	"net/netip"
)

// kind is what came back for a probe.
type kind int

const (
	kindSynAck kind = iota + 1 // the real server accepts: open
	kindRST                    // reached, nothing listening: closed
	kindICMP                   // an ICMP error about the probe
)

// reply is one captured packet that may answer a probe. For TCP, from and
// sport are the answering VIP:port, port is the probe's source port and
// ack acknowledges its sequence number. For ICMP, from is the sender of
// the error and the rest comes from the quoted probe: quotedDst is the
// destination of its outermost header (the RIP for an encapsulated probe,
// the VIP for DR), port its source port when the quote reaches that far.
type reply struct {
	kind              kind
	from              netip.Addr
	sport, port       uint16
	seq, ack          uint32
	mss               uint16
	icmpType, icmpCod uint8
	quotedDst         netip.Addr
	hasPort           bool
}

// parseReply reads an IP packet captured without its link-layer header
// (etherType says which IP). It keeps SYN-ACKs, RSTs and ICMP errors and
// ignores everything else; it never reads past b.
func parseReply(etherType uint16, b []byte) (reply, bool) {
	src, _, proto, payload, ok := ipLayer(etherType, b)
	if !ok {
		return reply{}, false
	}
	switch proto {
	case protoTCP:
		return parseTCP(src, payload)
	case protoICMP:
		return parseICMP(src, payload, false)
	case protoICMPv6:
		return parseICMP(src, payload, true)
	}
	return reply{}, false
}

// ipLayer splits an IPv4 or IPv6 packet into its addresses, protocol and
// payload. IPv4 fragments other than the first and IPv6 extension headers
// are not probe answers and are refused. A payload cut short (an ICMP
// quote) is returned as far as it goes.
func ipLayer(etherType uint16, b []byte) (src, dst netip.Addr, proto uint8, payload []byte, ok bool) {
	switch etherType {
	case etherIPv4:
		if len(b) < 20 || b[0]>>4 != 4 {
			return
		}
		hl := int(b[0]&0x0f) * 4
		if hl < 20 || len(b) < hl || binary.BigEndian.Uint16(b[6:])&0x1fff != 0 {
			return
		}
		end := int(binary.BigEndian.Uint16(b[2:]))
		if end < hl || end > len(b) {
			end = len(b) // a quote, or a frame padded or cut short
		}
		return netip.AddrFrom4([4]byte(b[12:16])), netip.AddrFrom4([4]byte(b[16:20])), b[9], b[hl:end], true
	case etherIPv6:
		if len(b) < 40 || b[0]>>4 != 6 {
			return
		}
		end := 40 + int(binary.BigEndian.Uint16(b[4:]))
		if end > len(b) {
			end = len(b)
		}
		return netip.AddrFrom16([16]byte(b[8:24])), netip.AddrFrom16([16]byte(b[24:40])), b[6], b[40:end], true
	}
	return
}

// parseTCP keeps a SYN-ACK or an RST and reads the MSS option.
func parseTCP(src netip.Addr, b []byte) (reply, bool) {
	if len(b) < 20 {
		return reply{}, false
	}
	r := reply{
		from:  src,
		sport: binary.BigEndian.Uint16(b[0:]),
		port:  binary.BigEndian.Uint16(b[2:]),
		seq:   binary.BigEndian.Uint32(b[4:]),
		ack:   binary.BigEndian.Uint32(b[8:]),
	}
	flags := b[13]
	switch {
	case flags&flagRST != 0:
		r.kind = kindRST
	case flags&(flagSYN|flagACK) == flagSYN|flagACK:
		r.kind = kindSynAck
	default:
		return reply{}, false
	}
	hl := int(b[12]>>4) * 4
	if hl < 20 || hl > len(b) {
		return r, true
	}
	r.mss = mssOption(b[20:hl])
	return r, true
}

// mssOption finds the MSS in TCP options (0 when absent or malformed).
func mssOption(opts []byte) uint16 {
	for len(opts) > 0 {
		switch opts[0] {
		case 0: // end of options
			return 0
		case 1: // no-op
			opts = opts[1:]
			continue
		}
		if len(opts) < 2 || opts[1] < 2 || int(opts[1]) > len(opts) {
			return 0
		}
		if opts[0] == 2 && opts[1] == 4 {
			return binary.BigEndian.Uint16(opts[2:])
		}
		opts = opts[opts[1]:]
	}
	return 0
}

// parseICMP keeps the errors that can be about a probe (destination
// unreachable, time exceeded, parameter problem; for IPv6 also packet too
// big) and reads the quoted probe.
func parseICMP(src netip.Addr, b []byte, v6 bool) (reply, bool) {
	if len(b) < 8 {
		return reply{}, false
	}
	t := b[0]
	isErr := t == 3 || t == 11 || t == 12
	quoteType := uint16(etherIPv4)
	if v6 {
		isErr = t >= 1 && t <= 4
		quoteType = etherIPv6
	}
	if !isErr {
		return reply{}, false
	}
	r := reply{kind: kindICMP, from: src, icmpType: t, icmpCod: b[1]}
	_, dst, proto, payload, ok := ipLayer(quoteType, b[8:])
	if !ok {
		return reply{}, false
	}
	r.quotedDst = dst
	r.port, r.hasPort = quotedPort(proto, payload, 3)
	return r, true
}

// quotedPort follows a quoted probe through its encapsulation (ipip, GRE,
// GUE) to the source port of the TCP SYN, or of the GUE UDP header when
// the quote ends before the inner packet: both are the probe's own port.
func quotedPort(proto uint8, b []byte, depth int) (uint16, bool) {
	if depth == 0 {
		return 0, false
	}
	var inner []byte
	var etherType uint16
	switch proto {
	case protoTCP, protoUDP:
		if len(b) < 4 {
			return 0, false
		}
		if proto == protoUDP && len(b) >= 12 && b[8]>>6 == 0 { // GUE version 0 behind it
			if p, ok := quotedPort(b[9], b[12:], depth-1); ok {
				return p, true
			}
		}
		return binary.BigEndian.Uint16(b[0:]), true
	case protoIPIP:
		inner, etherType = b, etherIPv4
	case protoIPv6:
		inner, etherType = b, etherIPv6
	case protoGRE:
		if len(b) < 4 {
			return 0, false
		}
		inner, etherType = b[4:], binary.BigEndian.Uint16(b[2:])
	default:
		return 0, false
	}
	_, _, p, payload, ok := ipLayer(etherType, inner)
	if !ok {
		return 0, false
	}
	return quotedPort(p, payload, depth-1)
}
