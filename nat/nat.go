// Package nat is NAT mode (ipvsadm -m): the director rewrites addresses, so
// the real server's replies must go back through it to be rewritten again.
// The real server's default route points at the DIP; no VIP is bound.
// Dual stack: one IPv4 and one IPv6 DIP, each family's default via its own.
package nat

import (
	"net/netip"

	"github.com/rsprep/rsprep/arp"
	"github.com/rsprep/rsprep/realserver"
	"github.com/rsprep/rsprep/realserver/director"
	"github.com/rsprep/rsprep/realserver/input"
)

// NAT is the desired state of a NAT real server.
type NAT struct {
	DIP  netip.Addr // the IPv4 DIP; invalid when only an IPv6 one is given
	DIP6 netip.Addr // the IPv6 DIP (fe80::1%eth0 when link-local); invalid when only an IPv4 one is given
	// KeepRoutes keep going via the default gateway of their family as it
	// was before rsprep, so that management access from those subnets
	// survives.
	KeepRoutes []netip.Prefix
	Pin        *arp.Pin // --pin-gateway-arp: the IPv4 DIP's entry, unless --gateway
}

// DIPs are the DIPs given, IPv4 first.
func (n NAT) DIPs() []netip.Addr {
	var out []netip.Addr
	for _, d := range []netip.Addr{n.DIP, n.DIP6} {
		if d.IsValid() {
			out = append(out, d)
		}
	}
	return out
}

// keepRoutesOf are the keep-routes of dip's family.
func (n NAT) keepRoutesOf(dip netip.Addr) []netip.Prefix {
	var out []netip.Prefix
	for _, p := range n.KeepRoutes {
		if p.Addr().Is4() == dip.Is4() {
			out = append(out, p)
		}
	}
	return out
}

// Name implements realserver.Mode.
func (NAT) Name() string { return "nat" }

// VIPList implements realserver.Mode: NAT binds no VIP.
func (NAT) VIPList() []netip.Addr { return nil }

// Validate rejects bad input before the host is read.
func (n NAT) Validate() error {
	if !n.DIP.IsValid() && !n.DIP6.IsValid() {
		return input.Errorf("nat needs --dip (the director's address on this host's subnet)")
	}
	if n.DIP.IsValid() && !n.DIP.Is4() {
		return input.Errorf("--dip %q: the IPv4 DIP is not IPv4", n.DIP.String())
	}
	if n.DIP.IsValid() {
		if err := input.CheckUnicast("DIP", n.DIP); err != nil {
			return err
		}
	}
	if n.DIP6.IsValid() {
		if err := checkDIP6(n.DIP6); err != nil {
			return err
		}
	}
	seen := map[netip.Prefix]bool{}
	for _, p := range n.KeepRoutes {
		switch {
		case p.Addr().Is4() && !n.DIP.IsValid(), p.Addr().Is6() && !n.DIP6.IsValid():
			return input.Errorf("--keep-route %s: there is no --dip of its family, so its default route does not move", p)
		case p.Bits() == 0:
			return input.Errorf("--keep-route %s would keep every destination on the previous gateway: nothing would go back through the director", p)
		case seen[p]:
			return input.Errorf("--keep-route %s is given twice", p)
		}
		seen[p] = true
	}
	if n.Pin != nil {
		if !n.DIP.IsValid() && !n.Pin.Gateway.IsValid() {
			return input.Errorf("--pin-gateway-arp pins an IPv4 neighbour over ARP: give an IPv4 --dip or --gateway")
		}
		return n.pin().Validate()
	}
	return nil
}

// checkDIP6 rejects an IPv6 DIP that cannot be a next hop: a link-local
// one must name its interface (fe80::1%eth0), and only a link-local one
// may.
func checkDIP6(ip netip.Addr) error {
	bare := ip.WithZone("")
	switch {
	case bare.IsLinkLocalUnicast() && ip.Zone() == "":
		return input.Errorf("--dip %s is link-local: name its interface, e.g. %s%%eth0", ip, ip)
	case bare.IsLinkLocalUnicast():
		return nil
	case ip.Zone() != "":
		return input.Errorf("--dip %q: only a link-local DIP names its interface", ip.String())
	}
	return input.CheckUnicast("--dip", ip)
}

// Preflight checks, before anything changes, that the DIP can be a next
// hop here, that each keep-route really is a route the default carries,
// and that the gateway to pin can be found.
func (n NAT) Preflight(v *realserver.View) error {
	for _, dip := range n.DIPs() {
		link, err := director.DIPLink(v, dip)
		if err == nil && dip.Is6() {
			err = checkNotRouter6(v, dip, link)
		}
		if err == nil {
			err = n.checkKeepRoutes(v, dip)
		}
		if err != nil {
			return realserver.KeepInput(err)
		}
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

// Invariants, per DIP: dip.onlink, route.keep (before the default
// moves), ra.defrtr for the IPv6 one, route.default; and gw.pinned with
// Pin.
func (n NAT) Invariants() []realserver.Invariant {
	var invs []realserver.Invariant
	for _, dip := range n.DIPs() {
		invs = append(invs, director.DIPOnLink(dip, director.DIPLink), n.keepRoutes(dip))
		if dip.Is6() {
			invs = append(invs, raDefrtr(dip))
		}
		invs = append(invs, defaultRoute(dip))
	}
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

// Footprint is what doctor asks of the mode: the default routes via the
// DIPs and the keep-routes beside them, the pinned gateway entry; no VIP, no
// sysctl.
func (n NAT) Footprint() realserver.Footprint {
	fp := realserver.Footprint{DefaultVia: n.DIP, DefaultVia6: n.DIP6, KeepRoutes: n.KeepRoutes}
	if n.Pin != nil {
		p := n.pin()
		return p.Footprint(fp)
	}
	return fp
}
