package doctor

import (
	"fmt"
	"path"
	"path/filepath"
	"strings"
)

// networkDirs are systemd-networkd's .network directories, in decreasing
// precedence.
var networkDirs = []string{"/etc/systemd/network", "/run/systemd/network", "/usr/local/lib/systemd/network", "/usr/lib/systemd/network", "/lib/systemd/network"}

// networkdConfDirs hold networkd.conf's drop-ins (networkd.conf.d).
var networkdConfDirs = []string{"/etc/systemd/networkd.conf.d", "/run/systemd/networkd.conf.d", "/usr/local/lib/systemd/networkd.conf.d", "/usr/lib/systemd/networkd.conf.d"}

// networkd reports what a restart or a lease of systemd-networkd undoes,
// when it runs or is enabled:
//   - a .network for a VIP's device without KeepConfiguration=static|yes:
//     reconfiguring the link can drop the addresses it did not configure (the VIPs);
//   - NAT: with ManageForeignRoutes (default yes) on the uplink it
//     manages, the default route via the DIP and the keep-routes are
//     deleted; DHCP (or RA) without UseGateway=no replaces the default.
//
// Drop-ins (foo.network.d/*.conf) are read for KeepConfiguration only.
// Not handled: [Match] keys other than Name= (they are assumed to match,
// and the finding says so).
func (d *doctor) networkd() error {
	source, active := d.networkdActive()
	if !active {
		return nil
	}
	files, err := d.t.confFiles(".network", networkDirs...)
	if err != nil {
		return err
	}
	var nets []*iniFile
	for _, f := range files {
		nf, ok, err := d.t.readINI(f)
		if err != nil {
			return err
		}
		if ok {
			nets = append(nets, nf)
		}
	}
	fp := d.in.Footprint
	for _, dev := range fp.VIPDevices {
		nf, caveat := matchNetwork(nets, dev)
		if nf == nil {
			continue
		}
		keep, err := d.withDropIns(nf, "Network", "KeepConfiguration")
		if err != nil {
			return err
		}
		switch strings.ToLower(keep) {
		case "static", "yes", "true", "on", "1":
			continue
		}
		d.add(Finding{
			ID: "networkd.lo-unkept", Source: nf.where("Match", "Name"), Subject: dev,
			What: fmt.Sprintf("%s (%s) manages %s without KeepConfiguration=static: when systemd-networkd reconfigures it (a restart on upgrade, networkctl reconfigure) it can drop the addresses it did not configure, rsprep's VIPs (whether a plain restart does depends on its version)%s", path.Base(nf.path), source, dev, caveat),
			Fix:  fmt.Sprintf("add KeepConfiguration=static to [Network] in %s", nf.path),
		})
	}
	uplink := d.uplink()
	if uplink == "" {
		return nil
	}
	nf, caveat := matchNetwork(nets, uplink)
	if nf == nil {
		return nil // networkd does not manage the uplink
	}
	if err := d.foreignRoutes(nf, uplink, caveat); err != nil {
		return err
	}
	d.networkdDHCP(nf, uplink, caveat)
	return nil
}

// withDropIns is a .network's value of section/name after its drop-ins
// (foo.network.d/*.conf in every network directory, in name order; a
// later assignment wins).
func (d *doctor) withDropIns(nf *iniFile, section, name string) (string, error) {
	v, _ := nf.last(section, name)
	var dirs []string
	for _, dir := range networkDirs {
		dirs = append(dirs, path.Join(dir, path.Base(nf.path)+".d"))
	}
	files, err := d.t.confFiles(".conf", dirs...)
	if err != nil {
		return "", err
	}
	for _, f := range files {
		c, ok, err := d.t.readINI(f)
		if err != nil {
			return "", err
		}
		if ok {
			if dv, set := c.last(section, name); set {
				v = dv
			}
		}
	}
	return v, nil
}

// networkdActive: systemd-networkd runs now (a live fact), or is enabled
// for boot (a wants link under the root).
func (d *doctor) networkdActive() (string, bool) {
	if d.facts.running(procNetworkd) {
		return "systemd-networkd running", true
	}
	links, _ := filepath.Glob(filepath.Join(d.t.root, "/etc/systemd/system/*.wants/systemd-networkd.service"))
	if len(links) > 0 {
		return "systemd-networkd enabled", true
	}
	return "", false
}

func (d *doctor) foreignRoutes(nf *iniFile, uplink, caveat string) error {
	files, err := d.t.confFiles(".conf", networkdConfDirs...)
	if err != nil {
		return err
	}
	source, manage := "networkd.conf default (ManageForeignRoutes=yes)", true
	for _, f := range append([]string{"/etc/systemd/networkd.conf"}, files...) {
		c, ok, err := d.t.readINI(f)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		if v, set := c.last("Network", "ManageForeignRoutes"); set {
			source, manage = c.where("Network", "ManageForeignRoutes"), isTrue(v)
		}
	}
	if !manage {
		return nil
	}
	d.add(Finding{
		ID: "networkd.foreign-routes", Source: source, Subject: uplink,
		What: fmt.Sprintf("systemd-networkd manages the uplink %s (%s) and removes routes it did not make: at its next restart the default route via the DIP and the keep-routes are deleted%s", uplink, path.Base(nf.path), caveat),
		Fix:  "set ManageForeignRoutes=no in [Network] of /etc/systemd/networkd.conf.d/rsprep.conf, or configure the default route via the DIP in " + nf.path,
	})
	return nil
}

// networkdDHCP: a lease (or a router advertisement) on the uplink installs
// the router's default route over the one via the DIP.
func (d *doctor) networkdDHCP(nf *iniFile, uplink, caveat string) {
	dhcp, _ := nf.last("Network", "DHCP")
	dhcp = strings.ToLower(dhcp)
	if isTrue(dhcp) || dhcp == "ipv4" || dhcp == "both" {
		useGW, set := nf.last("DHCPv4", "UseGateway")
		if !set {
			useGW, set = nf.last("DHCPv4", "UseRoutes")
		}
		if !set || isTrue(useGW) {
			d.add(Finding{
				ID: "networkd.dhcp-gateway", Source: nf.where("Network", "DHCP"), Subject: uplink,
				What: fmt.Sprintf("DHCPv4 on the uplink %s without UseGateway=no: a lease renewal installs the router's default route over the one via the DIP%s", uplink, caveat),
				Fix:  "add [DHCPv4] UseGateway=no to " + nf.path,
			})
		}
	}
	// Unset, networkd accepts RAs on a link that does not forward IPv6:
	// that counts once NAT has an IPv6 DIP (a refused NAT6 run forwards).
	ra, set := nf.last("Network", "IPv6AcceptRA")
	source, accept := nf.where("Network", "IPv6AcceptRA"), set && isTrue(ra)
	if !set && d.in.Footprint.DefaultVia6.IsValid() {
		source, accept, ra = nf.path+" (IPv6AcceptRA= unset: networkd's default on a host that does not forward)", true, "yes"
	}
	if accept {
		if gw, set := nf.last("IPv6AcceptRA", "UseGateway"); !set || isTrue(gw) {
			d.add(Finding{
				ID: "networkd.dhcp-gateway", Source: source, Subject: uplink,
				What: fmt.Sprintf("IPv6AcceptRA=%s on the uplink %s without UseGateway=no: a router advertisement installs an IPv6 default route that bypasses the director%s", ra, uplink, caveat),
				Fix:  "add [IPv6AcceptRA] UseGateway=no to " + nf.path,
			})
		}
	}
}

// matchNetwork is the .network systemd-networkd applies to the link name:
// the first, in file-name order, whose [Match] matches. Name= is a list
// of shell globs, inverted by a leading "!"; Type= is evaluated for lo
// (loopback). A file whose [Match] also has keys doctor does not
// evaluate is assumed to match, and caveat says so.
func matchNetwork(nets []*iniFile, name string) (nf *iniFile, caveat string) {
	for _, n := range nets {
		pats := n.all("Match", "Name")
		if len(pats) > 0 && !matchNames(pats, name) {
			continue
		}
		if types := n.all("Match", "Type"); name == "lo" && len(types) > 0 && !matchNames(types, "loopback") {
			continue // lo's type is loopback: a file for ether, wlan, … is not for it
		}
		var other []string
		for _, o := range n.opts {
			if strings.EqualFold(o.Section, "Match") && o.Name != "Name" && !(o.Name == "Type" && name == "lo") {
				other = append(other, o.Name+"=")
			}
		}
		if len(other) > 0 {
			caveat = fmt.Sprintf(" (assuming [Match] %s matches too: doctor does not evaluate it)", strings.Join(other, " "))
		}
		return n, caveat
	}
	return nil, ""
}

func matchNames(pats []string, name string) bool {
	invert := strings.HasPrefix(pats[0], "!")
	hit := false
	for i, p := range pats {
		if i == 0 && invert {
			p = p[1:]
		}
		if ok, _ := path.Match(p, name); ok {
			hit = true
		}
	}
	return hit != invert
}
