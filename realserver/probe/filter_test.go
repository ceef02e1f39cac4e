package probe

import (
	"encoding/binary"
	"net/netip"
	"testing"

	"unsafe"

	"golang.org/x/sys/unix"
)

// runBPF runs a classic BPF program the way the kernel's interpreter does
// for the instructions answersOnly uses: a load past the packet's end
// drops it; the ancillary loads read pkttype and protocol.
func runBPF(t *testing.T, prog []unix.SockFilter, pkt []byte, protocol uint16, pktType uint32) uint32 {
	t.Helper()
	var acc, x uint32
	load := func(off uint32, size int) (uint32, bool) {
		switch off {
		case skfAdOff + skfAdProtocol:
			return uint32(protocol), true
		case skfAdOff + skfAdPktType:
			return pktType, true
		}
		if uint64(off)+uint64(size) > uint64(len(pkt)) {
			return 0, false
		}
		switch size {
		case 4:
			return binary.BigEndian.Uint32(pkt[off:]), true
		case 2:
			return uint32(binary.BigEndian.Uint16(pkt[off:])), true
		}
		return uint32(pkt[off]), true
	}
	size := map[uint16]int{unix.BPF_W: 4, unix.BPF_H: 2, unix.BPF_B: 1}
	for pc := 0; pc < len(prog); pc++ {
		in := prog[pc]
		switch {
		case in.Code == bpfRet:
			return in.K
		case in.Code == bpfLdxIP:
			b, ok := load(in.K, 1)
			if !ok {
				return 0
			}
			x = 4 * (b & 0xf)
		case in.Code&0x07 == unix.BPF_LD:
			off := in.K
			if in.Code&0xe0 == unix.BPF_IND {
				off += x
			}
			v, ok := load(off, size[in.Code&0x18])
			if !ok {
				return 0
			}
			acc = v
		case in.Code == bpfJa:
			pc += int(in.K)
		case in.Code&0x07 == unix.BPF_JMP:
			var hit bool
			switch in.Code &^ 0x07 &^ unix.BPF_K {
			case unix.BPF_JEQ:
				hit = acc == in.K
			case unix.BPF_JGE:
				hit = acc >= in.K
			case unix.BPF_JGT:
				hit = acc > in.K
			case unix.BPF_JSET:
				hit = acc&in.K != 0
			default:
				t.Fatalf("instruction %d: jump %#x", pc, in.Code)
			}
			if hit {
				pc += int(in.Jt)
			} else {
				pc += int(in.Jf)
			}
		default:
			t.Fatalf("instruction %d: code %#x", pc, in.Code)
		}
	}
	t.Fatal("ran off the program's end")
	return 0
}

func filterProg(t *testing.T, vips ...netip.AddrPort) []unix.SockFilter {
	t.Helper()
	f, err := answersOnly(vips)
	if err != nil {
		t.Fatal(err)
	}
	if f.Len > unix.BPF_MAXINSNS {
		t.Fatalf("%d instructions", f.Len)
	}
	return unsafe.Slice(f.Filter, f.Len)
}

// The capture takes answers to this run's probes and nothing else a busy
// director receives: not the clients' TCP to its VIPs, not TCP from
// another address or port, not what it sends itself.
func TestCaptureFilterTakesOnlyAnswers(t *testing.T) {
	vip4, vip6 := netip.MustParseAddrPort("192.168.79.180:80"), netip.MustParseAddrPort("[2001:db8::180]:443")
	prog := filterProg(t, vip4, vip6)
	me4, me6, rip := a("10.0.0.1"), a("2001:db8::1"), a("10.0.0.11")
	synack := uint8(flagSYN | flagACK)
	frag := answer(vip4.Addr(), me4, 80, 40000, 1, 8, synack, 1460)
	binary.BigEndian.PutUint16(frag[6:], 185) // a later fragment
	for _, c := range []struct {
		name string
		pkt  []byte
		out  bool
		keep bool
	}{
		{"syn-ack from VIP:port", answer(vip4.Addr(), me4, 80, 40000, 1, 8, synack, 1460), false, true},
		{"rst from VIP:port", answer(vip4.Addr(), me4, 80, portFirst, 1, 8, flagRST|flagACK, 0), false, true},
		{"highest probe port", answer(vip4.Addr(), me4, 80, portLast, 1, 8, synack, 0), false, true},
		{"below the probe ports", answer(vip4.Addr(), me4, 80, portFirst-1, 1, 8, synack, 0), false, false},
		{"above the probe ports", answer(vip4.Addr(), me4, 80, portLast+1, 1, 8, synack, 0), false, false},
		{"from another address", answer(a("192.168.79.181"), me4, 80, 40000, 1, 8, synack, 0), false, false},
		{"from another port", answer(vip4.Addr(), me4, 22, 40000, 1, 8, synack, 0), false, false},
		{"a client's SYN to the VIP", answer(a("198.51.100.7"), vip4.Addr(), 40000, 80, 1, 0, flagSYN, 1460), false, false},
		{"a client's SYN from VIP-like ports", answer(a("198.51.100.7"), vip4.Addr(), 80, 40000, 1, 0, flagSYN, 1460), false, false},
		{"outgoing", answer(vip4.Addr(), me4, 80, 40000, 1, 8, synack, 0), true, false},
		{"a later fragment", frag, false, false},
		{"icmp port unreachable", icmpError(rip, me4, 3, 3, ipipPacket(me4, rip, syn4), 0), false, true},
		{"icmp echo request", icmpError(rip, me4, 8, 0, nil, 0), false, false},
		{"udp", ipPacket(vip4.Addr(), me4, 17, make([]byte, 8)), false, false},
		{"ipv6 syn-ack from VIP:port", answer(vip6.Addr(), me6, 443, 40000, 1, 8, synack, 1440), false, true},
		{"ipv6 from another address", answer(a("2001:db8::181"), me6, 443, 40000, 1, 8, synack, 0), false, false},
		{"ipv6 differing in the last word only", answer(a("2001:db8::1:180"), me6, 443, 40000, 1, 8, synack, 0), false, false},
		{"ipv6 from the IPv4 VIP's port", answer(vip6.Addr(), me6, 80, 40000, 1, 8, synack, 0), false, true},
		{"icmpv6 unreachable", icmpError(a("2001:db8::11"), me6, 1, 4, nil, 0), false, true},
		{"icmpv6 neighbour solicitation", icmpError(a("2001:db8::11"), me6, 135, 0, nil, 0), false, false},
		{"truncated", answer(vip4.Addr(), me4, 80, 40000, 1, 8, synack, 0)[:21], false, false},
	} {
		pktType := uint32(unix.PACKET_HOST)
		if c.out {
			pktType = unix.PACKET_OUTGOING
		}
		got := runBPF(t, prog, c.pkt, etherTypeOf(c.pkt), pktType) != 0
		if got != c.keep {
			t.Errorf("%s: kept %v, want %v", c.name, got, c.keep)
		}
	}
	arp := make([]byte, 28)
	if runBPF(t, prog, arp, 0x0806, unix.PACKET_BROADCAST) != 0 {
		t.Error("ARP kept")
	}
}

// More VIPs than one program can compare: the address check goes, the
// port checks stay, and the program still fits the kernel's limit.
func TestCaptureFilterWithManyVIPs(t *testing.T) {
	var vips []netip.AddrPort
	for i := range 5000 {
		vips = append(vips, netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)}), 80))
	}
	prog := filterProg(t, vips...)
	me := a("10.0.0.1")
	if runBPF(t, prog, answer(a("10.1.19.135"), me, 80, 40000, 1, 8, flagSYN|flagACK, 0), etherIPv4, unix.PACKET_HOST) == 0 {
		t.Error("an answer from one of 5000 VIPs dropped")
	}
	if runBPF(t, prog, answer(a("10.1.19.135"), me, 22, 40000, 1, 8, flagSYN|flagACK, 0), etherIPv4, unix.PACKET_HOST) != 0 {
		t.Error("TCP from port 22 kept")
	}
}

// Within a round, no two probes share a source port, however many targets:
// beyond the range's size the round goes in waves.
func TestSourcePortsDistinctWithinAWave(t *testing.T) {
	r := runner{port: portLast - 3}
	seen := map[uint16]bool{}
	for range portSpan {
		p := r.nextPort()
		if p < portFirst || p > portLast || seen[p] {
			t.Fatalf("port %d: out of range or handed out twice in %d", p, portSpan)
		}
		seen[p] = true
	}
}
