package doctor

import (
	"fmt"
	"path"
	"strings"
)

var (
	nmConfDirs       = []string{"/etc/NetworkManager/conf.d", "/run/NetworkManager/conf.d", "/usr/lib/NetworkManager/conf.d"}
	nmConnectionDirs = []string{"/etc/NetworkManager/system-connections", "/run/NetworkManager/system-connections", "/usr/lib/NetworkManager/system-connections"}
)

// networkManager reports, when NetworkManager runs, a keyfile connection
// for a VIP's device (NetworkManager ≥ 1.42 manages lo: `nmcli c up`
// reconfigures it and drops addresses it did not make) and, in NAT mode,
// one for the uplink that takes its gateway from DHCP or RA.
//
// Read: keyfiles (*.nmconnection) and unmanaged-devices in [keyfile] of
// NetworkManager.conf and conf.d. Not read: ifcfg-rh and ifupdown plugin
// connections, and the in-memory lo connection NetworkManager makes by
// itself.
func (d *doctor) networkManager() {
	if !d.facts.running(procNM) {
		return
	}
	unmanaged := d.nmUnmanaged()
	conns := d.t.confFiles(".nmconnection", nmConnectionDirs...)
	fp, uplink := d.in.Footprint, d.uplink()
	for _, c := range conns {
		kf, ok := d.t.readINI(c)
		if !ok {
			continue
		}
		iface, _ := kf.last("connection", "interface-name")
		kind, _ := kf.last("connection", "type")
		if iface == "" && kind == "loopback" {
			iface = "lo"
		}
		if iface == "" || unmanagedCovers(unmanaged, iface) {
			continue
		}
		for _, dev := range fp.VIPDevices {
			if iface == dev {
				d.add(Finding{
					ID: "nm.manages-lo", Source: kf.where("connection", "interface-name"), Subject: dev,
					What: fmt.Sprintf("NetworkManager manages %s (%s): nmcli c up/down, or a reconnect, reconfigures it and removes addresses it did not set, rsprep's VIPs", dev, path.Base(c)),
					Fix:  fmt.Sprintf("add unmanaged-devices=interface-name:%s to [keyfile] in /etc/NetworkManager/conf.d/rsprep.conf, or delete %s", dev, c),
				})
			}
		}
		if iface == uplink {
			d.nmUplink(kf, uplink)
		}
	}
}

// nmUplink: method=auto (the default) takes the router from DHCP or RA
// unless never-default=true.
func (d *doctor) nmUplink(kf *iniFile, uplink string) {
	for _, fam := range []string{"ipv4", "ipv6"} {
		method, _ := kf.last(fam, "method")
		if method != "" && method != "auto" && method != "dhcp" {
			continue
		}
		if nd, _ := kf.last(fam, "never-default"); isTrue(nd) {
			continue
		}
		d.add(Finding{
			ID: "nm.uplink-dhcp", Source: kf.where(fam, "method"), Subject: uplink,
			What: fmt.Sprintf("NetworkManager configures the uplink %s by %s auto: a DHCP renewal or router advertisement installs the router's default route over the one via the DIP", uplink, fam),
			Fix:  fmt.Sprintf("set never-default=true in [%s] of %s (nmcli c modify … %s.never-default yes)", fam, kf.path, fam),
		})
	}
}

// nmUnmanaged is the last unmanaged-devices of [keyfile] (and [main]'s
// no-auto-default is not about this): NetworkManager.conf, then conf.d.
func (d *doctor) nmUnmanaged() []string {
	files := d.t.confFiles(".conf", nmConfDirs...)
	var specs []string
	for _, f := range append([]string{"/etc/NetworkManager/NetworkManager.conf"}, files...) {
		c, ok := d.t.readINI(f)
		if !ok {
			continue
		}
		if v, set := c.last("keyfile", "unmanaged-devices"); set {
			specs = strings.FieldsFunc(v, func(r rune) bool { return r == ';' || r == ',' })
		}
	}
	return specs
}

// unmanagedCovers reports whether a device spec list covers iface: "*",
// interface-name:GLOB (the prefix may be left out), type:loopback for lo.
func unmanagedCovers(specs []string, iface string) bool {
	for _, s := range specs {
		s = strings.TrimSpace(s)
		if s == "*" || s == "type:loopback" && iface == "lo" {
			return true
		}
		name := strings.TrimPrefix(strings.TrimPrefix(s, "interface-name:"), "=")
		if strings.Contains(s, ":") && !strings.HasPrefix(s, "interface-name:") {
			continue
		}
		if ok, _ := path.Match(name, iface); ok {
			return true
		}
	}
	return false
}
