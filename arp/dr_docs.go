package arp

import "github.com/rsprep/rsprep/realserver"

// DRInvariantDocs are DR's invariants as the man page describes them, one
// row per ID its Invariants report (cmd/rsprep's TestManInvariantIDs holds
// the two to each other).
var DRInvariantDocs = []realserver.InvariantDoc{
	{ID: "link.up", Text: "lo is up."},
	{ID: "arp.ignore", Text: "the effective arp_ignore, max(conf/all, conf/IFACE), is 1 on every up, ARP-capable interface; all, default and lo are set to 1."},
	{ID: "arp.announce", Text: "the effective arp_announce is 2, likewise."},
	{ID: "vip.bound", Text: "each VIP is on lo as /32 (label lo:rsprep) or /128, never with a shorter prefix."},
	{ID: "vip.exclusive", Text: "no VIP is on an ARP-capable interface."},
	{ID: "ip.forward", Text: "with --forwarding off: net.ipv4.ip_forward, conf/default/forwarding and every interface's forwarding are 0; with an IPv6 VIP also net.ipv6.conf.all.forwarding."},
	{ID: "dip.onlink", Text: "with --dip: the DIP is in a directly connected subnet of an up, ARP-capable interface and is not this host's own address (checked before anything changes)."},
	{ID: "dip.reachable", Text: "with --dip: the director has a live neighbour entry or answers an ARP probe (an audit: apply changes nothing for it)."},
	{ID: "gw.pinned", Text: "with --pin-gateway-arp: the gateway's neighbour entry is PERMANENT with its MAC."},
}
