package realserver

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
// ip_forward; the Sim does not model accept_redirects at all.)

const forwarding = "forwarding"

var ipv4AllForwarding = SysctlKey{Iface: "all", Name: forwarding}.Path()

// canonical resolves ip_forward to the file it is an alias of.
func canonical(path string) string {
	if path == IPForward.Path() {
		return ipv4AllForwarding
	}
	return path
}

// addForwardingKeys gives a new interface the IPv6 forwarding key,
// inherited from ipv6 conf/default (the IPv4 one comes with simSysctls).
func (s *Sim) addForwardingKeys(link string) {
	if v, err := s.Sysctl(SysctlKey{Family: "ipv6", Iface: "default", Name: forwarding}); err == nil {
		s.sysctls[SysctlKey{Family: "ipv6", Iface: link, Name: forwarding}.Path()] = v
	}
}

// forwardingWritten applies what the kernel does after a write of v to
// path, which held old.
func (s *Sim) forwardingWritten(path string, old, v int) error {
	switch {
	case path == ipv4AllForwarding && old != v:
		return s.setEveryForwarding("", v)
	case path == IPv6Forwarding.Path():
		return s.setEveryForwarding("ipv6", v)
	}
	return nil
}

func (s *Sim) setEveryForwarding(family string, v int) error {
	if err := s.load("links"); err != nil {
		return err
	}
	s.sysctls[SysctlKey{Family: family, Iface: "default", Name: forwarding}.Path()] = v
	for _, l := range s.links {
		s.sysctls[SysctlKey{Family: family, Iface: l.Name, Name: forwarding}.Path()] = v
	}
	return nil
}
