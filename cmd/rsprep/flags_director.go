package main

import (
	"net/netip"

	"github.com/rsprep/rsprep/realserver/input"
	"github.com/spf13/pflag"
)

// --dip and --forwarding for dr and tun (issue 19): what the LVS-HOWTO's
// real-server script also did (ping the DIP; echo 0 > ip_forward).

func directorFlags(fs *pflag.FlagSet, o *options, dipHelp string) {
	fs.StringVar(&o.dip, "dip", "", dipHelp)
	fs.StringVar(&o.forwarding, "forwarding", "", "off: keep IP forwarding off (net.ipv4.ip_forward and every interface's forwarding 0; net.ipv6.conf.all.forwarding 0 with IPv6 VIPs), restored by down; not given: forwarding is left alone (Docker and Kubernetes nodes need it)")
}

const (
	drDIPHelp  = "the director's address: checked to be on this host's L2 segment (dip.onlink; DR rewrites only the MAC) and answering ARP (dip.reachable, audit only)"
	tunDIPHelp = "the director's address: checked to have a route (dip.route) and a next hop that answers ARP (dip.reachable, audit only)"
)

// parseDIP parses --dip; empty is unset.
func parseDIP(s string) (netip.Addr, error) {
	if s == "" {
		return netip.Addr{}, nil
	}
	ip, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, input.Errorf("--dip %q is not an IP address", s)
	}
	return ip, nil
}

// parseForwarding parses --forwarding: off, or not given. Forwarding on is
// not rsprep's to set (it is the host's default, or another agent's job).
func parseForwarding(s string) (off bool, err error) {
	switch s {
	case "":
		return false, nil
	case "off":
		return true, nil
	}
	return false, input.Errorf("--forwarding %q: the only value is off (without the flag rsprep leaves forwarding alone)", s)
}

// director parses --dip and --forwarding.
func director(o *options) (dip netip.Addr, forwardingOff bool, err error) {
	if dip, err = parseDIP(o.dip); err != nil {
		return dip, false, err
	}
	forwardingOff, err = parseForwarding(o.forwarding)
	return dip, forwardingOff, err
}
