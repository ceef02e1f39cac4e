package doctor

import (
	"cmp"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"
)

// networkdSetting is a [Network] boolean of networkd.conf after its
// drop-ins, and where it is set (or its default).
func (d *doctor) networkdSetting(name string, def bool) (source string, on bool) {
	source, on = fmt.Sprintf("networkd.conf default (%s=%s)", name, yesNo(def)), def
	for _, f := range append([]string{"/etc/systemd/networkd.conf"}, d.t.confFiles(".conf", networkdConfDirs...)...) {
		c, ok := d.t.readINI(f)
		if !ok {
			continue
		}
		if v, set := c.last("Network", name); set {
			source, on = c.where("Network", name), isTrue(v)
		}
	}
	return source, on
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// foreignRoutes: NAT's default route via the DIP and its keep-routes on
// an uplink networkd manages.
func (d *doctor) foreignRoutes(nf *iniFile, uplink, caveat string) {
	source, manage := d.networkdSetting("ManageForeignRoutes", true)
	if !manage {
		return
	}
	where := nf.path
	if src := d.generatedFrom(nf, uplink); src != "" {
		where = fmt.Sprintf("%s (routes: to: default, via: %s; netplan generates %s from it)", src, d.in.Footprint.DefaultVia, nf.path)
	}
	what := "the default route via the DIP"
	if n := len(d.in.Footprint.KeepRoutes); n > 0 {
		what += fmt.Sprintf(" and the %d keep-route(s)", n)
	}
	d.add(Finding{
		ID: "networkd.foreign-routes", Source: source, Subject: uplink,
		What: fmt.Sprintf("systemd-networkd manages the uplink %s (%s) and removes routes it did not make: at its next restart it deletes %s%s", uplink, path.Base(nf.path), what, caveat),
		Fix:  "set ManageForeignRoutes=no in [Network] of /etc/systemd/networkd.conf.d/rsprep.conf, or configure the default route via the DIP in " + where,
	})
}

// foreignTables: a table whose every route is the mode's (--mss), copied
// from main onto links networkd manages.
func (d *doctor) foreignTables(nets []*iniFile) {
	tables := d.in.Footprint.Tables
	if len(tables) == 0 {
		return
	}
	var managed []string
	for _, l := range d.facts.Links {
		if len(l.Addrs) == 0 || slices.Contains(d.in.Footprint.VIPDevices, l.Name) {
			continue
		}
		// KeepConfiguration=static keeps them: rsprep's routes are static.
		if nf, keep, _ := d.cleans(nets, l); nf != nil && keep == keepNone {
			managed = append(managed, l.Name+" ("+path.Base(nf.path)+")")
		}
	}
	if len(managed) == 0 {
		return
	}
	source, manage := d.networkdSetting("ManageForeignRoutes", true)
	if !manage {
		return
	}
	for _, t := range tables {
		d.add(Finding{
			ID: "networkd.foreign-routes", Source: source, Subject: "table " + strconv.Itoa(t),
			What: fmt.Sprintf("systemd-networkd manages %s and removes routes it did not make: at its next restart the routes of table %d (--mss's clamp) are deleted, and connections to the VIPs advertise the unclamped MSS", strings.Join(managed, ", "), t),
			Fix:  "set ManageForeignRoutes=no in [Network] of /etc/systemd/networkd.conf.d/rsprep.conf (then run rsprep again once)",
		})
	}
}

// foreignNeighbors: --pin-gateway-arp's permanent entry for the gateway,
// which networkd removes, as every neighbour entry it did not make, when
// it configures a link it manages without KeepConfiguration=yes. The link
// is the one whose subnet holds the gateway; when the gateway is the
// default route's next hop (unknown here), every link networkd manages.
func (d *doctor) foreignNeighbors(nets []*iniFile) {
	fp := d.in.Footprint
	if !fp.PinsGateway {
		return
	}
	links := d.facts.Links
	if l, ok := d.facts.uplink(fp.PinnedGateway); ok && fp.PinnedGateway.IsValid() {
		links = []Link{l}
	}
	for _, l := range links {
		if len(l.Addrs) == 0 || slices.Contains(fp.VIPDevices, l.Name) {
			continue
		}
		nf, _, caveat := d.cleans(nets, l) // static keeps no neighbour
		if nf == nil {
			continue
		}
		gw := "the default gateway"
		if fp.PinnedGateway.IsValid() {
			gw = "the gateway " + fp.PinnedGateway.String()
		}
		d.add(Finding{
			ID: "networkd.foreign-neighbors", Source: nf.path, Subject: l.Name,
			What: fmt.Sprintf("systemd-networkd manages %s (%s) without KeepConfiguration=yes: when it configures the link (a restart, networkctl reconfigure) it removes neighbour entries it did not make, --pin-gateway-arp's permanent entry for %s%s", l.Name, path.Base(nf.path), gw, caveat),
			Fix:  fmt.Sprintf("add KeepConfiguration=yes to [Network] in %s, or pin the entry there ([Neighbor] Address= LinkLayerAddress=)", nf.path),
		})
	}
}

// foreignRules: the mode's policy rules (--mss) and those of a drain
// (dr and tun with --dip), which networkd deletes, with
// ManageForeignRoutingPolicyRules=yes (the default since v249), whenever
// it cleans a link it manages (see cleans): at its next restart, as soon
// as it manages one link that is not the loopback without
// KeepConfiguration=yes.
func (d *doctor) foreignRules(nets []*iniFile) {
	fp := d.in.Footprint
	if len(fp.Rules) == 0 && len(fp.DrainRules) == 0 {
		return
	}
	links := slices.Clone(d.facts.Links)
	for _, dev := range fp.VIPDevices {
		if _, ok := d.facts.link(dev); !ok {
			links = append(links, d.linkOrDevice(dev))
		}
	}
	var cleaned []string
	caveat := ""
	for _, l := range links {
		if nf, _, c := d.cleans(nets, l); nf != nil {
			cleaned = append(cleaned, l.Name+" ("+path.Base(nf.path)+")")
			caveat = cmp.Or(caveat, c)
		}
	}
	if len(cleaned) == 0 {
		return
	}
	source, manage := d.networkdSetting("ManageForeignRoutingPolicyRules", true)
	if !manage {
		return
	}
	when := fmt.Sprintf("systemd-networkd manages %s without KeepConfiguration=yes and, each time it configures such a link (at its next restart), removes policy rules it did not make%s", strings.Join(cleaned, ", "), caveat)
	const fix = "set ManageForeignRoutingPolicyRules=no in [Network] of /etc/systemd/networkd.conf.d/rsprep.conf"
	if rules := fp.Rules; len(rules) > 0 {
		d.add(Finding{
			ID: "networkd.foreign-rules", Source: source, Subject: fmt.Sprintf("ip rule %s", rules[0]),
			What: fmt.Sprintf("%s: the %d rule(s) of --mss (from each VIP, table %d) are deleted, and connections to the VIPs advertise the unclamped MSS", when, len(rules), rules[0].Table),
			Fix:  fix + " (then run rsprep again once), or KeepConfiguration=yes in those .network files",
		})
	}
	if rules := fp.DrainRules; len(rules) > 0 {
		d.add(Finding{
			ID: "networkd.foreign-rules", Source: source, Subject: fmt.Sprintf("ip rule %s", rules[0]),
			What: fmt.Sprintf("%s: a restart while this host is drained (rsprep drain) deletes the drain's %d rule(s) (from each VIP to the director %s), the director's probe passes again and the host is back in rotation in the middle of its maintenance", when, len(rules), rules[0].DIP),
			Fix:  fix + ", or KeepConfiguration=yes in those .network files",
		})
	}
}

// fouNetdevs: a .netdev of networkd's own on a fou port the mode opens
// (Kind=fou, [FooOverUDP] Port=): two owners of one port, and networkd's
// settings (Encapsulation=, Protocol=) are not necessarily GUE's.
func (d *doctor) fouNetdevs() {
	ports := d.in.Footprint.FouPorts
	if len(ports) == 0 {
		return
	}
	for _, f := range d.t.confFiles(".netdev", networkDirs...) {
		nd, ok := d.t.readINI(f)
		if !ok {
			continue
		}
		if kind, _ := nd.last("NetDev", "Kind"); kind != "fou" {
			continue
		}
		p, _ := nd.last("FooOverUDP", "Port")
		for _, fp := range ports {
			if p != strconv.Itoa(int(fp.Port)) {
				continue
			}
			enc, _ := nd.last("FooOverUDP", "Encapsulation")
			d.add(Finding{
				ID: "networkd.fou-port", Source: nd.where("FooOverUDP", "Port"), Subject: fmt.Sprintf("%d/ipv%d", fp.Port, fp.Family),
				What: fmt.Sprintf("systemd-networkd creates fou port %d itself (Encapsulation=%s): two owners of one port — whichever comes second fails, and a FooOverUDP port is not GUE", fp.Port, cmp.Or(enc, "FooOverUDP")),
				Fix:  fmt.Sprintf("remove %s (rsprep opens the port), or give the director and rsprep another --encap-port", f),
			})
		}
	}
}
