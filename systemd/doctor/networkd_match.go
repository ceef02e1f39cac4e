package doctor

import (
	"fmt"
	"path"
	"slices"
	"strings"
)

// matchNetwork is the .network systemd-networkd applies to link: the
// first, in file-name order, whose [Match] matches (every key given must).
// Name=, Type= (networkctl's TYPE: ether, loopback, wlan, tunnel…),
// Kind=, Driver= are lists of shell globs, inverted by a leading "!";
// MACAddress= and PermanentMACAddress= lists of addresses. A key doctor
// does not evaluate (Path=, Property=, Host=, WLANInterfaceType=, …), or
// one whose fact it does not have (a driver, a MAC), is assumed to match,
// and caveat says so.
func matchNetwork(nets []*iniFile, link Link) (nf *iniFile, caveat string) {
	for _, n := range nets {
		ok, assumed := matchLink(n, link)
		if !ok {
			continue
		}
		if len(assumed) > 0 {
			caveat = fmt.Sprintf(" (assuming [Match] %s matches too: doctor cannot evaluate it here)", strings.Join(assumed, " "))
		}
		return n, caveat
	}
	return nil, ""
}

// matchLink evaluates one file's [Match] against link: ok false when a
// key it can evaluate does not match; assumed names the keys it could not.
func matchLink(n *iniFile, link Link) (ok bool, assumed []string) {
	facts := map[string]string{
		"Name":                link.Name,
		"Type":                link.networkdType(),
		"Kind":                link.kind(),
		"Driver":              link.Driver,
		"MACAddress":          strings.ToLower(link.MAC),
		"PermanentMACAddress": strings.ToLower(link.MAC),
	}
	var keys []string
	for _, o := range n.opts {
		if strings.EqualFold(o.Section, "Match") && !slices.Contains(keys, o.Name) {
			keys = append(keys, o.Name)
		}
	}
	for _, k := range keys {
		fact, known := facts[k]
		vals := n.all("Match", k)
		if len(vals) == 0 {
			continue // an empty assignment reset the list
		}
		if k == "Kind" && link.Type == "device" {
			if !matchNames(vals, "") {
				return false, nil // a plain device has no kind: no pattern matches it
			}
			continue
		}
		if !known || fact == "" {
			assumed = append(assumed, k+"=")
			continue
		}
		if strings.HasSuffix(k, "MACAddress") {
			if !slices.ContainsFunc(vals, func(v string) bool { return strings.EqualFold(v, fact) }) {
				return false, nil
			}
			continue
		}
		if !matchNames(vals, fact) {
			return false, nil
		}
	}
	return true, assumed
}

// matchNames is networkd's test of a [Match] list (net_condition_test_strv):
// a matching negated pattern ("!glob") fails it; otherwise it holds when a
// plain pattern matches, or when there is no plain pattern. name "" is a
// fact the link does not have (a plain device's kind): no pattern matches
// it.
func matchNames(pats []string, name string) bool {
	hit, positive := false, false
	for _, p := range pats {
		p, neg := strings.CutPrefix(p, "!")
		positive = positive || !neg
		if ok, _ := path.Match(p, name); !ok || name == "" {
			continue
		}
		if neg {
			return false
		}
		hit = true
	}
	return hit || !positive
}

// linkOrDevice is the link named name, or, for a device rsprep creates
// (tunl0 before ipip is loaded), what it will be.
func (d *doctor) linkOrDevice(name string) Link {
	if l, ok := d.facts.link(name); ok {
		return l
	}
	return Link{Name: name, Type: deviceKinds[name]}
}

// deviceKinds are the kinds of the fallback devices the kernel creates
// with the tunnel modules, and lo.
var deviceKinds = map[string]string{"lo": "device", "tunl0": "ipip", "ip6tnl0": "ip6tnl", "gre0": "gre", "ip6gre0": "ip6gre", "sit0": "sit"}

// kind is the netlink kind as networkd's Kind= names it ("" for a plain
// device, which has none).
func (l Link) kind() string {
	if l.Type == "device" {
		return ""
	}
	return l.Type
}

// networkdType is the link's type as networkd's Type= (and networkctl)
// names it: udev's DEVTYPE when there is one (wlan, bridge, vlan, bond…),
// else the hardware type (ether, loopback, tunnel, tunnel6, ipgre…). From
// the kind when the facts do not say; "" when a plain device's could be
// wlan as well as ether.
func (l Link) networkdType() string {
	if l.DevType != "" {
		return l.DevType
	}
	if l.HWType != "" {
		return l.HWType
	}
	if l.Name == "lo" {
		return "loopback"
	}
	switch l.Type {
	case "ipip":
		return "tunnel"
	case "ip6tnl":
		return "tunnel6"
	case "gre":
		return "ipgre"
	case "ip6gre", "sit":
		return l.Type
	case "bridge", "vlan", "bond", "wireguard":
		return l.Type
	case "veth", "dummy", "macvlan", "ipvlan", "vxlan":
		return "ether"
	}
	return ""
}
