package main

import (
	"github.com/spf13/pflag"

	"github.com/rsprep/rsprep/arp"
	"github.com/rsprep/rsprep/realserver"
	"github.com/rsprep/rsprep/realserver/input"
)

// drDef is dr on the command line: the flags that make an arp.DR.
func drDef() modeDef {
	return modeDef{
		summary: "direct routing (ipvsadm -g): VIP /32 on lo, arp_ignore=1, arp_announce=2",
		example: "rsprep dr --vip 192.168.79.180",
		docs:    arp.DRInvariantDocs,
		flags: func(fs *pflag.FlagSet, o *options) {
			vipFlag(fs, o)
			takeVIPFlag(fs, o)
			directorFlags(fs, o, drDIPHelp)
			pinFlags(fs, o)
		},
		build: func(o *options) (realserver.Mode, error) {
			vips, err := input.ParseVIPs(o.vips)
			if err != nil {
				return nil, err
			}
			dip, fwdOff, err := director(o)
			if err != nil {
				return nil, err
			}
			pin, err := buildPin(o)
			if err != nil {
				return nil, err
			}
			return arp.DR{VIPs: vips, Pin: pin, DIP: dip, ForwardingOff: fwdOff, HeldVIPs: heldVIPs(o)}, nil
		},
	}
}
