package doctor

import (
	"fmt"
	"slices"
)

// arp reports who else may answer ARP for a VIP on a dr/tun real server:
// proxy_arp on an ARP-capable interface (the kernel answers for any
// address it routes elsewhere, the VIP included: conf/all OR the
// interface), and a kube-ipvs0 device holding a VIP (kube-proxy in IPVS
// mode without strictARP leaves arp_ignore alone and answers for it).
func (d *doctor) arp() {
	fp := d.in.Footprint
	if !fp.ARPSilent {
		return
	}
	for _, l := range d.facts.Links {
		if !l.Up || !l.ARPCapable {
			continue
		}
		all, allSrc, _ := d.value(confKey(4, "all", "proxy_arp"))
		own, ownSrc, _ := d.value(confKey(4, l.Name, "proxy_arp"))
		if max(all, own) == 0 {
			continue
		}
		source, key := ownSrc, confKey(4, l.Name, "proxy_arp")
		if all != 0 {
			source, key = allSrc, confKey(4, "all", "proxy_arp")
		}
		d.add(Finding{
			ID: "arp.proxy", Source: source, Subject: l.Name,
			What: fmt.Sprintf("proxy_arp is on for %s: it answers ARP for addresses routed elsewhere, so a VIP held on a non-ARP device is announced from here and steals the director's traffic", l.Name),
			Fix:  fmt.Sprintf("set %s = 0 (in /etc/sysctl.d/ too, if a file sets it)", dotted(key)),
		})
	}
	if l, ok := d.facts.link("kube-ipvs0"); ok {
		for _, p := range l.Addrs {
			if slices.Contains(fp.VIPs, p.Addr()) {
				d.add(Finding{
					ID: "kube-ipvs0.vip", Source: "link kube-ipvs0", Subject: p.Addr().String(),
					What: fmt.Sprintf("kube-ipvs0 holds the VIP %s (a Service IP of kube-proxy in IPVS mode): without strictARP the node answers ARP for it on every interface", p.Addr()),
					Fix:  "set ipvs.strictARP: true in kube-proxy's configuration (it then sets arp_ignore=1 and arp_announce=2), or give the Service another address",
				})
			}
		}
	}
}
