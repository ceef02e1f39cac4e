// Package realserver is rsprep's engine: it checks the invariants a mode
// implies, plans the changes that make them true, applies them with rollback,
// records what it changed, and undoes only its own changes.
//
// A Change is plain data (the record's JSON line); what each kind of
// change does, undoes, says and records is its registered KindDef (see
// kind.go), one file per kind, in the package that owns it. The VIP
// addresses (KindAddrAdd, KindAddrTake) are the engine's own subject:
// down, Converge and status find them by rsprep's mark as well as by the
// record, and name those kinds directly. realserver/README.md
// ("Architecture") draws the packages and one change's path from flag to
// kernel.
package realserver

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
)

// Host is the narrow seam between rsprep and the kernel: only what the
// modes need, named after the job. The kernel implementation lives in
// realserver/kernel, the in-memory fake in realserver/fake.
type Host interface {
	// Links lists every network interface.
	Links() ([]Link, error)
	// Addrs lists the addresses of every interface, both families, in one
	// dump (rsprep never reads addresses once per VIP).
	Addrs() ([]Addr, error)
	// AddAddr adds an address (with its scope, flags and lifetimes); an
	// address that is already there is success.
	AddAddr(a Addr) error
	// DelAddr removes an address; one that is already gone is success.
	DelAddr(a Addr) error
	// SetLinkUp sets the administrative state of an interface.
	SetLinkUp(link string, up bool) error

	// Sysctl reads one integer sysctl; SetSysctl writes it.
	Sysctl(k SysctlKey) (int, error)
	SetSysctl(k SysctlKey, v int) error

	// Routes lists the IPv4 routes of the main table; TableRoutes the
	// routes of family fam (4 or 6) of a table (0: main).
	Routes() ([]Route, error)
	TableRoutes(fam, table int) ([]Route, error)
	// AddRoute adds (or replaces) a route; DelRoute removes one, absent is success.
	AddRoute(r Route) error
	DelRoute(r Route) error

	// Neighbors lists the IPv4 neighbour entries.
	Neighbors() ([]Neighbor, error)
	// SetNeighbor writes an entry with replace semantics (ip neigh replace).
	SetNeighbor(n Neighbor) error
	// DelNeighbor removes an entry; absent is success.
	DelNeighbor(n Neighbor) error
	// Resolve actively asks the network for ip's MAC (bounded wait).
	Resolve(link string, ip netip.Addr) (net.HardwareAddr, error)

	// LoadModule loads a kernel module (modprobe); built-in is success.
	LoadModule(name string) error

	// Rules lists the policy routing rules of both families that select
	// by source (ip [-6] rule from ADDR lookup TABLE); AddRule adds one
	// (present is success), DelRule removes one (absent is success).
	Rules() ([]Rule, error)
	AddRule(r Rule) error
	DelRule(r Rule) error

	// FouPorts lists the UDP ports where the fou module decapsulates (ip
	// fou show); an error wrapping ErrNoFou when fou is not loaded.
	FouPorts() ([]FouPort, error)
	// AddFouPort opens a receive port (ip fou add); one that is already
	// there is success. DelFouPort closes it; absent is success.
	AddFouPort(p FouPort) error
	DelFouPort(p FouPort) error

	// TunnelMode reads which inner protocol an IPv6 tunnel device accepts
	// (ip -6 tunnel show); SetTunnelMode changes it (ip -6 tunnel change).
	TunnelMode(link string) (TunnelMode, error)
	SetTunnelMode(link string, m TunnelMode) error
}

// ErrNoFou means the kernel has no fou generic netlink family: the fou
// module is not loaded.
var ErrNoFou = errors.New("fou is not loaded")

// FouPort is one fou receive port: UDP Port on the underlay Family (4 or
// 6), decapsulating GUE (the only kind IPVS sends) or, for a port somebody
// else opened, direct IP protocol Proto.
type FouPort struct {
	Family int    `json:"family"`
	Port   uint16 `json:"port"`
	GUE    bool   `json:"gue,omitempty"`
	Proto  int    `json:"proto,omitempty"` // direct encapsulation only
}

func (p FouPort) String() string {
	s := fmt.Sprintf("port %d", p.Port)
	if p.GUE {
		s += " gue"
	} else {
		s += fmt.Sprintf(" ipproto %d", p.Proto)
	}
	if p.Family == 6 {
		s += " -6"
	}
	return s
}

// TunnelMode is the inner protocol an ip6tnl device accepts, as the kernel
// stores it: IPPROTO_IPV6 (ip6ip6), IPPROTO_IPIP (ipip6) or 0 (any).
type TunnelMode int

const (
	ModeAny    TunnelMode = 0
	ModeIPIP6  TunnelMode = 4
	ModeIP6IP6 TunnelMode = 41
)

// Accepts reports whether a device in mode m takes inner packets of IP
// family fam (4 or 6).
func (m TunnelMode) Accepts(fam int) bool {
	return m == ModeAny || (m == ModeIPIP6 && fam == 4) || (m == ModeIP6IP6 && fam == 6)
}

// String is the mode as iproute2 spells it.
func (m TunnelMode) String() string {
	switch m {
	case ModeAny:
		return "any"
	case ModeIPIP6:
		return "ipip6"
	case ModeIP6IP6:
		return "ip6ip6"
	}
	return fmt.Sprintf("proto %d", int(m))
}

// Link is one network interface as rsprep sees it.
type Link struct {
	Name     string
	Index    int
	Type     string // netlink kind: "device", "veth", "ipip", "bridge", …
	Up       bool   // administratively up (IFF_UP)
	NoARP    bool   // IFF_NOARP: lo, tunnels
	Loopback bool
	MTU      int
}

// ARPCapable reports whether the link can answer ARP (and so steal a VIP).
func (l Link) ARPCapable() bool { return !l.NoARP && !l.Loopback }

// Addr is one address on one interface.
type Addr struct {
	Link   string
	Prefix netip.Prefix
	Label  string // IPv4 only: "lo:rsprep" marks rsprep's VIPs
	// Proto is the address's IFA_PROTO (Linux ≥ 5.18, both families): who
	// added it. rsprep tags its own with AddrProto; 0 is "unspecified"
	// (most tools, and every address on older kernels), 1–3 the kernel's.
	Proto uint8 `json:",omitempty"`
	// What else makes the address the one it was, for giving back one
	// that rsprep took (KindAddrTake): its RT_SCOPE (0: global), the
	// IFA_FLAGS an operator sets (AddrSettableFlags: nodad, noprefixroute,
	// …; the kernel derives the others), and when its lifetimes end (unix
	// seconds; 0: forever), as ip's valid_lft and preferred_lft count down.
	Scope          uint8  `json:",omitempty"`
	Flags          uint32 `json:",omitempty"`
	ValidUntil     int64  `json:",omitempty"`
	PreferredUntil int64  `json:",omitempty"`
}

// AddrSettableFlags are the IFA_FLAGS ip addr add sets: nodad, optimistic,
// home, mngtmpaddr, noprefixroute, autojoin.
const AddrSettableFlags = 0x02 | 0x04 | 0x10 | 0x100 | 0x200 | 0x400

// AddrProto is the IFA_PROTO rsprep tags its addresses with, so that they
// are recognisable as rsprep's without the record, IPv6 too (which has no
// labels). The kernel defines 0 (unspec) and 1–3 (IFAPROT_KERNEL_LO, _RA,
// _LL) and leaves the rest of the byte to user space; 114 is ASCII 'r',
// clear of those and of the small numbers other tools may pick. Name it
// for ip(8) with "114 rsprep" in /etc/iproute2/rt_addrprotos.
const AddrProto = 114

// Ours reports whether an address carries rsprep's mark: its tag, or, on
// IPv4, its label (kernels before 5.18 have no tag).
func (a Addr) Ours() bool { return a.Proto == AddrProto || strings.HasSuffix(a.Label, ":rsprep") }

// SysctlKey names one integer sysctl below /proc/sys/net. Mostly a
// per-interface key of net/<family>/conf/<Iface>/<Name>, where Iface is the
// interface name exactly as the kernel spells it, dots and all
// ("eth0.100"), or "all" / "default"; with Iface empty, a key of the whole
// family, net/<family>/<Name> (net/ipv4/ip_forward). Family is empty for
// ipv4 (so records written before it existed read the same), or "ipv6".
type SysctlKey struct {
	Family string `json:"family,omitempty"`
	Iface  string `json:"iface"`
	Name   string `json:"name"`
}

// IPForward is net.ipv4.ip_forward, the kernel's alias of
// net.ipv4.conf.all.forwarding.
var IPForward = SysctlKey{Name: "ip_forward"}

// IPv6Forwarding is net.ipv6.conf.all.forwarding.
var IPv6Forwarding = SysctlKey{Family: "ipv6", Iface: "all", Name: "forwarding"}

func (k SysctlKey) family() string {
	if k.Family == "" {
		return "ipv4"
	}
	return k.Family
}

// Dir is the directory below /proc/sys that holds the key's file.
func (k SysctlKey) Dir() string {
	if k.Iface == "" {
		return "net/" + k.family()
	}
	return "net/" + k.family() + "/conf/" + k.Iface
}

// Path is the key's path below /proc/sys, which is also how it is recorded.
func (k SysctlKey) Path() string { return k.Dir() + "/" + k.Name }

// PerInterface reports whether the key belongs to one interface (and so
// goes away with it), rather than to all, default or the whole family.
func (k SysctlKey) PerInterface() bool {
	return k.Iface != "" && k.Iface != "all" && k.Iface != "default"
}

// Dotted is the key as sysctl(8) spells it: dots in interface names become
// slashes ("net.ipv4.conf.eth0/100.arp_ignore").
func (k SysctlKey) Dotted() string {
	if k.Iface == "" {
		return "net." + k.family() + "." + k.Name
	}
	iface := []byte(k.Iface)
	for i, c := range iface {
		if c == '.' {
			iface[i] = '/'
		}
	}
	return "net." + k.family() + ".conf." + string(iface) + "." + k.Name
}

// Rule is a policy routing rule: packets from Src look up Table first.
type Rule struct {
	Src      netip.Prefix `json:"src"`
	Table    int          `json:"table"`
	Priority int          `json:"priority"`
}

func (r Rule) String() string {
	return fmt.Sprintf("from %s lookup %d pref %d", r.Src, r.Table, r.Priority)
}

// DefaultDst is the destination of an IPv4 default route, DefaultDst6 of
// an IPv6 one.
var (
	DefaultDst  = netip.MustParsePrefix("0.0.0.0/0")
	DefaultDst6 = netip.MustParsePrefix("::/0")
)

// Family is ip's address family: 4 or 6.
func Family(ip netip.Addr) int {
	if ip.Is4() {
		return 4
	}
	return 6
}

// NeighState is the part of the kernel's NUD state rsprep cares about.
type NeighState string

const (
	NeighPermanent  NeighState = "PERMANENT"
	NeighReachable  NeighState = "REACHABLE"
	NeighStale      NeighState = "STALE"
	NeighFailed     NeighState = "FAILED"
	NeighIncomplete NeighState = "INCOMPLETE"
	NeighOther      NeighState = "OTHER"
)

// Neighbor is one IPv4 neighbour (ARP) entry.
type Neighbor struct {
	Link  string
	IP    netip.Addr
	MAC   net.HardwareAddr
	State NeighState
}
