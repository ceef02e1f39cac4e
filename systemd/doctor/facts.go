package doctor

import (
	"github.com/rsprep/rsprep/realserver"
	"net/netip"
	"slices"
	"strings"
)

// Facts are what doctor needs from the live host (or namespace) rather
// than from files: they are gathered by the caller and passed in, so a
// report on a --root tree depends only on the tree and these values.
type Facts struct {
	Links []Link `json:"links"`
	// Sysctls are live values by key in slash form under /proc/sys
	// ("net/ipv4/conf/eth0/arp_ignore"); Keys says which ones doctor reads.
	Sysctls map[string]int `json:"sysctls"`
	// Running are the names (comm) of running processes that matter:
	// systemd-networkd, NetworkManager, systemd-udevd, kube-proxy, dockerd.
	Running []string `json:"running"`
}

// Link is one interface as doctor needs it.
type Link struct {
	Name       string         `json:"name"`
	Type       string         `json:"type"` // netlink's kind: veth, bridge, ipip, dummy, device, …
	Up         bool           `json:"up"`
	ARPCapable bool           `json:"arp"`
	Addrs      []netip.Prefix `json:"addrs,omitempty"`
	// What networkd's [Match] looks at, when known: the hardware type as
	// networkd names it (ether, loopback, tunnel, tunnel6, ipgre, none…),
	// udev's DEVTYPE (wlan, bridge, vlan…), the MAC address, the driver.
	HWType  string `json:"hwtype,omitempty"`
	DevType string `json:"devtype,omitempty"`
	MAC     string `json:"mac,omitempty"`
	Driver  string `json:"driver,omitempty"`
}

// The process names (as /proc/PID/comm shows them, at most 15 bytes)
// doctor asks about.
const (
	procNetworkd  = "systemd-network" // systemd-networkd, truncated by the kernel
	procNM        = "NetworkManager"
	procUdev      = "systemd-udevd"
	procKubeProxy = "kube-proxy"
	procDocker    = "dockerd"
)

// Processes are the names Facts.Running is matched against.
func Processes() []string {
	return []string{procNetworkd, procNM, procUdev, procKubeProxy, procDocker}
}

func (f Facts) running(name string) bool { return slices.Contains(f.Running, name) }

func (f Facts) link(name string) (Link, bool) {
	for _, l := range f.Links {
		if l.Name == name {
			return l, true
		}
	}
	return Link{}, false
}

// sysctl is a live value; ok is false when it was not read (the key does
// not exist here).
func (f Facts) sysctl(key string) (int, bool) {
	v, ok := f.Sysctls[key]
	return v, ok
}

// uplink is the interface whose subnet holds ip (NAT's DIP); a zoned
// link-local DIP's is its zone.
func (f Facts) uplink(ip netip.Addr) (Link, bool) {
	for _, l := range f.Links {
		if ip.Zone() != "" {
			if l.Name == ip.Zone() {
				return l, true
			}
			continue
		}
		for _, p := range l.Addrs {
			if p.Bits() < p.Addr().BitLen() && p.Masked().Contains(ip) {
				return l, true
			}
		}
	}
	return Link{}, false
}

// Keys are the live sysctls doctor reads, for these links: the caller
// reads each (skipping those that do not exist) into Facts.Sysctls.
func Keys(fp realserver.Footprint, links []Link) []string {
	names := []string{"proxy_arp"}
	for _, s := range fp.Sysctls {
		names = append(names, s.Name)
	}
	ifaces := []string{"all", "default"}
	for _, l := range links {
		ifaces = append(ifaces, l.Name)
	}
	keys := []string{keyIPForward, keyIP6Forward}
	for _, i := range ifaces {
		for _, n := range names {
			keys = append(keys, confKey(4, i, n))
		}
		for _, n := range []string{"accept_ra", "accept_ra_defrtr", "forwarding"} {
			keys = append(keys, confKey(6, i, n))
		}
	}
	slices.Sort(keys)
	return slices.Compact(keys)
}

const (
	keyIPForward  = "net/ipv4/ip_forward"
	keyIP6Forward = "net/ipv6/conf/all/forwarding"
)

// confKey is the slash-form key of one interface's setting. An interface
// name keeps its dots (eth0.100): in slash form only "/" separates.
func confKey(family int, iface, name string) string {
	fam := "ipv4"
	if family == 6 {
		fam = "ipv6"
	}
	return "net/" + fam + "/conf/" + iface + "/" + name
}

// dotted is a slash-form key as sysctl.conf writes it (eth0.100 → eth0/100).
func dotted(key string) string {
	parts := strings.Split(key, "/")
	for i, p := range parts {
		parts[i] = strings.ReplaceAll(p, ".", "/")
	}
	return strings.Join(parts, ".")
}
