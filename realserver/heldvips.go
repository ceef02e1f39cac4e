package realserver

import (
	"net/netip"
	"slices"

	"github.com/rsprep/rsprep/realserver/input"
)

// HeldVIPs is what a run does with a VIP found as a host address (/32,
// /128) on an ARP-capable interface: that is where the director, or
// keepalived's VRRP, holds it, and taking it away would be an outage.
type HeldVIPs int

const (
	RefuseHeldVIPs HeldVIPs = iota // apply: bad input (exit 2) before anything changes
	ReportHeldVIPs                 // verify, down: vip.exclusive fails, with no fix
	TakeHeldVIPs                   // --take-vip-from-arp-interface: move it (KindAddrTake); down gives it back
)

// TakeVIPFlag is the flag that lets apply move a VIP off an ARP-capable
// interface (and down give it back).
const TakeVIPFlag = "--take-vip-from-arp-interface"

// CheckVIPsHeld rejects, with RefuseHeldVIPs, a VIP that is a host
// address on an ARP-capable interface, before anything changes: where it
// is, why rsprep will not take it, and how to proceed. (One with a subnet
// is the host's own address: CheckNotLocalRIP.)
func CheckVIPsHeld(v *View, vips []netip.Addr, held HeldVIPs) error {
	if held != RefuseHeldVIPs {
		return nil
	}
	links, err := v.Links()
	if err != nil {
		return &ObserveError{Err: err}
	}
	for _, ip := range vips {
		present, err := v.AddrsOf(ip)
		if err != nil {
			return &ObserveError{Err: err}
		}
		for _, a := range present {
			if i := slices.IndexFunc(links, func(l Link) bool { return l.Name == a.Link }); i >= 0 && links[i].ARPCapable() && a.Prefix.Bits() == ip.BitLen() {
				return input.Errorf("VIP %s is on %s, which answers ARP for it: this host looks like the director or its VRRP peer (keepalived), and taking the VIP away would be an outage; rsprep changed nothing. Run rsprep on the real servers, remove %s from %s first, or pass %s to move it (down gives it back)",
					ip, a.Link, a.Prefix, a.Link, TakeVIPFlag)
			}
		}
	}
	return nil
}
