// Package hostwide is the invariants that set host-wide kernel settings,
// shared by the modes that hold a VIP on a local device: ARP suppression
// (DR, and TUN's IPv4 VIPs), so the host neither answers ARP for a VIP nor
// announces it, and forwarding off (DR and TUN with --forwarding off), so
// it routes nothing. They write conf/all and conf/default, which reach
// every interface of the host (or network namespace), and down restores
// what they changed.
package hostwide

import "github.com/rsprep/rsprep/realserver"

// Suppression keeps the host from answering ARP for, or announcing, a VIP it
// holds on a non-ARP device:
//
//   - arp_ignore=1: answer only for addresses on the interface the request
//     came in on;
//   - arp_announce=2: always use the best local address of the outgoing
//     interface as ARP source, never the VIP.
//
// The kernel uses max(conf/all, conf/IFACE) for both, so the check is of
// the effective value on every up, ARP-capable interface (plus extra, e.g.
// tunl0), and the fix sets all, lo (as the classic scripts do) and default
// (so an interface created later inherits it).
func Suppression(extra []string) []realserver.Invariant {
	direct := []string{"all", "default", "lo"}
	return []realserver.Invariant{
		realserver.EffectiveSysctl{ID: "arp.ignore", Name: "arp_ignore", Want: 1, Direct: direct, UpARPCapable: true, Ifaces: extra},
		realserver.EffectiveSysctl{ID: "arp.announce", Name: "arp_announce", Want: 2, Direct: direct, UpARPCapable: true, Ifaces: extra},
	}
}
