package main

import (
	"github.com/spf13/pflag"

	"github.com/rsprep/rsprep/tunnel"
)

// tunFlags are tun's encapsulation flags (issue 16).
func tunFlags(fs *pflag.FlagSet, o *options) {
	fs.StringVar(&o.encap, "encap", "ipip", "what the director sends (ipvsadm --tun-type): ipip, gue or gre")
	fs.Uint16Var(&o.encapPort, "encap-port", 0, "with --encap gue: the UDP port GUE arrives on (the director's --tun-port)")
	fs.StringVar(&o.underlay, "underlay", "", "the family of the address the director sends to: ipv4 or ipv6 (default: each VIP's own)")
	fs.StringVar(&o.mss, "mss", "", "clamp the TCP MSS advertised on connections to the VIPs: a number, or auto (the uplink MTU minus the encapsulation)")
}

// buildTUN parses tun's flags other than --vip.
func buildTUN(o *options) (tunnel.TUN, error) {
	var t tunnel.TUN
	var err error
	if t.Encap, err = tunnel.ParseEncap(o.encap); err != nil {
		return t, err
	}
	t.Port = o.encapPort
	if t.Underlay, err = tunnel.ParseUnderlay(o.underlay); err != nil {
		return t, err
	}
	if t.MSS, err = tunnel.ParseMSS(o.mss); err != nil {
		return t, err
	}
	if t.RPFilter, err = tunnel.ParseRPFilter(o.rpFilter); err != nil {
		return t, err
	}
	t.Pin, err = buildPin(o)
	return t, err
}
