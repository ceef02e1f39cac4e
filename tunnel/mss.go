package tunnel

import (
	"fmt"
	"net/netip"
	"strconv"

	"github.com/rsprep/rsprep/realserver"
)

// MSS is --mss: 0 no clamp, MSSAuto, else the MSS to advertise.
type MSS int

// MSSAuto derives the MSS from the uplink's MTU.
const MSSAuto MSS = -1

// The clamp is policy routing: a rule sends what leaves from a VIP to
// rsprep's own table, which holds the main table's IPv4 routes again, each
// with advmss. TCP takes the MSS it advertises in a SYN-ACK from the route
// of the reply (dst_metric_advmss), so connections to the VIPs advertise
// the clamped MSS and nothing else on the host does. Should the table miss
// a destination, the lookup falls through to main: unclamped, never cut off.
const (
	mssTable    = 7301 // rsprep's table: everything in it is rsprep's
	mssPriority = 7301 // before main (32766)
)

// ParseMSS parses --mss.
func ParseMSS(s string) (MSS, error) {
	switch s {
	case "":
		return 0, nil
	case "auto":
		return MSSAuto, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 536 || n > 65495 {
		return 0, realserver.Inputf("--mss %q: want auto or a number of bytes from 536 to 65495", s)
	}
	return MSS(n), nil
}

func (s TUN) validateMSS() error {
	if s.MSS != 0 && !s.has(4) {
		return realserver.Inputf("--mss: rsprep clamps the MSS of IPv4 VIPs only, and every VIP is IPv6")
	}
	return nil
}

// overhead is what the director's encapsulation adds to an IPv4 packet
// to a VIP, plus the IPv4 and TCP headers, which the MSS does not count:
// the MSS is the MTU minus this.
func (s TUN) overhead() (n int, why string) {
	n, why = 40, "40 IPv4+TCP"
	if s.underlay(4) == 6 {
		n, why = n+40, why+" + 40 IPv6 underlay"
	} else {
		n, why = n+20, why+" + 20 outer IPv4"
	}
	switch s.encap() {
	case EncapGUE:
		n, why = n+12, why+" + 12 UDP+GUE"
	case EncapGRE:
		n, why = n+4, why+" + 4 GRE (+4 more if the director sends checksums: then give --mss)"
	}
	return n, why
}

// mss is the MSS to advertise, and how it was chosen.
func (s TUN) mss(v *realserver.View) (int, string, error) {
	if s.MSS != MSSAuto {
		return int(s.MSS), "", nil
	}
	link, err := uplink(v)
	if err != nil || link.Name == "" {
		return 0, "", err
	}
	over, why := s.overhead()
	return link.MTU - over, fmt.Sprintf("auto: MTU %d of %s - %s", link.MTU, link.Name, why), nil
}

// uplink is the device of the IPv4 default route, else of the first
// connected route: where the director's packets come in.
func uplink(v *realserver.View) (realserver.Link, error) {
	routes, err := v.Routes()
	if err != nil {
		return realserver.Link{}, err
	}
	name := ""
	for _, r := range routes {
		if r.IsDefault() || name == "" {
			name = r.Link
		}
		if r.IsDefault() {
			break
		}
	}
	l, _, err := v.Link(name)
	return l, err
}

// mssClamp is mss.clamp: a rule from each IPv4 VIP to rsprep's table, and
// the table holding every IPv4 route of main with advmss.
func (s TUN) mssClamp() realserver.Invariant {
	return realserver.CheckFunc(func(v *realserver.View) ([]realserver.Finding, error) {
		n, how, err := s.mss(v)
		if err != nil {
			return nil, err
		}
		rules, err := v.Rules()
		if err != nil {
			return nil, err
		}
		var out []realserver.Finding
		for _, ip := range s.VIPs {
			if !ip.Is4() {
				continue
			}
			r := realserver.Rule{Src: netip.PrefixFrom(ip, 32), Table: mssTable, Priority: mssPriority}
			f := realserver.Finding{ID: "mss.clamp", Subject: ip.String(), Want: "ip rule " + r.String(), Got: "absent"}
			for _, x := range rules {
				if x == r {
					f.OK, f.Got = true, f.Want
				}
			}
			if !f.OK {
				f.Fix = []realserver.Change{{Kind: realserver.KindRuleAdd, Rule: r}}
			}
			out = append(out, f)
		}
		t, err := s.mssTable(v, n)
		if err != nil {
			return nil, err
		}
		t.Detail = how
		return append(out, t), nil
	})
}

// mssTable checks that rsprep's table is main's IPv4 routes with advmss n,
// and nothing else.
func (s TUN) mssTable(v *realserver.View, n int) (realserver.Finding, error) {
	f := realserver.Finding{ID: "mss.clamp", Subject: fmt.Sprintf("table %d", mssTable), Want: fmt.Sprintf("main's IPv4 routes with advmss %d", n)}
	if n < 536 {
		f.Got = fmt.Sprintf("an MSS of %d", n)
		f.Detail = "the uplink's MTU leaves too little: give --mss"
		return f, nil
	}
	main, err := v.Routes()
	if err != nil {
		return f, err
	}
	have, err := v.TableRoutes(mssTable)
	if err != nil {
		return f, err
	}
	key := func(r realserver.Route) string { return fmt.Sprintf("%s %s %s %d", r.Dst, r.Gw, r.Link, r.Metric) }
	want := map[string]bool{}
	for _, r := range main {
		twin := realserver.Route{Dst: r.Dst, Gw: r.Gw, Link: r.Link, Metric: r.Metric, Table: mssTable, AdvMSS: n}
		want[key(twin)] = true
		if !containsRoute(have, twin) {
			f.Fix = append(f.Fix, realserver.Change{Kind: realserver.KindRouteAdd, Route: twin})
		}
	}
	for _, r := range have {
		if !want[key(r)] {
			f.Fix = append(f.Fix, realserver.Change{Kind: realserver.KindRouteDel, Route: r})
		}
	}
	f.OK = len(f.Fix) == 0
	f.Got = fmt.Sprintf("%d of %d routes", len(main)-countAdds(f.Fix), len(main))
	if len(have) == 0 {
		f.Got = "empty"
	} else if f.OK {
		f.Got = f.Want
	}
	return f, nil
}

func containsRoute(rs []realserver.Route, want realserver.Route) bool {
	for _, r := range rs {
		if r.Dst == want.Dst && r.Gw == want.Gw && r.Link == want.Link && r.Metric == want.Metric && r.AdvMSS == want.AdvMSS {
			return true
		}
	}
	return false
}

func countAdds(cs []realserver.Change) int {
	n := 0
	for _, c := range cs {
		if c.Kind == realserver.KindRouteAdd {
			n++
		}
	}
	return n
}
