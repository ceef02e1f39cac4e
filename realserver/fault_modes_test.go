package realserver_test

import (
	"net"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/rsprep/rsprep/arp"
	"github.com/rsprep/rsprep/nat"
	"github.com/rsprep/rsprep/realserver"
	"github.com/rsprep/rsprep/realserver/fake"
	"github.com/rsprep/rsprep/tunnel"
)

var (
	gatewayMAC = net.HardwareAddr{0x52, 0x54, 0x00, 0x12, 0x34, 0x56}
	dipMAC     = net.HardwareAddr{0x52, 0x54, 0x00, 0x65, 0x43, 0x21}
	tunVIPs    = vips("192.0.2.1", "192.0.2.2", "192.0.2.3", "2001:db8::1")
)

// uplinkHost is a booted host: lo up, a dotted uplink with its subnet, a
// default route via 10.0.0.1, and both routers answering ARP.
func uplinkHost() *fake.Host {
	h := fake.New()
	h.SetLinkUp("lo", true)
	h.AddLink(realserver.Link{Name: "eth0.100", Type: "vlan", Up: true})
	h.AddAddrRaw(realserver.Addr{Link: "eth0.100", Prefix: netip.MustParsePrefix("10.0.0.2/24")})
	h.AddRouteRaw(realserver.Route{Dst: netip.MustParsePrefix("0.0.0.0/0"), Gw: netip.MustParseAddr("10.0.0.1"), Link: "eth0.100", Metric: 100, Protocol: 3})
	h.SetWire(netip.MustParseAddr("10.0.0.1"), gatewayMAC)
	h.SetWire(netip.MustParseAddr("10.0.0.254"), dipMAC)
	return h
}

// emptyRecord saves the record of a host rsprep never touched.
func emptyRecord(t *testing.T, path string) {
	if err := loadRecord(t, path).Save(); err != nil {
		t.Fatal(err)
	}
}

// tunHost can load ipip and ip6_tunnel, and has rp_filter strict on all
// (as many distributions ship), so TUN must load both modules, bring both
// tunnels up, lower rp_filter and pin the gateway.
func tunHost(t *testing.T, path string) *fake.Host {
	h := uplinkHost()
	h.AllowModule("ipip")
	h.AllowModule("ip6_tunnel")
	h.SetSysctlRaw("all", "rp_filter", 1)
	h.SetSysctlRaw("default", "rp_filter", 1)
	emptyRecord(t, path)
	return h
}

// natHost has the default route NAT replaces and a static neighbour entry
// for the DIP that the pin overwrites (and rollback must put back).
func natHost(t *testing.T, path string) *fake.Host {
	h := uplinkHost()
	h.AddNeighborRaw(realserver.Neighbor{Link: "eth0.100", IP: netip.MustParseAddr("10.0.0.254"), MAC: net.HardwareAddr{0x52, 0x54, 0, 0, 0, 1}, State: realserver.NeighPermanent})
	emptyRecord(t, path)
	return h
}

// modulesKept is what rollback leaves on purpose: a module the run loaded
// stays loaded (another user may need it), with the device it made, down
// as it was born. The state a failed run must leave is the seed with
// exactly those modules loaded, but for one thing: the new device's IPv4
// conf values. They are no prior value (the device did not exist before
// the run); it inherited them from conf/default as the run had set it,
// and once the run added an address to it the kernel froze them
// (ipv4_devconf_setall), so restoring conf/default no longer reaches it.
// They are left out of the comparison, and only they.
func modulesKept(seed func(*testing.T, string) *fake.Host) func(t *testing.T, path string, failed *fake.Host) (want, got string) {
	return func(t *testing.T, path string, failed *fake.Host) (want, got string) {
		h := seed(t, path)
		links, _ := failed.Links()
		var born []string
		for _, l := range links {
			module := map[string]string{"tunl0": "ipip", "ip6tnl0": "ip6_tunnel"}[l.Name]
			if module == "" {
				continue
			}
			if err := h.LoadModule(module); err != nil {
				t.Fatal(err)
			}
			born = append(born, "sysctl net/ipv4/conf/"+l.Name+"/")
		}
		return withoutLines(h.Render(), born), withoutLines(failed.Render(), born)
	}
}

// withoutLines drops the lines of a render that start with any prefix.
func withoutLines(render string, prefixes []string) string {
	var out []string
	for _, l := range strings.SplitAfter(render, "\n") {
		if !slices.ContainsFunc(prefixes, func(p string) bool { return strings.HasPrefix(l, p) }) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "")
}

// natDualHost is natHost with IPv6 on the uplink as a host on an IPv6 LAN
// has it: an RA-learnt default route and RAs taken, so a dual-stack NAT
// replaces both defaults and sets accept_ra_defrtr.
func natDualHost(t *testing.T, path string) *fake.Host {
	h := natHost(t, path)
	h.AddAddrRaw(realserver.Addr{Link: "eth0.100", Prefix: netip.MustParsePrefix("fd00:10::2/64")})
	h.AddRouteRaw(realserver.Route{Dst: realserver.DefaultDst6, Gw: netip.MustParseAddr("fe80::fe"), Link: "eth0.100", Metric: 1024, Protocol: 9, Pref: 1, Expires: 600})
	for name, v := range map[string]int{"accept_ra": 1, "accept_ra_defrtr": 1, "forwarding": 0} {
		h.SetSysctlKeyRaw(realserver.SysctlKey{Family: "ipv6", Iface: "eth0.100", Name: name}, v)
	}
	return h
}

func moreFaultCases() []faultCase {
	pin := &arp.Pin{}
	tun := tunnel.TUN{VIPs: tunVIPs, Pin: pin}
	n := nat.NAT{DIP: netip.MustParseAddr("10.0.0.254"), KeepRoutes: []netip.Prefix{netip.MustParsePrefix("172.16.0.0/12"), netip.MustParsePrefix("192.168.0.0/16")}, Pin: pin}
	dual := n
	dual.DIP6, dual.KeepRoutes = netip.MustParseAddr("fd00:10::1"), append(slices.Clone(n.KeepRoutes), netip.MustParsePrefix("fd00:99::/64"))
	return []faultCase{
		{name: "tun", seed: tunHost, invs: tun.Invariants(), vips: tunVIPs, mode: "tun", kept: modulesKept(tunHost)},
		{name: "nat", seed: natHost, invs: n.Invariants(), mode: "nat"},
		{name: "nat dual stack", seed: natDualHost, invs: dual.Invariants(), mode: "nat"},
	}
}
