package probe

import (
	"fmt"
	"net/netip"
	"slices"

	"golang.org/x/sys/unix"
)

// The source ports probes go out from (and answers come back to): the
// kernel's default ephemeral range, so they look like any connection.
const (
	portFirst = 32768
	portLast  = 60999
	portSpan  = portLast - portFirst + 1
)

// answersOnly is the capture's classic BPF program: only what can answer
// this run's probes reaches the socket, whatever else a busy director
// receives (its VIPs take all the clients' traffic). With SOCK_DGRAM the
// packet starts at the IP header. Kept:
//   - TCP from one of the VIPs, from one of the VIP ports, to a port in
//     the probes' source range (a first fragment, IPv4);
//   - ICMP errors (IPv4 types 3, 11, 12; ICMPv6 types below 128), which
//     come from the RIP or a router on the way and quote the probe.
//
// Incoming only. When the VIPs or ports are too many for a program (4096
// instructions, the kernel's limit), that check is left out and the
// others still hold.
func answersOnly(vips []netip.AddrPort) (*unix.SockFprog, error) {
	var v4, v6 []netip.Addr
	var ports []uint16
	for _, v := range vips {
		if a := v.Addr().Unmap(); a.Is4() {
			v4 = append(v4, a)
		} else {
			v6 = append(v6, a)
		}
		ports = append(ports, v.Port())
	}
	slices.Sort(ports)
	ports = slices.Compact(ports)
	for _, s := range []struct{ addrs, ports bool }{{true, true}, {false, true}, {false, false}} {
		var a filterAsm
		a.answers(sortUnique(v4), sortUnique(v6), ports, s.addrs, s.ports)
		if prog, err := a.build(); err == nil {
			return &unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}, nil
		}
	}
	return nil, fmt.Errorf("no capture filter fits %d VIPs", len(vips))
}

func sortUnique(s []netip.Addr) []netip.Addr {
	slices.SortFunc(s, netip.Addr.Compare)
	return slices.Compact(s)
}

const (
	bpfLdW   = unix.BPF_LD | unix.BPF_W | unix.BPF_ABS
	bpfLdH   = unix.BPF_LD | unix.BPF_H | unix.BPF_ABS
	bpfLdB   = unix.BPF_LD | unix.BPF_B | unix.BPF_ABS
	bpfLdHX  = unix.BPF_LD | unix.BPF_H | unix.BPF_IND
	bpfLdBX  = unix.BPF_LD | unix.BPF_B | unix.BPF_IND
	bpfLdxIP = unix.BPF_LDX | unix.BPF_B | unix.BPF_MSH // X = 4*([k]&0xf): the IPv4 header's length
	bpfJeq   = unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K
	bpfJge   = unix.BPF_JMP | unix.BPF_JGE | unix.BPF_K
	bpfJgt   = unix.BPF_JMP | unix.BPF_JGT | unix.BPF_K
	bpfJset  = unix.BPF_JMP | unix.BPF_JSET | unix.BPF_K
	bpfJa    = unix.BPF_JMP | unix.BPF_JA
	bpfRet   = unix.BPF_RET | unix.BPF_K

	skfAdOff       = 0xfffff000 // SKF_AD_OFF: ancillary data, not packet bytes
	skfAdProtocol  = 0          // SKF_AD_PROTOCOL
	skfAdPktType   = 4          // SKF_AD_PKTTYPE
	ipv6SrcOffset  = 8
	ipv6HeaderSize = 40
)

// filterAsm assembles a classic BPF program with named labels. Every
// conditional jump is short (the next instruction or the one after), and
// a jump to a label is an unconditional ja, whose 32-bit offset reaches
// anywhere: so a list of any length of compared values assembles.
type filterAsm struct {
	prog   []unix.SockFilter
	to     map[int]string // ja instruction → label
	labels map[string]int
}

func (a *filterAsm) op(code uint16, k uint32) {
	a.prog = append(a.prog, unix.SockFilter{Code: code, K: k})
}

func (a *filterAsm) label(name string) {
	if a.labels == nil {
		a.labels = map[string]int{}
	}
	a.labels[name] = len(a.prog)
}

func (a *filterAsm) jump(label string) {
	if a.to == nil {
		a.to = map[int]string{}
	}
	a.to[len(a.prog)] = label
	a.op(bpfJa, 0)
}

// jumpIf jumps to label when the test (a conditional jump code against
// k) holds, and goes on with the next instruction when it does not.
func (a *filterAsm) jumpIf(code uint16, k uint32, label string) {
	a.prog = append(a.prog, unix.SockFilter{Code: code, K: k, Jt: 0, Jf: 1})
	a.jump(label)
}

// jumpUnless jumps to label when the test does not hold.
func (a *filterAsm) jumpUnless(code uint16, k uint32, label string) {
	a.prog = append(a.prog, unix.SockFilter{Code: code, K: k, Jt: 1, Jf: 0})
	a.jump(label)
}

func (a *filterAsm) build() ([]unix.SockFilter, error) {
	if len(a.prog) > unix.BPF_MAXINSNS {
		return nil, fmt.Errorf("%d instructions, more than %d", len(a.prog), unix.BPF_MAXINSNS)
	}
	for at, l := range a.to {
		dst, ok := a.labels[l]
		if !ok || dst <= at {
			return nil, fmt.Errorf("jump to %q", l)
		}
		a.prog[at].K = uint32(dst - at - 1)
	}
	return a.prog, nil
}

func (a *filterAsm) answers(v4, v6 []netip.Addr, ports []uint16, byAddr, byPort bool) {
	a.op(bpfLdW, skfAdOff+skfAdPktType)
	a.jumpIf(bpfJeq, unix.PACKET_OUTGOING, "drop")
	a.op(bpfLdW, skfAdOff+skfAdProtocol)
	a.jumpIf(bpfJeq, etherIPv4, "ip4")
	a.jumpIf(bpfJeq, etherIPv6, "ip6")
	a.jump("drop")

	a.label("ip4")
	a.op(bpfLdH, 6)
	a.jumpIf(bpfJset, 0x1fff, "drop") // a later fragment: no header to judge
	a.op(bpfLdB, 9)
	a.jumpIf(bpfJeq, protoICMP, "icmp4")
	a.jumpUnless(bpfJeq, protoTCP, "drop")
	if byAddr && len(v4) > 0 {
		a.op(bpfLdW, 12) // source address
		for _, ip := range v4 {
			b := ip.As4()
			a.jumpIf(bpfJeq, uint32(b[0])<<24|uint32(b[1])<<16|uint32(b[2])<<8|uint32(b[3]), "tcp4")
		}
		a.jump("drop")
	}
	a.label("tcp4")
	a.op(bpfLdxIP, 0)
	a.op(bpfLdHX, 0) // source port
	a.ports(ports, byPort, "dport4")
	a.label("dport4")
	a.op(bpfLdHX, 2) // destination port
	a.probePort()

	a.label("icmp4")
	a.op(bpfLdxIP, 0)
	a.op(bpfLdBX, 0)                        // type
	for _, t := range []uint32{3, 11, 12} { // unreachable, time exceeded, parameter problem
		a.jumpIf(bpfJeq, t, "keep")
	}
	a.jump("drop")

	a.label("ip6")
	a.op(bpfLdB, 6) // next header: a probe's answer has no extension headers
	a.jumpIf(bpfJeq, protoICMPv6, "icmp6")
	a.jumpUnless(bpfJeq, protoTCP, "drop")
	if byAddr && len(v6) > 0 {
		for i, ip := range v6 {
			b, next := ip.As16(), fmt.Sprintf("vip6-%d", i+1)
			for w := range 4 {
				a.op(bpfLdW, uint32(ipv6SrcOffset+4*w))
				k := uint32(b[4*w])<<24 | uint32(b[4*w+1])<<16 | uint32(b[4*w+2])<<8 | uint32(b[4*w+3])
				a.jumpUnless(bpfJeq, k, next)
			}
			a.jump("tcp6")
			a.label(next)
		}
		a.jump("drop")
	}
	a.label("tcp6")
	a.op(bpfLdH, ipv6HeaderSize) // source port
	a.ports(ports, byPort, "dport6")
	a.label("dport6")
	a.op(bpfLdH, ipv6HeaderSize+2) // destination port
	a.probePort()

	a.label("icmp6")
	a.op(bpfLdB, ipv6HeaderSize) // type: errors are below 128 (NDP, echo are not)
	a.jumpIf(bpfJge, 128, "drop")
	a.jump("keep")

	a.label("keep")
	a.op(bpfRet, 0xffff) // up to 64 KiB
	a.label("drop")
	a.op(bpfRet, 0)
}

// ports goes on at next when A is one of ports (or byPort is off).
func (a *filterAsm) ports(ports []uint16, byPort bool, next string) {
	if !byPort {
		a.jump(next)
		return
	}
	for _, p := range ports {
		a.jumpIf(bpfJeq, uint32(p), next)
	}
	a.jump("drop")
}

// probePort keeps the packet when A is in the probes' source port range.
func (a *filterAsm) probePort() {
	a.jumpUnless(bpfJge, portFirst, "drop")
	a.jumpIf(bpfJgt, portLast, "drop")
	a.jump("keep")
}
