package doctor

import (
	"fmt"
	"path"
	"slices"
	"strings"
)

// netplanDirs in decreasing precedence: a file in /run/netplan shadows
// the same name in /etc/netplan, which shadows /lib/netplan; the rest are
// merged in name order.
var netplanDirs = []string{"/run/netplan", "/etc/netplan", "/lib/netplan"}

// netplanKinds are the device sections whose keys name interfaces.
var netplanKinds = []string{"ethernets", "bonds", "bridges", "vlans", "wifis", "tunnels", "dummy-devices"}

// netplan: a file that configures a VIP's device (lo) makes `netplan
// apply` (and boot) reconfigure it; in NAT mode, dhcp4/dhcp6 on the
// uplink without use-routes: false takes the router's default route. A
// device is the uplink by its key, or, with match:, by what it matches
// (name, macaddress, driver: cloud-init writes macaddress and set-name).
func (d *doctor) netplan() {
	files := d.t.confFiles(".yaml", netplanDirs...)
	fp, uplink := d.in.Footprint, d.uplink()
	up, _ := d.facts.link(uplink)
	type dhcp struct {
		on, source, key string // key: the device definition's
		routes          bool
	}
	last := map[string]*dhcp{} // "dhcp4" / "dhcp6" on the uplink, merged across files
	for _, f := range files {
		y, ok := d.t.readYAML(f)
		if !ok {
			continue
		}
		net := y.child("network")
		for _, kind := range netplanKinds {
			for _, dev := range net.child(kind).children() {
				if slices.Contains(fp.VIPDevices, dev.key) {
					d.add(Finding{
						ID: "netplan.lo", Source: fmt.Sprintf("%s:%d", f, dev.line), Subject: dev.key,
						What: fmt.Sprintf("netplan configures %s: netplan apply (and boot) hands it to networkd or NetworkManager, which reconfigure it and drop addresses they did not set, rsprep's VIPs", dev.key),
						Fix:  fmt.Sprintf("remove %s from %s (rsprep owns its VIPs), or, with networkd as renderer, keep it and add [Network] KeepConfiguration=static in /etc/systemd/network/10-netplan-%s.network.d/keep.conf", dev.key, f, dev.key),
					})
				}
				if uplink == "" || !netplanFor(dev, up) {
					continue
				}
				for _, fam := range []string{"dhcp4", "dhcp6"} {
					st := last[fam]
					if st == nil {
						st = &dhcp{routes: true}
						last[fam] = st
					}
					if on := dev.child(fam); on != nil {
						st.on, st.source, st.key = on.value, fmt.Sprintf("%s:%d", f, on.line), dev.key
					}
					if ur := dev.path(fam+"-overrides", "use-routes"); ur != nil {
						st.routes = !yamlFalse(ur)
					}
				}
			}
		}
	}
	for _, fam := range []string{"dhcp4", "dhcp6"} {
		st := last[fam]
		if st == nil || !yamlTrue(&ynode{value: st.on}) || !st.routes {
			continue
		}
		d.add(Finding{
			ID: "netplan.uplink-dhcp", Source: st.source, Subject: uplink,
			What: fmt.Sprintf("netplan enables %s on the uplink %s: a lease renewal installs the router's default route over the one via the DIP", fam, uplink),
			Fix:  fmt.Sprintf("add %s-overrides: {use-routes: false} to %s in that file", fam, st.key),
		})
	}
}

// netplanFor reports whether netplan applies device definition dev to
// link: by its key, or, with match:, when every property given matches
// (name and driver are globs; a property whose fact is not known here is
// taken to match).
func netplanFor(dev *ynode, link Link) bool {
	m := dev.child("match")
	if m == nil {
		return dev.key == link.Name
	}
	if n := m.child("name"); n != nil {
		if ok, _ := path.Match(n.value, link.Name); !ok {
			return false
		}
	}
	if mac := m.child("macaddress"); mac != nil && link.MAC != "" && !strings.EqualFold(mac.value, link.MAC) {
		return false
	}
	if drv := m.child("driver"); drv != nil && drv.value != "" && link.Driver != "" {
		if ok, _ := path.Match(drv.value, link.Driver); !ok {
			return false
		}
	}
	return true
}
