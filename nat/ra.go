package nat

import (
	"fmt"
	"net/netip"

	"github.com/rsprep/rsprep/realserver"
	"github.com/rsprep/rsprep/realserver/input"
)

// raKey is one IPv6 sysctl of an interface.
func raKey(link, name string) realserver.SysctlKey {
	return realserver.SysctlKey{Family: "ipv6", Iface: link, Name: name}
}

// raDefrtr is ra.defrtr: a router advertisement on the IPv6 DIP's
// interface cannot install a default route beside (or, after down of the
// one via the DIP, instead of) the director's. The effective rule is the
// kernel's (ndisc_router_discovery): RAs are taken when accept_ra is 2, or
// 1 with forwarding off on the interface, and their default router unless
// accept_ra_defrtr is 0. The fix sets accept_ra_defrtr to 0 and leaves
// accept_ra alone, so SLAAC addresses and on-link prefixes stay. It runs
// in the sysctl phase, before the default route moves, so no RA puts the
// router's route back in between. The sysctl sends no event; an RA's
// default route showing up in main does.
func raDefrtr(dip netip.Addr) realserver.Invariant {
	return realserver.OnEvents(realserver.CheckFunc(func(v *realserver.View) ([]realserver.Finding, error) {
		f := realserver.Finding{ID: "ra.defrtr", Subject: dip.String(), Want: "accept_ra_defrtr = 0, or RAs not accepted (accept_ra = 0)"}
		link, ok, err := realserver.OnLink(v, dip)
		if err != nil {
			return nil, err
		}
		if !ok {
			f.Got, f.Detail = "the DIP is not on-link", "no uplink to check"
			return []realserver.Finding{f}, nil
		}
		f.Subject = link
		vals := map[string]int{}
		for _, name := range []string{"accept_ra", "forwarding", "accept_ra_defrtr"} {
			if vals[name], err = v.Sysctl(raKey(link, name)); err != nil {
				return nil, err
			}
		}
		ra, defrtr := vals["accept_ra"], vals["accept_ra_defrtr"]
		accepted := ra == 2 || (ra == 1 && vals["forwarding"] == 0)
		f.Got = fmt.Sprintf("accept_ra = %d, accept_ra_defrtr = %d", ra, defrtr)
		f.OK = !accepted || defrtr == 0
		if !f.OK {
			f.Fix = []realserver.Change{{Kind: realserver.KindSysctl, Sysctl: raKey(link, "accept_ra_defrtr"), From: defrtr, To: 0}}
		}
		return []realserver.Finding{f}, nil
	}), realserver.RouteEventIn(realserver.MainTable))
}

// checkNotRouter6 rejects an IPv6 DIP on a host that forwards IPv6: a
// router takes RAs by other rules (only with accept_ra = 2) and is not
// what a NAT real server is; rsprep leaves forwarding to its owner.
func checkNotRouter6(v *realserver.View, dip netip.Addr, link string) error {
	for _, k := range []realserver.SysctlKey{realserver.IPv6Forwarding, raKey(link, "forwarding")} {
		on, err := v.Sysctl(k)
		if err != nil {
			return err
		}
		if on != 0 {
			return input.Errorf("--dip %s: IPv6 forwarding is on (%s = %d): a router takes router advertisements by other rules, so ra.defrtr cannot be kept; turn forwarding off, or drop the IPv6 --dip", dip, k.Dotted(), on)
		}
	}
	return nil
}
