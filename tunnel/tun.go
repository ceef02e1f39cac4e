// Package tunnel is TUN mode (ipvsadm -i): the director wraps each packet
// in IP-in-IP; the real server unwraps it on tunl0, where the VIP is bound,
// and answers the client directly.
package tunnel

import (
	"net/netip"

	"github.com/rsprep/rsprep/arp"
	"github.com/rsprep/rsprep/realserver"
)

// The fallback tunnel devices that the modules create, where decapsulated
// packets arrive and the VIPs are bound.
const (
	dev4 = "tunl0"   // ipip
	dev6 = "ip6tnl0" // ip6_tunnel
)

// TUN is the desired state of an IP-in-IP real server.
type TUN struct {
	VIPs     []netip.Addr
	RPFilter RPFilter
	Pin      *arp.Pin // --pin-gateway-arp
	// DIP is --dip: the director, to which a route must exist and whose
	// next hop must answer. Invalid: not checked.
	DIP netip.Addr
	// ForwardingOff is --forwarding off: the host routes nothing (ip.forward).
	// False: forwarding is left as it is (Docker and Kubernetes need it).
	ForwardingOff bool
}

// Name implements realserver.Mode.
func (TUN) Name() string { return "tun" }

// VIPList implements realserver.Mode.
func (s TUN) VIPList() []netip.Addr { return s.VIPs }

// Validate rejects bad input before the host is read.
func (s TUN) Validate() error {
	if len(s.VIPs) == 0 {
		return realserver.Inputf("tun needs at least one --vip")
	}
	if s.RPFilter != RPFilterUnset && !s.hasIPv4() {
		return realserver.Inputf("--rp-filter %s: rp_filter is IPv4 only, and every VIP is IPv6", s.RPFilter)
	}
	if err := arp.ValidateDIP(s.DIP, s.VIPs); err != nil {
		return err
	}
	if s.Pin != nil {
		return s.Pin.Validate()
	}
	return nil
}

// Preflight rejects a VIP that is one of this host's own addresses, a DIP
// this host has no route to, and a gateway to pin that cannot be found.
func (s TUN) Preflight(v *realserver.View) error {
	if err := realserver.CheckNotLocalRIP(v, s.VIPs); err != nil {
		return err
	}
	if s.DIP.IsValid() {
		if _, err := dipHop(v, s.DIP); err != nil {
			return realserver.KeepInput(err)
		}
	}
	if s.Pin != nil {
		return s.Pin.Preflight(v)
	}
	return nil
}

// Invariants, in the order apply needs them: the module that creates the
// tunnel device, the device up, ARP suppression and rp_filter (sysctls
// before addresses), then the VIPs. IPv4 pieces only with an IPv4 VIP,
// IPv6 ones only with an IPv6 VIP: a host-wide knob is touched only when
// it matters.
func (s TUN) Invariants() []realserver.Invariant {
	var invs []realserver.Invariant
	if s.hasIPv4() {
		invs = append(invs, moduleLoaded("ipip", dev4, "ipip"), tunnelUp(dev4, "ipip"))
		invs = append(invs, arp.Suppression([]string{dev4})...)
		invs = append(invs, s.RPFilter.invariant())
	}
	if s.ForwardingOff {
		invs = append(invs, arp.ForwardingOff(s.hasIPv6()))
	}
	if s.hasIPv6() {
		invs = append(invs, moduleLoaded("ip6_tunnel", dev6, "ip6tnl"), tunnelUp(dev6, "ip6tnl"))
	}
	invs = append(invs, realserver.VIPBound(s.VIPs, dev4, dev6), realserver.VIPExclusive(s.VIPs))
	if s.Pin != nil {
		invs = append(invs, s.Pin.Invariant())
	}
	if s.DIP.IsValid() {
		invs = append(invs, s.dipInvariants()...)
	}
	return invs
}

func (s TUN) hasIPv4() bool {
	for _, ip := range s.VIPs {
		if ip.Is4() {
			return true
		}
	}
	return false
}

func (s TUN) hasIPv6() bool {
	for _, ip := range s.VIPs {
		if ip.Is6() {
			return true
		}
	}
	return false
}

// Footprint is what doctor asks of the mode: the VIPs on the tunnel
// devices, ARP suppression and rp_filter, and a host that is not a router.
func (s TUN) Footprint() realserver.Footprint {
	fp := realserver.Footprint{
		Sysctls:    realserver.EffectiveSysctls(s.Invariants()),
		VIPs:       s.VIPs,
		ARPSilent:  true,
		NotARouter: true,
		// With --forwarding off, ip.forward is this mode's invariant.
		ForwardingOwned: s.ForwardingOff,
	}
	if s.hasIPv4() {
		fp.VIPDevices = append(fp.VIPDevices, dev4)
	}
	if s.hasIPv6() {
		fp.VIPDevices = append(fp.VIPDevices, dev6)
	}
	return fp
}
