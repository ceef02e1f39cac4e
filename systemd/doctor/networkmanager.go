package doctor

import (
	"fmt"
	"path"
	"slices"
	"strings"
)

var (
	nmConfDirs       = []string{"/etc/NetworkManager/conf.d", "/run/NetworkManager/conf.d", "/usr/lib/NetworkManager/conf.d"}
	nmConnectionDirs = []string{"/etc/NetworkManager/system-connections", "/run/NetworkManager/system-connections", "/usr/lib/NetworkManager/system-connections"}
)

// networkManager reports, when NetworkManager runs (or is enabled in the
// root), a keyfile connection for a VIP's device (NetworkManager ≥ 1.42
// manages lo: `nmcli c up` reconfigures it and drops addresses it did not
// make) and, in NAT mode, one that takes the uplink's gateway from DHCP or
// RA — or, when no keyfile is for the uplink, the automatic "Wired
// connection 1" NetworkManager makes for every ethernet device unless
// no-auto-default covers it.
//
// A keyfile is for a link by interface-name=, else by [ethernet]
// mac-address=, else (neither given) for any link of its type. Read:
// keyfiles (*.nmconnection), [main] plugins and no-auto-default,
// [keyfile] unmanaged-devices, [ifupdown] managed of NetworkManager.conf
// and conf.d. Not read: ifcfg-rh connections, and the in-memory lo
// connection NetworkManager makes by itself.
func (d *doctor) networkManager() {
	active := d.facts.running(procNM) || d.t.enabled("NetworkManager.service")
	if !active {
		return
	}
	conf := d.nmConf()
	fp, uplink := d.in.Footprint, d.uplink()
	up, _ := d.facts.link(uplink)
	uplinkHasConn := false
	for _, c := range d.t.confFiles(".nmconnection", nmConnectionDirs...) {
		kf, ok := d.t.readINI(c)
		if !ok {
			continue
		}
		for _, dev := range fp.VIPDevices {
			if hit, _ := nmFor(kf, d.linkOrDevice(dev)); hit && !conf.unmanaged(d.linkOrDevice(dev)) {
				d.add(Finding{
					ID: "nm.manages-lo", Source: firstLine(kf.where("connection", "interface-name"), kf.where("connection", "type")), Subject: dev,
					What: fmt.Sprintf("NetworkManager manages %s (%s): nmcli c up/down, or a reconnect, reconfigures it and removes addresses it did not set, rsprep's VIPs", dev, path.Base(c)),
					Fix:  fmt.Sprintf("add unmanaged-devices=interface-name:%s to [keyfile] in /etc/NetworkManager/conf.d/rsprep.conf, or delete %s", dev, c),
				})
			}
		}
		if uplink == "" || conf.unmanaged(up) {
			continue
		}
		if hit, caveat := nmFor(kf, up); hit {
			uplinkHasConn = true
			d.nmUplink(kf, uplink, caveat)
		}
	}
	if uplink != "" && !uplinkHasConn && !conf.unmanaged(up) && !conf.noAutoDefault(up) && up.networkdType() != "loopback" {
		d.add(Finding{
			ID: "nm.uplink-dhcp", Source: firstLine(conf.noAutoSource, "NetworkManager.conf (no-auto-default unset)"), Subject: uplink,
			What: fmt.Sprintf("no connection is for the uplink %s, so NetworkManager makes its automatic \"Wired connection\" for it: DHCP, whose router becomes the default route over the one via the DIP", uplink),
			Fix:  fmt.Sprintf("add no-auto-default=* to [main] in /etc/NetworkManager/conf.d/rsprep.conf, or a connection for %s with ipv4.never-default yes", uplink),
		})
	}
}

// firstLine is a when it names a line (file:line), else b.
func firstLine(a, b string) string {
	if strings.Contains(a, ":") {
		return a
	}
	return b
}

// nmFor reports whether keyfile connection kf is for link: by
// interface-name, else by mac-address, else by type alone (a connection
// that names neither can activate on any device of its type). caveat says
// when the MAC was not known and a match is assumed.
func nmFor(kf *iniFile, link Link) (bool, string) {
	kind, _ := kf.last("connection", "type")
	if iface, _ := kf.last("connection", "interface-name"); iface != "" {
		return iface == link.Name, ""
	}
	if kind == "loopback" {
		return link.networkdType() == "loopback", ""
	}
	if link.networkdType() == "loopback" {
		return false, ""
	}
	mac, _ := lastOf(kf, "mac-address", "ethernet", "802-3-ethernet")
	switch {
	case mac == "" && (kind == "ethernet" || kind == "802-3-ethernet"):
		return true, ""
	case mac == "":
		return false, ""
	case link.MAC == "":
		return true, fmt.Sprintf(" (assuming its mac-address=%s is %s's: the MAC is not known here)", mac, link.Name)
	}
	return strings.EqualFold(mac, link.MAC), ""
}

// nmUplink: method=auto (the default) takes the router from DHCP or RA
// unless never-default=true.
func (d *doctor) nmUplink(kf *iniFile, uplink, caveat string) {
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
			What: fmt.Sprintf("NetworkManager configures the uplink %s by %s auto: a DHCP renewal or router advertisement installs the router's default route over the one via the DIP%s", uplink, fam, caveat),
			Fix:  fmt.Sprintf("set never-default=true in [%s] of %s (nmcli c modify … %s.never-default yes)", fam, kf.path, fam),
		})
	}
}

// nmConfig is what NetworkManager.conf and conf.d say about which devices
// it leaves alone.
type nmConfig struct {
	unmanagedSpecs, noAuto []string
	noAutoSource           string
	ifupdownNames          []string // ifupdown plugin with managed=false: the interfaces file's devices
}

// nmConf reads NetworkManager.conf, then conf.d: a later key wins.
func (d *doctor) nmConf() nmConfig {
	var c nmConfig
	plugins, managed := "", "false"
	for _, f := range append([]string{"/etc/NetworkManager/NetworkManager.conf"}, d.t.confFiles(".conf", nmConfDirs...)...) {
		kf, ok := d.t.readINI(f)
		if !ok {
			continue
		}
		if v, set := kf.last("keyfile", "unmanaged-devices"); set {
			c.unmanagedSpecs = nmSpecs(v)
		}
		if v, set := kf.last("main", "no-auto-default"); set {
			c.noAuto, c.noAutoSource = nmSpecs(v), kf.where("main", "no-auto-default")
		}
		if v, set := kf.last("main", "plugins"); set {
			plugins = v
		}
		if v, set := kf.last("ifupdown", "managed"); set {
			managed = v
		}
	}
	if slices.Contains(nmSpecs(plugins), "ifupdown") && !isTrue(managed) {
		for _, st := range d.ifaceStanzas(ifupdownInterfaces, 0) {
			c.ifupdownNames = append(c.ifupdownNames, st.name)
		}
	}
	return c
}

func nmSpecs(v string) []string {
	var out []string
	for _, s := range strings.FieldsFunc(v, func(r rune) bool { return r == ';' || r == ',' }) {
		out = append(out, strings.TrimSpace(s))
	}
	return out
}

func (c nmConfig) unmanaged(l Link) bool {
	return slices.Contains(c.ifupdownNames, l.Name) || specsCover(c.unmanagedSpecs, l)
}

func (c nmConfig) noAutoDefault(l Link) bool { return specsCover(c.noAuto, l) }

// specsCover reports whether a device spec list covers the link: "*",
// interface-name:GLOB (the prefix may be left out), mac:ADDR,
// type:loopback for lo.
func specsCover(specs []string, l Link) bool {
	for _, s := range specs {
		switch {
		case s == "*":
			return true
		case s == "type:loopback":
			if l.networkdType() == "loopback" {
				return true
			}
		case strings.HasPrefix(s, "mac:"):
			if l.MAC != "" && strings.EqualFold(strings.TrimPrefix(s, "mac:"), l.MAC) {
				return true
			}
		case strings.Contains(s, ":") && !strings.HasPrefix(s, "interface-name:"):
		default:
			name := strings.TrimPrefix(strings.TrimPrefix(s, "interface-name:"), "=")
			if ok, _ := path.Match(name, l.Name); ok {
				return true
			}
		}
	}
	return false
}
