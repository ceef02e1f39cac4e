// Package probe proves the VIP data path of real servers from the
// director's side: it sends each real server the TCP SYN that IPVS would
// forward to it (DR: a frame to its MAC; ipip/gue/gre: encapsulated to its
// address) and waits for the answer that must come straight from VIP:port.
package probe

import (
	"fmt"
	"log/slog"
	"net/netip"
	"time"
)

// Encap is how the director forwards to the real servers.
type Encap string

const (
	DR   Encap = "dr"   // ipvsadm -g: dst MAC rewritten
	IPIP Encap = "ipip" // ipvsadm -i: IP-in-IP (ipip, sit, ip6tnl)
	GUE  Encap = "gue"  // --tun-type gue: UDP to the fou port, GUE header
	GRE  Encap = "gre"  // --tun-type gre: keyless GRE
)

// Config is one probe run: every VIP through every real server.
type Config struct {
	RIPs      []netip.Addr
	VIPs      []netip.AddrPort
	Encap     Encap
	Port      uint16 // GUE: the real servers' fou port
	Underlay  string // "", "ipv4" or "ipv6": the family every RIP must have
	Count     int    // probes per real server and VIP
	Timeout   time.Duration
	Interface string // send (DR) and capture only here; "" = as routed
	// Log gets the capture's counters (debug) and a warning when the
	// kernel dropped captured packets; nil logs nothing.
	Log *slog.Logger
}

// InputError is bad input: nothing was sent.
type InputError struct{ msg string }

func (e *InputError) Error() string { return e.msg }

func inputf(format string, a ...any) error { return &InputError{fmt.Sprintf(format, a...)} }

// Validate rejects what cannot be probed, before anything is sent.
func (c Config) Validate() error {
	switch c.Encap {
	case DR, IPIP, GUE, GRE:
	default:
		return inputf("--encap %q: want dr, ipip, gue or gre", c.Encap)
	}
	if c.Encap == GUE && c.Port == 0 {
		return inputf("--encap gue needs --encap-port (the real servers' fou port)")
	}
	if c.Encap != GUE && c.Port != 0 {
		return inputf("--encap-port is for --encap gue only")
	}
	if len(c.RIPs) == 0 || len(c.VIPs) == 0 {
		return inputf("give --rip and --vip")
	}
	if c.Count < 1 || c.Count > 100 {
		return inputf("--count %d: want 1 to 100", c.Count)
	}
	if c.Timeout <= 0 || c.Timeout > time.Minute {
		return inputf("--timeout %s: want more than 0 and at most 1m", c.Timeout)
	}
	switch c.Underlay {
	case "", "ipv4", "ipv6":
	default:
		return inputf("--underlay %q: want ipv4 or ipv6", c.Underlay)
	}
	if c.Underlay != "" && c.Encap == DR {
		return inputf("--underlay is for ipip, gue and gre: DR has no outer header")
	}
	for _, rip := range c.RIPs {
		if c.Underlay != "" && rip.Is4() != (c.Underlay == "ipv4") {
			return inputf("RIP %s is not an %s address (--underlay %s)", rip, c.Underlay, c.Underlay)
		}
		for _, vip := range c.VIPs {
			if c.Encap == DR && rip.Is4() != vip.Addr().Is4() {
				return inputf("DR cannot carry VIP %s to RIP %s: DR keeps the packet, so both must be the same family", vip.Addr(), rip)
			}
			if rip == vip.Addr() {
				return inputf("RIP %s is also a VIP", rip)
			}
		}
	}
	return nil
}
