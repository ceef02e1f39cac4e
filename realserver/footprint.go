package realserver

import (
	"fmt"
	"net/netip"
)

// Footprint is what a mode's state depends on on this host, as data: what
// `rsprep doctor` needs to predict which other agent (sysctl.d, networkd,
// NetworkManager, DHCP) will undo it. Each mode says it in its own
// package, so doctor never re-types a mode's knowledge.
type Footprint struct {
	// Sysctls are the effective values the mode keeps (its
	// EffectiveSysctl invariants, with their interfaces and Direct keys).
	Sysctls []EffectiveSysctl
	// VIPs and the devices they are bound on (lo; tunl0, ip6tnl0).
	VIPs       []netip.Addr
	VIPDevices []string
	// ARPSilent: the host must not answer ARP for a VIP (dr, tun), so
	// proxy_arp and a kube-ipvs0 holding a VIP are risks.
	ARPSilent bool
	// DefaultVia is the next hop the mode makes the default route (NAT's
	// DIP); invalid when the mode leaves routes alone. The interface whose
	// subnet holds it is the uplink.
	DefaultVia netip.Addr
	// DefaultVia6 is DefaultVia of IPv6 (NAT's IPv6 DIP), apart so that a
	// dual-stack run names both.
	DefaultVia6 netip.Addr
	// KeepRoutes are the main table's routes the mode adds beside the
	// default (NAT's --keep-route, via the gateway the default had).
	KeepRoutes []netip.Prefix
	// Rules are the policy rules the mode adds (TUN's --mss: from each
	// VIP to its table); Tables the routing tables whose every route is
	// the mode's (--mss's copy of main with advmss), on the links main's
	// routes use.
	Rules  []Rule
	Tables []int
	// DrainRules are the policy rules `rsprep drain` adds with the mode's
	// flags (dr and tun with --dip): kernel state for the length of a
	// maintenance, which whatever deletes foreign rules ends early.
	DrainRules []DrainRule
	// FouPorts are the GUE receive ports the mode opens.
	FouPorts []FouPort
	// PinsGateway: the mode keeps a permanent neighbour entry for the
	// gateway (--pin-gateway-arp), PinnedGateway (invalid: the default
	// route's next hop, known only on the host).
	PinsGateway   bool
	PinnedGateway netip.Addr
	// NotARouter: with forwarding on, a packet for a VIP that is missing
	// is routed back out instead of dropped (dr, tun; issue 19).
	NotARouter bool
	// ForwardingOwned: the mode sets ip_forward itself (--forwarding
	// off), so it is the mode's invariant and not a risk doctor reports.
	ForwardingOwned bool
}

// EffectiveSysctls picks the EffectiveSysctl invariants out of a mode's
// list: the sysctl knowledge of a Footprint comes from the same values
// that apply and verify use.
func EffectiveSysctls(invs []Invariant) []EffectiveSysctl {
	var out []EffectiveSysctl
	for _, inv := range invs {
		if s, ok := inv.(EffectiveSysctl); ok {
			out = append(out, s)
		}
	}
	return out
}

// DrainPriority is the place of drain's rules: before --mss's rules
// (7301), which would otherwise route the reply through rsprep's MSS
// table, and before main (32766).
const DrainPriority = 7300

// DrainRule is one rule of `rsprep drain`: what goes from the VIP to the
// director's address over TCP finds no route, so the director's probe of
// the VIP fails while clients are served.
type DrainRule struct{ VIP, DIP netip.Addr }

func (r DrainRule) String() string {
	return fmt.Sprintf("from %s to %s ipproto tcp pref %d unreachable", r.VIP, r.DIP, DrainPriority)
}

// DrainRules pairs every VIP with each director address of its family:
// the director probes a VIP from its own address of the VIP's family. A
// VIP with no such address gets no rule (drain refuses it).
func DrainRules(vips, from []netip.Addr) []DrainRule {
	var out []DrainRule
	for _, v := range vips {
		for _, d := range from {
			if d.IsValid() && d.Is4() == v.Is4() {
				out = append(out, DrainRule{VIP: v, DIP: d})
			}
		}
	}
	return out
}
