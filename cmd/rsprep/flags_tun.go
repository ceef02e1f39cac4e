package main

import (
	"github.com/spf13/pflag"

	"github.com/rsprep/rsprep/realserver"
	"github.com/rsprep/rsprep/realserver/input"
	"github.com/rsprep/rsprep/tunnel"
)

// tunDef is tun on the command line: the flags that make a tunnel.TUN.
func tunDef() modeDef {
	return modeDef{
		summary: "tunnel (ipvsadm -i, --tun-type ipip|gue|gre): the decapsulating module loaded (and a fou port for GUE), its device (tunl0, gre0, ip6tnl0…) up with each VIP, arp_ignore=1, arp_announce=2, rp_filter off (or loose) for that device",
		example: "rsprep tun --vip 192.168.79.180",
		docs:    tunnel.InvariantDocs,
		flags: func(fs *pflag.FlagSet, o *options) {
			vipFlag(fs, o)
			takeVIPFlag(fs, o)
			tunFlags(fs, o)
			fs.StringVar(&o.rpFilter, "rp-filter", "", "effective rp_filter for the tunnel device: off (0, default) or loose (2, when a hardening baseline forbids 0)")
			directorFlags(fs, o, tunDIPHelp)
			pinFlags(fs, o)
		},
		build: func(o *options) (realserver.Mode, error) {
			vips, err := input.ParseVIPs(o.vips)
			if err != nil {
				return nil, err
			}
			t, err := buildTUN(o)
			if err != nil {
				return nil, err
			}
			t.VIPs, t.HeldVIPs = vips, heldVIPs(o)
			if t.DIP, t.ForwardingOff, err = director(o); err != nil {
				return nil, err
			}
			return t, nil
		},
	}
}

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
