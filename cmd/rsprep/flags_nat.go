package main

import (
	"github.com/spf13/pflag"

	"github.com/rsprep/rsprep/nat"
	"github.com/rsprep/rsprep/realserver"
	"github.com/rsprep/rsprep/realserver/input"
)

// natDef is nat on the command line: the flags that make a nat.NAT.
func natDef() modeDef {
	return modeDef{
		summary: "masquerading (ipvsadm -m): default route via the DIP, --keep-route destinations via the previous gateway",
		example: "rsprep nat --dip 192.168.10.1",
		docs:    nat.InvariantDocs,
		flags: func(fs *pflag.FlagSet, o *options) {
			fs.StringVar(&o.dip, "dip", "", "the director's address on this host's subnet: the new default gateway")
			fs.StringSliceVar(&o.keepRoutes, "keep-route", nil, "destination CIDR that keeps going via the previous default gateway, e.g. a management subnet (repeatable, comma-separated)")
			pinFlags(fs, o)
		},
		build: func(o *options) (realserver.Mode, error) {
			var n nat.NAT
			dip, err := parseDIP(o.dip)
			if err != nil {
				return nil, err
			}
			n.DIP = dip
			for _, s := range o.keepRoutes {
				p, err := input.ParseCIDR("--keep-route", s)
				if err != nil {
					return nil, err
				}
				n.KeepRoutes = append(n.KeepRoutes, p)
			}
			pin, err := buildPin(o)
			if err != nil {
				return nil, err
			}
			n.Pin = pin
			return n, nil
		},
	}
}
