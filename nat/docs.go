package nat

import "github.com/rsprep/rsprep/realserver"

// InvariantDocs are NAT's invariants as the man page describes them, one
// row per ID its Invariants report (cmd/rsprep's TestManInvariantIDs holds
// the two to each other).
var InvariantDocs = []realserver.InvariantDoc{
	{ID: "dip.onlink", Text: "the DIP is in a directly connected subnet of an up interface and is not this host's own address (checked before anything changes)."},
	{ID: "route.keep", Text: "each --keep-route destination goes via the previous default gateway."},
	{ID: "route.default", Text: "the default route the kernel uses (lowest metric) goes via the DIP, for each family given a DIP (dual stack: one IPv4 and one IPv6)."},
	{ID: "ra.defrtr", Text: "with an IPv6 DIP: router advertisements cannot install a default route on its interface (accept_ra_defrtr is 0 there, or RAs are not accepted); SLAAC addresses stay."},
	{ID: "gw.pinned", Text: "with --pin-gateway-arp: the DIP's (or --gateway's) neighbour entry is PERMANENT with its MAC."},
}
