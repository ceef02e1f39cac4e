// Package nat is NAT mode (ipvsadm -m): the director rewrites addresses, so
// the real server's replies must go back through it to be rewritten again.
// The real server's default route points at the DIP; no VIP is bound.
package nat

import (
	"net/netip"

	"github.com/rsprep/rsprep/arp"
	"github.com/rsprep/rsprep/realserver"
	"github.com/rsprep/rsprep/realserver/input"
)

// NAT is the desired state of a NAT real server.
type NAT struct {
	DIP netip.Addr
	// KeepRoutes keep going via the default gateway as it was before
	// rsprep, so that management access from those subnets survives.
	KeepRoutes []netip.Prefix
	Pin        *arp.Pin // --pin-gateway-arp: the DIP's entry, unless --gateway
}

// Name implements realserver.Mode.
func (NAT) Name() string { return "nat" }

// VIPList implements realserver.Mode: NAT binds no VIP.
func (NAT) VIPList() []netip.Addr { return nil }

// Validate rejects bad input before the host is read.
func (n NAT) Validate() error {
	if !n.DIP.IsValid() {
		return input.Errorf("nat needs --dip (the director's address on this host's subnet)")
	}
	if !n.DIP.Is4() {
		return input.Errorf("--dip %s: NAT mode handles an IPv4 DIP only", n.DIP)
	}
	if err := input.CheckUnicast("DIP", n.DIP); err != nil {
		return err
	}
	seen := map[netip.Prefix]bool{}
	for _, p := range n.KeepRoutes {
		switch {
		case !p.Addr().Is4():
			return input.Errorf("--keep-route %s: only IPv4 routes are kept", p)
		case p.Bits() == 0:
			return input.Errorf("--keep-route %s would keep every destination on the previous gateway: nothing would go back through the director", p)
		case seen[p]:
			return input.Errorf("--keep-route %s is given twice", p)
		}
		seen[p] = true
	}
	if n.Pin != nil {
		return n.pin().Validate()
	}
	return nil
}

// Preflight checks, before anything changes, that the DIP can be a next
// hop here, that each keep-route really is a route the default carries,
// and that the gateway to pin can be found.
func (n NAT) Preflight(v *realserver.View) error {
	if _, err := arp.DIPLink(v, n.DIP); err != nil {
		return realserver.KeepInput(err)
	}
	if err := n.checkKeepRoutes(v); err != nil {
		return realserver.KeepInput(err)
	}
	if n.Pin != nil {
		return n.pin().Preflight(v)
	}
	return nil
}

// ForDown implements realserver.Mode: down runs no preflight (a DIP whose
// interface has gone away must not block its own teardown) and removes
// the pinned entry rsprep recorded, whatever --gateway says.
func (n NAT) ForDown() realserver.Mode {
	n.Pin = nil
	return undo{n}
}

// undo is NAT as down runs it: it undoes what the record says, so the
// host need not still match the input.
type undo struct{ NAT }

func (undo) Preflight(*realserver.View) error { return nil }

// Modules implements realserver.Mode: NAT loads no module.
func (NAT) Modules() []string { return nil }

// Invariants: dip.onlink, route.keep (before the default moves),
// route.default, and gw.pinned with Pin.
func (n NAT) Invariants() []realserver.Invariant {
	invs := []realserver.Invariant{arp.DIPOnLink(n.DIP, arp.DIPLink), n.keepRoutes(), n.defaultRoute()}
	if n.Pin != nil {
		invs = append(invs, n.pin().Invariant())
	}
	return invs
}

// pin is Pin with the DIP as the gateway unless --gateway names another.
func (n NAT) pin() arp.Pin {
	p := *n.Pin
	if !p.Gateway.IsValid() {
		p.Gateway = n.DIP
	}
	return p
}

// Footprint is what doctor asks of the mode: the default route via the DIP
// and the keep-routes beside it, the pinned gateway entry; no VIP, no
// sysctl.
func (n NAT) Footprint() realserver.Footprint {
	fp := realserver.Footprint{DefaultVia: n.DIP, KeepRoutes: n.KeepRoutes}
	if n.Pin != nil {
		p := n.pin()
		return p.Footprint(fp)
	}
	return fp
}
