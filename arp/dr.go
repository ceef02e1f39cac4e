// Package arp is DR mode (the VIP on lo, the host silent about it on the
// wire) and the pinned gateway (Pin, --pin-gateway-arp), which every mode
// takes from here: pinning a neighbour entry is ARP, and the pinned
// gateway is read as a director.Hop. What DR shares with TUN and NAT is
// not here: the director checks are realserver/director's, ARP
// suppression and forwarding off realserver/hostwide's.
package arp

import (
	"net/netip"

	"github.com/rsprep/rsprep/realserver"
	"github.com/rsprep/rsprep/realserver/director"
	"github.com/rsprep/rsprep/realserver/hostwide"
	"github.com/rsprep/rsprep/realserver/input"
)

// DR is the desired state of a direct-routing real server.
type DR struct {
	VIPs []netip.Addr
	Pin  *Pin // --pin-gateway-arp; nil: the gateway's entry is left to the kernel
	// DIP is --dip: the director, which must be on this host's L2 segment
	// and answer there. Invalid: not checked.
	DIP netip.Addr
	// ForwardingOff is --forwarding off: the host routes nothing (ip.forward).
	// False: forwarding is left as it is (Docker and Kubernetes need it).
	ForwardingOff bool
	// HeldVIPs is what the run does with a VIP found on an ARP-capable
	// interface: refuse it (apply's default), report it (verify, down), or
	// with --take-vip-from-arp-interface move it to lo, for down to give
	// back.
	HeldVIPs realserver.HeldVIPs
}

// Name implements realserver.Mode.
func (DR) Name() string { return "dr" }

// VIPList implements realserver.Mode.
func (s DR) VIPList() []netip.Addr { return s.VIPs }

// Validate rejects bad input before the host is read.
func (s DR) Validate() error {
	if len(s.VIPs) == 0 {
		return input.Errorf("dr needs at least one --vip")
	}
	if err := director.ValidateDIP(s.DIP, s.VIPs); err != nil {
		return err
	}
	if s.Pin != nil {
		return s.Pin.Validate()
	}
	return nil
}

// Preflight rejects a VIP that is one of this host's own addresses or in its path
// (a gateway, a subnet's network or broadcast address), a DIP
// that is not on this host's L2 segment, and a gateway to pin that cannot
// be found.
func (s DR) Preflight(v *realserver.View) error {
	if err := realserver.CheckNotLocalRIP(v, s.VIPs); err != nil {
		return err
	}
	if err := realserver.CheckVIPsOffPath(v, s.VIPs); err != nil {
		return err
	}
	if err := realserver.CheckNoForeignPrefix(v, s.VIPs, []string{"lo"}); err != nil {
		return err
	}
	if err := realserver.CheckVIPsHeld(v, s.VIPs, s.HeldVIPs); err != nil {
		return err
	}
	if s.DIP.IsValid() {
		if _, err := L2DIPLink(v, s.DIP); err != nil {
			return realserver.KeepInput(err)
		}
	}
	if s.Pin != nil {
		return s.Pin.Preflight(v)
	}
	return nil
}

// ForDown implements realserver.Mode: down checks neither the director
// (gone from the segment, it must not block the teardown) nor the gateway
// (down removes the entry rsprep recorded, whatever --gateway says).
func (s DR) ForDown() realserver.Mode {
	s.DIP, s.Pin = netip.Addr{}, nil
	s.HeldVIPs = max(s.HeldVIPs, realserver.ReportHeldVIPs) // down gives back what it took; it never refuses
	return undo{s}
}

// undo is DR as down runs it: a VIP that is in the host's path (a
// gateway, a broadcast address), refused by apply, may still have been
// bound by hand or by an older rsprep, and down must be able to remove it.
type undo struct{ DR }

// Preflight still refuses a VIP that is the host's own address.
func (s undo) Preflight(v *realserver.View) error { return realserver.CheckNotLocalRIP(v, s.VIPs) }

// Modules implements realserver.Mode: DR's devices need no module.
func (DR) Modules() []string { return nil }

// Invariants: lo up, ARP suppression on every ARP-capable interface
// (and, with ForwardingOff, forwarding off), each VIP as a host address on
// lo and on no ARP-capable interface; with Pin, the default gateway's
// entry pinned; with a DIP, the director on-link and answering.
func (s DR) Invariants() []realserver.Invariant {
	invs := []realserver.Invariant{realserver.LinkUp("link.up", "lo")}
	invs = append(invs, hostwide.Suppression(nil)...)
	if s.ForwardingOff {
		invs = append(invs, hostwide.ForwardingOff(hasIPv6(s.VIPs)))
	}
	invs = append(invs, realserver.VIPBound(s.VIPs, "lo", "lo"), realserver.VIPExclusive(s.VIPs, s.HeldVIPs))
	if s.Pin != nil {
		invs = append(invs, s.Pin.Invariant())
	}
	if s.DIP.IsValid() {
		invs = append(invs, director.DIPOnLink(s.DIP, L2DIPLink), director.DIPReachable(s.DIP, func(v *realserver.View) (director.Hop, error) {
			link, err := L2DIPLink(v, s.DIP)
			return director.Hop{Link: link, IP: s.DIP}, err
		}))
	}
	return invs
}

func hasIPv6(ips []netip.Addr) bool {
	for _, ip := range ips {
		if ip.Is6() {
			return true
		}
	}
	return false
}

// Footprint implements the footprint doctor asks for: the VIPs on lo, ARP
// suppression, and a host that is not a router.
func (s DR) Footprint() realserver.Footprint {
	return s.Pin.Footprint(realserver.Footprint{
		Sysctls:    realserver.EffectiveSysctls(s.Invariants()),
		VIPs:       s.VIPs,
		VIPDevices: []string{"lo"},
		ARPSilent:  true,
		NotARouter: true,
		// With --forwarding off, ip.forward is this mode's invariant.
		ForwardingOwned: s.ForwardingOff,
		// With --dip, rsprep drain can take the host out of rotation.
		DrainRules: realserver.DrainRules(s.VIPs, []netip.Addr{s.DIP}),
	})
}
