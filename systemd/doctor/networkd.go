package doctor

import (
	"cmp"
	"fmt"
	"path"
	"strings"
)

// networkDirs are systemd-networkd's .network directories, in decreasing
// precedence.
var networkDirs = []string{"/etc/systemd/network", "/run/systemd/network", "/usr/local/lib/systemd/network", "/usr/lib/systemd/network", "/lib/systemd/network"}

// networkdConfDirs hold networkd.conf's drop-ins (networkd.conf.d).
var networkdConfDirs = []string{"/etc/systemd/networkd.conf.d", "/run/systemd/networkd.conf.d", "/usr/local/lib/systemd/networkd.conf.d", "/usr/lib/systemd/networkd.conf.d"}

// networkd reports what a restart or a lease of systemd-networkd undoes,
// when it runs or is enabled. When networkd configures a link a .network
// matches (at its start, a restart, networkctl reconfigure), it drops the
// configuration it did not make — unless the link is the loopback, which
// it never cleans, or the .network says KeepConfiguration=yes (=static
// keeps static addresses and static routes, not neighbours). Seen with
// Debian 12's networkd 252 (test/systemd-boot-networkd.sh):
//   - a .network for a VIP's tunnel device without KeepConfiguration=
//     static|yes: the VIPs go (lo's stay: it is never cleaned);
//   - NAT: with ManageForeignRoutes (default yes) on the uplink it
//     manages, the default route via the DIP and the keep-routes are
//     deleted; DHCP (or RA) without UseGateway=no replaces the default;
//   - TUN --mss, a drain: ManageForeignRoutingPolicyRules (default yes)
//     deletes their rules once networkd cleans any link, and
//     ManageForeignRoutes --mss's table's routes on the links it cleans;
//   - TUN GUE: a .netdev of its own on the fou port.
//
// Drop-ins (foo.network.d/*.conf) are read for KeepConfiguration only.
// [Match] is evaluated as networkd does for Name=, Type=, Kind=,
// MACAddress=, PermanentMACAddress= and Driver= against the link's facts;
// other keys, or a fact not known, are assumed to match, and the finding
// says so.
func (d *doctor) networkd() {
	source, active := d.networkdActive()
	if !active {
		return
	}
	files := d.t.confFiles(".network", networkDirs...)
	var nets []*iniFile
	for _, f := range files {
		nf, ok := d.t.readINI(f)
		if ok {
			nets = append(nets, nf)
		}
	}
	fp := d.in.Footprint
	for _, dev := range fp.VIPDevices {
		nf, keep, caveat := d.cleans(nets, d.linkOrDevice(dev))
		if nf == nil || keep == keepStatic {
			continue
		}
		d.add(Finding{
			ID: "networkd.lo-unkept", Source: nf.where("Match", "Name"), Subject: dev,
			What: fmt.Sprintf("%s (%s) manages %s without KeepConfiguration=static: when systemd-networkd configures it (at its next restart, networkctl reconfigure) it drops the addresses it did not configure, rsprep's VIPs%s", path.Base(nf.path), source, dev, caveat),
			Fix:  fmt.Sprintf("add KeepConfiguration=static to [Network] in %s", nf.path),
		})
	}
	d.foreignRules(nets)
	d.foreignTables(nets)
	d.foreignNeighbors(nets)
	d.fouNetdevs()
	up, ok := d.uplinkLink()
	if !ok {
		return
	}
	nf, caveat := matchNetwork(nets, up)
	if nf == nil {
		return // networkd does not manage the uplink
	}
	if _, keep, _ := d.cleans(nets, up); keep == keepNone {
		d.foreignRoutes(nf, up.Name, caveat) // rsprep's routes are static
	}
	d.networkdDHCP(nf, up.Name, caveat)
}

// How much of what it did not configure networkd keeps on a link it
// manages (KeepConfiguration=).
const (
	keepNone   = iota
	keepStatic // static addresses and routes of proto static
	keepAll    // yes: nothing is cleaned
)

// cleans is the .network networkd applies to link when it drops, at each
// configuration of the link, what it did not configure there: nil for a
// link it does not manage, the loopback (never cleaned) or a .network with
// KeepConfiguration=yes. keep says what static configuration stays.
func (d *doctor) cleans(nets []*iniFile, link Link) (nf *iniFile, keep int, caveat string) {
	if link.networkdType() == "loopback" {
		return nil, keepAll, ""
	}
	nf, caveat = matchNetwork(nets, link)
	if nf == nil {
		return nil, keepAll, ""
	}
	switch v := strings.ToLower(d.withDropIns(nf, "Network", "KeepConfiguration")); {
	case isTrue(v):
		return nil, keepAll, ""
	case v == "static":
		return nf, keepStatic, caveat
	}
	return nf, keepNone, caveat
}

// withDropIns is a .network's value of section/name after its drop-ins
// (foo.network.d/*.conf in every network directory, in name order; a
// later assignment wins).
func (d *doctor) withDropIns(nf *iniFile, section, name string) string {
	v, _ := nf.last(section, name)
	var dirs []string
	for _, dir := range networkDirs {
		dirs = append(dirs, path.Join(dir, path.Base(nf.path)+".d"))
	}
	files := d.t.confFiles(".conf", dirs...)
	for _, f := range files {
		c, ok := d.t.readINI(f)
		if ok {
			if dv, set := c.last(section, name); set {
				v = dv
			}
		}
	}
	return v
}

// networkdActive: systemd-networkd runs now (a live fact), or is enabled
// for boot (a wants link under the root).
func (d *doctor) networkdActive() (string, bool) {
	if d.facts.running(procNetworkd) {
		return "systemd-networkd running", true
	}
	if d.t.enabled("systemd-networkd.service") {
		return "systemd-networkd enabled", true
	}
	return "", false
}

// networkdDHCP: a lease (or a router advertisement) on the uplink installs
// the router's default route over the one via the DIP.
func (d *doctor) networkdDHCP(nf *iniFile, uplink, caveat string) {
	fixIn := d.generatedFrom(nf, uplink)
	dhcp, _ := nf.last("Network", "DHCP")
	dhcp = strings.ToLower(dhcp)
	if isTrue(dhcp) || dhcp == "ipv4" || dhcp == "both" {
		// [DHCP] is the section's old name, which netplan still writes.
		useGW, set := lastOf(nf, "UseGateway", "DHCPv4", "DHCP")
		if !set {
			useGW, set = lastOf(nf, "UseRoutes", "DHCPv4", "DHCP")
		}
		if !set || isTrue(useGW) {
			fix := "add [DHCPv4] UseGateway=no to " + nf.path
			if fixIn != "" {
				fix = fmt.Sprintf("add dhcp4-overrides: {use-routes: false} to %s in %s (netplan generates %s from it)", uplink, fixIn, nf.path)
			}
			d.add(Finding{
				ID: "networkd.dhcp-gateway", Source: nf.where("Network", "DHCP"), Subject: uplink,
				What: fmt.Sprintf("DHCPv4 on the uplink %s without UseGateway=no: a lease renewal installs the router's default route over the one via the DIP%s", uplink, caveat),
				Fix:  fix,
			})
		}
	}
	// networkd's own default: router advertisements are accepted unless
	// the link forwards or has no IPv6 link-local address (the kernel's
	// accept_ra, which networkd sets to 0 and handles itself, says nothing).
	ra, set := nf.last("Network", "IPv6AcceptRA")
	source := nf.where("Network", "IPv6AcceptRA")
	if !set {
		ll, _ := nf.last("Network", "LinkLocalAddressing")
		fwd, _ := lastOf(nf, "IPv6Forwarding", "Network")
		ipf, _ := nf.last("Network", "IPForward")
		if ll := strings.ToLower(ll); ll == "ipv4" || (ll != "" && !isTrue(ll) && ll != "ipv6" && ll != "both") || isTrue(fwd) || isTrue(ipf) || strings.EqualFold(ipf, "ipv6") {
			return
		}
		ra, source = "yes", nf.path+" (no IPv6AcceptRA=: networkd's default is yes)"
	}
	if !isTrue(ra) {
		return
	}
	if gw, set := nf.last("IPv6AcceptRA", "UseGateway"); !set || isTrue(gw) {
		fix := "add [IPv6AcceptRA] UseGateway=no to " + nf.path
		if fixIn != "" {
			fix = fmt.Sprintf("add accept-ra: false (or ra-overrides: {use-routes: false}) to %s in %s (netplan generates %s from it)", uplink, fixIn, nf.path)
		}
		d.add(Finding{
			ID: "networkd.dhcp-gateway", Source: source, Subject: uplink,
			What: fmt.Sprintf("networkd accepts router advertisements on the uplink %s (IPv6AcceptRA=%s, no UseGateway=no): one installs an IPv6 default route that bypasses the director%s", uplink, ra, caveat),
			Fix:  fix,
		})
	}
}

// lastOf is the last value of name in the first of sections that sets it.
func lastOf(nf *iniFile, name string, sections ...string) (string, bool) {
	for _, s := range sections {
		if v, ok := nf.last(s, name); ok {
			return v, true
		}
	}
	return "", false
}

// generatedFrom is the netplan file that configures dev, when nf is one
// netplan generated (/run/systemd/network/10-netplan-*): a fix belongs in
// the source, which the next `netplan generate` writes over nf from.
func (d *doctor) generatedFrom(nf *iniFile, dev string) string {
	if path.Dir(nf.path) != "/run/systemd/network" || !strings.HasPrefix(path.Base(nf.path), "10-netplan-") {
		return ""
	}
	src := ""
	for _, f := range d.t.confFiles(".yaml", netplanDirs...) {
		if y, ok := d.t.readYAML(f); ok {
			for _, kind := range netplanKinds {
				if y.path("network", kind, dev) != nil {
					src = f
				}
			}
		}
	}
	return cmp.Or(src, "/etc/netplan/*.yaml")
}
