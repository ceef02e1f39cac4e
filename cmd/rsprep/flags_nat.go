package main

import (
	"cmp"

	"github.com/spf13/pflag"

	"github.com/rsprep/rsprep/nat"
	"github.com/rsprep/rsprep/realserver"
	"github.com/rsprep/rsprep/realserver/input"
)

// natDef is nat on the command line: the flags that make a nat.NAT.
func natDef() modeDef {
	return modeDef{
		summary: "masquerading (ipvsadm -m): default route via the DIP, --keep-route destinations via the previous gateway",
		example: "rsprep nat --dip 192.168.10.1 --dip fd00:10::1",
		docs:    nat.InvariantDocs,
		flags: func(fs *pflag.FlagSet, o *options) {
			listVar(fs, &o.natDIPs, "dip", "the director's address on this host's subnet: the new default gateway of its family; one IPv4 and/or one IPv6 (dual stack), a link-local one as fe80::1%eth0")
			fs.StringSliceVar(&o.keepRoutes, "keep-route", nil, "destination CIDR that keeps going via the previous default gateway, e.g. a management subnet (repeatable, comma-separated)")
			pinFlags(fs, o)
		},
		build: func(o *options) (realserver.Mode, error) {
			var n nat.NAT
			if err := natDIPs(o.natDIPs, &n); err != nil {
				return nil, err
			}
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

// natDIPs parses nat's --dip values: at most one of each family.
func natDIPs(vals []string, n *nat.NAT) error {
	for _, s := range vals {
		dip, err := parseDIP(s)
		if err != nil || !dip.IsValid() {
			return cmp.Or(err, input.Errorf("--dip is empty"))
		}
		slot := &n.DIP
		if dip.Is6() {
			slot = &n.DIP6
		}
		if slot.IsValid() {
			return input.Errorf("--dip %s and --dip %s are of one family: give at most one IPv4 and one IPv6 DIP", slot, dip)
		}
		*slot = dip
	}
	return nil
}
