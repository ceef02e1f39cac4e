// Package arp is DR mode (the VIP on lo, the host silent about it on the
// wire) and the ARP suppression that TUN shares with it.
package arp

import (
	"net/netip"

	"github.com/rsprep/rsprep/realserver"
)

// DR is the desired state of a direct-routing real server.
type DR struct {
	VIPs []netip.Addr
	Pin  *Pin // --pin-gateway-arp; nil: the gateway's entry is left to the kernel
}

// Name implements realserver.Mode.
func (DR) Name() string { return "dr" }

// VIPList implements realserver.Mode.
func (s DR) VIPList() []netip.Addr { return s.VIPs }

// Validate rejects bad input before the host is read.
func (s DR) Validate() error {
	if len(s.VIPs) == 0 {
		return realserver.Inputf("dr needs at least one --vip")
	}
	if s.Pin != nil {
		return s.Pin.Validate()
	}
	return nil
}

// Preflight rejects a VIP that is one of this host's own addresses, and a
// gateway to pin that cannot be found.
func (s DR) Preflight(v *realserver.View) error {
	if err := realserver.CheckNotLocalRIP(v, s.VIPs); err != nil {
		return err
	}
	if s.Pin != nil {
		return s.Pin.Preflight(v)
	}
	return nil
}

// Invariants: lo up, ARP suppression on every ARP-capable interface, each
// VIP as a host address on lo and on no ARP-capable interface; with Pin,
// the default gateway's entry pinned.
func (s DR) Invariants() []realserver.Invariant {
	invs := []realserver.Invariant{realserver.LinkUp("link.up", "lo")}
	invs = append(invs, Suppression(nil)...)
	invs = append(invs, realserver.VIPBound(s.VIPs, "lo", "lo"), realserver.VIPExclusive(s.VIPs))
	if s.Pin != nil {
		invs = append(invs, s.Pin.Invariant())
	}
	return invs
}

// Footprint implements the footprint doctor asks for: the VIPs on lo, ARP
// suppression, and a host that is not a router.
func (s DR) Footprint() realserver.Footprint {
	return realserver.Footprint{
		Sysctls:    realserver.EffectiveSysctls(s.Invariants()),
		VIPs:       s.VIPs,
		VIPDevices: []string{"lo"},
		ARPSilent:  true,
		NotARouter: true,
	}
}
