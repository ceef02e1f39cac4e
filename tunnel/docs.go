package tunnel

import "github.com/rsprep/rsprep/realserver"

// InvariantDocs are TUN's invariants as the man page describes them, one
// row per ID its Invariants report for some encapsulation and underlay
// (cmd/rsprep's TestManInvariantIDs holds the two to each other).
var InvariantDocs = []realserver.InvariantDoc{
	{ID: "module.ipip", Text: "tunl0 exists with type ipip (the module is loaded or built in)."},
	{ID: "link.tunl0", Text: "tunl0 is up."},
	{ID: "arp.ignore", Text: "as in dr, on every up ARP-capable interface and tunl0."},
	{ID: "arp.announce", Text: "as in dr, likewise."},
	{ID: "rp.filter", Text: "the effective rp_filter of tunl0, max(conf/all, conf/tunl0), is 0 (2 with --rp-filter loose)."},
	{ID: "module.ip6_tunnel", Text: "for IPv6 VIPs: ip6tnl0 exists with type ip6tnl."},
	{ID: "link.ip6tnl0", Text: "for IPv6 VIPs: ip6tnl0 is up."},
	{ID: "vip.bound", Text: "each IPv4 VIP is on tunl0 as /32 (label tunl0:rsprep), each IPv6 VIP on ip6tnl0 as /128."},
	{ID: "vip.exclusive", Text: "no VIP is on an ARP-capable interface."},
	{ID: "ip.forward", Text: "with --forwarding off: as in dr, tunl0 included."},
	{ID: "dip.route", Text: "with --dip: the main table has a route to the DIP (checked before anything changes)."},
	{ID: "dip.reachable", Text: "with --dip: the next hop toward the DIP has a live neighbour entry or answers ARP (an audit)."},
	{ID: "gw.pinned", Text: "with --pin-gateway-arp: as in dr."},
	{ID: "module.fou", Text: "with --encap gue: the fou module is loaded (fou6 too for an IPv6 underlay)."},
	{ID: "fou.port", Text: "with --encap gue: a GUE receive port --encap-port is open for the underlay's family (ip fou add port P gue)."},
	{ID: "module.ip_gre", Text: "with --encap gre: gre0 exists with type gre (module ip_gre)."},
	{ID: "link.gre0", Text: "with --encap gre: gre0 is up (it starts down)."},
	{ID: "module.ip6_gre", Text: "with --encap gre --underlay ipv6: ip6gre0 exists with type ip6gre (module ip6_gre)."},
	{ID: "link.ip6gre0", Text: "with --encap gre --underlay ipv6: ip6gre0 is up."},
	{ID: "module.sit", Text: "for an IPv6 VIP over an IPv4 underlay: sit0 exists (module sit)."},
	{ID: "link.sit0", Text: "for an IPv6 VIP over an IPv4 underlay: sit0 is up."},
	{ID: "tunnel.mode", Text: "for an IPv4 VIP over an IPv6 underlay: ip6tnl0 accepts IPv4 inside (mode any or ipip6; it starts as ip6ip6)."},
	{ID: "mss.clamp", Text: "with --mss N|auto: a rule from each VIP (ip -6 rule for an IPv6 one) to rsprep's table 7301, whose routes copy main's of the VIP's family with advmss N."},
}
