package doctor

import "fmt"

// acceptRA: on a NAT real server, a router advertisement accepted on the
// uplink installs an IPv6 default route via the router, not the director:
// IPv6 replies bypass it. The kernel accepts RAs when accept_ra is 2, or 1
// with forwarding off on that interface, and takes their default router
// unless accept_ra_defrtr is 0.
func (d *doctor) acceptRA() {
	dip := d.in.Footprint.DefaultVia6 // the IPv6 DIP's uplink, else the IPv4 one's
	if !dip.IsValid() {
		dip = d.in.Footprint.DefaultVia
	}
	if !dip.IsValid() {
		return
	}
	up, ok := d.facts.uplink(dip)
	if !ok {
		return
	}
	ra, source, ok := d.value(confKey(6, up.Name, "accept_ra"))
	if !ok || ra == 0 {
		return
	}
	fwd, _, _ := d.value(confKey(6, up.Name, "forwarding"))
	defrtr, _, known := d.value(confKey(6, up.Name, "accept_ra_defrtr"))
	if !known {
		defrtr = 1
	}
	if defrtr == 0 || (ra == 1 && fwd != 0) {
		return
	}
	d.add(Finding{
		ID: "ipv6.accept-ra", Source: source, Subject: up.Name,
		What: fmt.Sprintf("accept_ra = %d on the uplink %s: a router advertisement installs an IPv6 default route via the router, so IPv6 replies bypass the director", ra, up.Name),
		Fix:  fmt.Sprintf("set net.ipv6.conf.%s.accept_ra_defrtr = 0 (or accept_ra = 0) in /etc/sysctl.d/, and in networkd/NetworkManager if they manage %s", dotted(up.Name), up.Name),
	})
}
