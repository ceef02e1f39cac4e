package fake

import "github.com/rsprep/rsprep/realserver"

// Forwarding follows the kernel's rules (net/ipv4/devinet.c,
// net/ipv6/addrconf.c), which are not those of the ARP knobs:
//
//   - net.ipv4.ip_forward is another name of conf/all/forwarding;
//   - a write that changes it sets conf/default and every interface's
//     forwarding to the new value (inet_forward_change); a write of the
//     same value changes nothing;
//   - a write to ipv4 conf/default/forwarding reaches no interface;
//   - a write to net.ipv6.conf.all.forwarding, changed or not, sets
//     default and every interface (addrconf_fixup_forwarding);
//   - any integer is accepted.
//
// (The kernel also sets ipv4 conf/all/accept_redirects to the opposite of
// ip_forward; the fake does not model accept_redirects at all.)

const forwarding = "forwarding"

var ipv4AllForwarding = realserver.SysctlKey{Iface: "all", Name: forwarding}.Path()

// canonical resolves ip_forward to the file it is an alias of.
func canonical(path string) string {
	if path == realserver.IPForward.Path() {
		return ipv4AllForwarding
	}
	return path
}

// addForwardingKeys gives a new interface the IPv6 forwarding key,
// inherited from ipv6 conf/default (the IPv4 one comes with sysctlNames).
func (h *Host) addForwardingKeys(link string) {
	dflt := realserver.SysctlKey{Family: "ipv6", Iface: "default", Name: forwarding}.Path()
	h.sysctls[realserver.SysctlKey{Family: "ipv6", Iface: link, Name: forwarding}.Path()] = h.sysctls[dflt]
}

// forwardingWritten applies what the kernel does after a write of v to
// path, which held old.
func (h *Host) forwardingWritten(path string, old, v int) {
	switch {
	case path == ipv4AllForwarding && old != v:
		h.setEveryForwarding("", v)
	case path == realserver.IPv6Forwarding.Path():
		h.setEveryForwarding("ipv6", v)
	}
}

func (h *Host) setEveryForwarding(family string, v int) {
	h.sysctls[realserver.SysctlKey{Family: family, Iface: "default", Name: forwarding}.Path()] = v
	for _, l := range h.links {
		h.sysctls[realserver.SysctlKey{Family: family, Iface: l.Name, Name: forwarding}.Path()] = v
	}
}
