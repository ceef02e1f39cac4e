// Package tunnel is TUN mode (ipvsadm -i): the director wraps each packet
// in IP-in-IP, GUE or GRE; the real server unwraps it on a tunnel device,
// where the VIP is bound, and answers the client directly.
package tunnel

import (
	"net/netip"
	"slices"

	"github.com/rsprep/rsprep/arp"
	"github.com/rsprep/rsprep/realserver"
	"github.com/rsprep/rsprep/realserver/director"
	"github.com/rsprep/rsprep/realserver/hostwide"
	"github.com/rsprep/rsprep/realserver/input"
)

// The fallback tunnel devices of plain IP-in-IP.
const (
	dev4 = "tunl0"   // ipip
	dev6 = "ip6tnl0" // ip6_tunnel
)

// TUN is the desired state of a tunnelling real server.
type TUN struct {
	VIPs     []netip.Addr
	Encap    Encap  // --encap; "" is ipip
	Port     uint16 // --encap-port: the GUE port (the director's --tun-port)
	Underlay int    // --underlay: 4 or 6; 0: each VIP's own family
	MSS      MSS    // --mss
	RPFilter RPFilter
	Pin      *arp.Pin // --pin-gateway-arp
	// DIP is --dip: the director, to which a route must exist and whose
	// next hop must answer. Invalid: not checked.
	DIP netip.Addr
	// ForwardingOff is --forwarding off: the host routes nothing (ip.forward).
	// False: forwarding is left as it is (Docker and Kubernetes need it).
	ForwardingOff bool
	// HeldVIPs: as in arp.DR.
	HeldVIPs realserver.HeldVIPs
}

// Name implements realserver.Mode.
func (TUN) Name() string { return "tun" }

// VIPList implements realserver.Mode.
func (s TUN) VIPList() []netip.Addr { return s.VIPs }

// Validate rejects bad input before the host is read.
func (s TUN) Validate() error {
	if len(s.VIPs) == 0 {
		return input.Errorf("tun needs at least one --vip")
	}
	if s.Encap == EncapGUE && s.Port == 0 {
		return input.Errorf("--encap gue needs --encap-port (the director's --tun-port, e.g. 6080)")
	}
	if s.Encap != EncapGUE && s.Port != 0 {
		return input.Errorf("--encap-port %d is for --encap gue, and the encapsulation is %s", s.Port, s.encap())
	}
	if s.RPFilter != RPFilterUnset && !s.has(4) {
		return input.Errorf("--rp-filter %s: rp_filter is IPv4 only, and every VIP is IPv6", s.RPFilter)
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
// this host has no route to, and a gateway to pin that cannot be found.
func (s TUN) Preflight(v *realserver.View) error {
	if err := realserver.CheckNotLocalRIP(v, s.VIPs); err != nil {
		return err
	}
	if err := realserver.CheckVIPsOffPath(v, s.VIPs); err != nil {
		return err
	}
	if err := realserver.CheckNoForeignPrefix(v, s.VIPs, s.Footprint().VIPDevices); err != nil {
		return err
	}
	if err := realserver.CheckVIPsHeld(v, s.VIPs, s.HeldVIPs); err != nil {
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

// ForDown implements realserver.Mode: down checks neither the director
// (gone, it must not block the teardown) nor the gateway (down removes
// the entry rsprep recorded, whatever --gateway says).
func (s TUN) ForDown() realserver.Mode {
	s.DIP, s.Pin = netip.Addr{}, nil
	s.HeldVIPs = max(s.HeldVIPs, realserver.ReportHeldVIPs) // as in arp.DR
	return undo{s}
}

// undo is TUN as down runs it: a VIP that is in the host's path (a
// gateway, a broadcast address), refused by apply, may still have been
// bound by hand or by an older rsprep, and down must be able to remove it.
type undo struct{ TUN }

// Preflight still refuses a VIP that is the host's own address.
func (s undo) Preflight(v *realserver.View) error { return realserver.CheckNotLocalRIP(v, s.VIPs) }

// Invariants, in the order apply needs them: for each device a packet
// comes out on, the modules that create it (and fou's port for GUE), the
// device up and in a mode that takes the inner family; ARP suppression and
// rp_filter (sysctls before addresses); then the VIPs and their MSS. IPv4
// pieces only with an IPv4 VIP: a host-wide knob is touched only when it
// matters.
func (s TUN) Invariants() []realserver.Invariant {
	var invs []realserver.Invariant
	if s.encap() == EncapGUE {
		invs = append(invs, fouLoaded(slices.ContainsFunc(s.decaps(), func(d innerDecap) bool { return s.underlay(d.inner) == 6 })))
	}
	for _, d := range s.decaps() {
		for _, m := range d.modules {
			if m == "fou" || m == "fou6" {
				continue
			}
			invs = append(invs, moduleLoaded(m, d.dev, d.kind))
		}
		if s.encap() == EncapGUE {
			invs = append(invs, fouPort(s.underlay(d.inner), s.Port))
		}
		invs = append(invs, tunnelUp(d.dev, d.kind))
		if d.mode {
			invs = append(invs, tunnelMode(d.dev, s.innerOn(d.dev)))
		}
	}
	if s.has(4) {
		v4 := s.decap(4).dev
		invs = append(invs, hostwide.Suppression([]string{v4})...)
		invs = append(invs, s.RPFilter.invariant(v4))
	}
	if s.ForwardingOff {
		invs = append(invs, hostwide.ForwardingOff(s.has(6)))
	}
	invs = append(invs, realserver.VIPBound(s.VIPs, s.decap(4).dev, s.decap(6).dev), realserver.VIPExclusive(s.VIPs, s.HeldVIPs))
	if s.MSS != 0 {
		invs = append(invs, s.mssClamp())
	}
	if s.Pin != nil {
		invs = append(invs, s.Pin.Invariant())
	}
	if s.DIP.IsValid() {
		invs = append(invs, s.dipInvariants()...)
	}
	return invs
}

// Modules implements realserver.Mode: the modules that create the tunnel
// devices (and fou for GUE), as the invariants load them.
func (s TUN) Modules() []string {
	var mods []string
	for _, d := range s.decaps() {
		for _, m := range d.modules {
			if !slices.Contains(mods, m) {
				mods = append(mods, m)
			}
		}
	}
	return mods
}

// innerDecap is a decap for one inner family.
type innerDecap struct {
	decap
	inner int
}

// decaps lists the decaps the VIPs need, one per device (an IPv4 and an
// IPv6 VIP over one IPv6 underlay share ip6tnl0).
func (s TUN) decaps() []innerDecap {
	var out []innerDecap
	for _, fam := range []int{4, 6} {
		if !s.has(fam) {
			continue
		}
		d := s.decap(fam)
		if !slices.ContainsFunc(out, func(x innerDecap) bool { return x.dev == d.dev }) {
			out = append(out, innerDecap{d, fam})
		}
	}
	return out
}

func (s TUN) decap(inner int) decap { return decapFor(s.encap(), s.underlay(inner), inner) }

// innerOn lists the inner families that arrive on dev.
func (s TUN) innerOn(dev string) []int {
	var fams []int
	for _, fam := range []int{4, 6} {
		if s.has(fam) && s.decap(fam).dev == dev {
			fams = append(fams, fam)
		}
	}
	return fams
}

func (s TUN) encap() Encap {
	if s.Encap == "" {
		return EncapIPIP
	}
	return s.Encap
}

// underlay is the family the director sends to, for VIPs of family inner.
func (s TUN) underlay(inner int) int {
	if s.Underlay != 0 {
		return s.Underlay
	}
	return inner
}

func (s TUN) has(fam int) bool {
	return slices.ContainsFunc(s.VIPs, func(ip netip.Addr) bool { return realserver.Family(ip) == fam })
}

// Footprint is what doctor asks of the mode: the VIPs on their tunnel
// devices (tunl0, gre0, ip6tnl0… as the encapsulation has it), ARP suppression and rp_filter, and a host that is not a router.
func (s TUN) Footprint() realserver.Footprint {
	fp := realserver.Footprint{
		Sysctls:    realserver.EffectiveSysctls(s.Invariants()),
		VIPs:       s.VIPs,
		ARPSilent:  true,
		NotARouter: true,
		// With --forwarding off, ip.forward is this mode's invariant.
		ForwardingOwned: s.ForwardingOff,
		// With --dip, rsprep drain can take the host out of rotation.
		DrainRules: realserver.DrainRules(s.VIPs, []netip.Addr{s.DIP}),
	}
	for _, d := range s.decaps() {
		fp.VIPDevices = append(fp.VIPDevices, d.dev)
		if s.encap() == EncapGUE {
			fp.FouPorts = append(fp.FouPorts, realserver.FouPort{Family: s.underlay(d.inner), Port: s.Port, GUE: true})
		}
	}
	if s.MSS != 0 {
		fp.Rules, fp.Tables = s.mssRules(), []int{mssTable}
	}
	return s.Pin.Footprint(fp)
}
