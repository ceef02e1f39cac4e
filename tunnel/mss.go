package tunnel

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/rsprep/rsprep/realserver"
	"github.com/rsprep/rsprep/realserver/input"
)

// MSS is --mss: 0 no clamp, MSSAuto, else the MSS to advertise.
type MSS int

// MSSAuto derives the MSS from the uplink's MTU.
const MSSAuto MSS = -1

// The clamp is policy routing: a rule sends what leaves from a VIP to
// rsprep's own table, which holds the main table's routes of the VIP's
// family again, each with advmss. TCP takes the MSS it advertises in a
// SYN-ACK from the route of the reply (dst_metric_advmss, IPv4 and IPv6
// alike), so connections to the VIPs advertise the clamped MSS and nothing
// else on the host does. Each copy carries its route's attributes, and the
// check wants the table to mirror main: apply brings it in step, watch
// re-checks it on route events of main and of its table and on rule
// events of its table, verify names a stale copy (a VIP's replies follow
// the copy, not main). Should the table miss a destination,
// the lookup falls through to main.
const (
	mssTable    = 7301 // rsprep's table: everything in it is rsprep's
	mssPriority = 7301 // before main (32766); ip and ip -6 rules apart
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
		return 0, input.Errorf("--mss %q: want auto or a number of bytes from 536 to 65495", s)
	}
	return MSS(n), nil
}

// overhead is what the director's encapsulation adds to a packet of
// family inner to a VIP, plus the inner IP and TCP headers, which the MSS
// does not count: the MSS is the MTU minus this.
func (s TUN) overhead(inner int) (n int, why string) {
	n, why = 40, "40 IPv4+TCP"
	if inner == 6 {
		n, why = 60, "60 IPv6+TCP"
	}
	if s.underlay(inner) == 6 {
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

// mss is the MSS to advertise for VIPs of family inner, and how it was
// chosen.
func (s TUN) mss(v *realserver.View, inner int) (int, string, error) {
	if s.MSS != MSSAuto {
		return int(s.MSS), "", nil
	}
	fam := s.underlay(inner)
	link, err := uplink(v, fam)
	if err != nil || link.Name == "" {
		return 0, fmt.Sprintf("auto: no IPv%d route tells the uplink", fam), err
	}
	over, why := s.overhead(inner)
	return link.MTU - over, fmt.Sprintf("auto: MTU %d of %s - %s", link.MTU, link.Name, why), nil
}

// uplink is where the director's packets of underlay family fam come in:
// the device of that family's default route, else of its first route to
// a subnet (not a single address, not link-local, not on lo).
func uplink(v *realserver.View, fam int) (realserver.Link, error) {
	routes, err := v.TableRoutes(fam, 0)
	if err != nil {
		return realserver.Link{}, err
	}
	name := ""
	for _, r := range routes {
		if r.IsDefault() {
			name = r.Link
			break
		}
		ip := r.Dst.Addr()
		if name == "" && r.Link != "" && r.Dst.Bits() < ip.BitLen() && !ip.IsLinkLocalUnicast() {
			if l, _, err := v.Link(r.Link); err != nil {
				return realserver.Link{}, err
			} else if !l.Loopback {
				name = r.Link
			}
		}
	}
	l, _, err := v.Link(name)
	return l, err
}

// mssRules are the rules of the clamp: from each VIP to rsprep's table.
func (s TUN) mssRules() []realserver.Rule {
	var out []realserver.Rule
	for _, ip := range s.VIPs {
		out = append(out, realserver.Rule{Src: netip.PrefixFrom(ip, ip.BitLen()), Table: mssTable, Priority: mssPriority})
	}
	return out
}

// mssClamp is mss.clamp: a rule from each VIP to rsprep's table, and for
// each family of VIPs the table holding every route of main of that
// family, with advmss.
func (s TUN) mssClamp() realserver.Invariant {
	return realserver.OnEvents(realserver.CheckFunc(func(v *realserver.View) ([]realserver.Finding, error) {
		rules, err := v.Rules()
		if err != nil {
			return nil, err
		}
		var out []realserver.Finding
		for _, r := range s.mssRules() {
			ip := r.Src.Addr()
			f := realserver.Finding{ID: "mss.clamp", Subject: ip.String(), Want: "ip rule " + r.String(), Got: "absent"}
			if ip.Is6() {
				f.Want = "ip -6 rule " + r.String()
			}
			if slices.Contains(rules, r) {
				f.OK, f.Got = true, f.Want
			} else {
				f.Fix = []realserver.Change{{Kind: KindRuleAdd, Rule: r}}
			}
			out = append(out, f)
		}
		for _, fam := range []int{4, 6} {
			if !s.has(fam) {
				continue
			}
			n, how, err := s.mss(v, fam)
			if err != nil {
				return nil, err
			}
			t, err := s.mssTable(v, fam, n)
			if err != nil {
				return nil, err
			}
			t.Detail = strings.Trim(how+"; "+t.Detail, "; ")
			out = append(out, t)
		}
		return out, nil
	}), realserver.RouteEventIn(realserver.MainTable, mssTable), realserver.RuleEventTo(mssTable))
}

// mssTable checks that rsprep's table holds main's routes of family fam
// with advmss n, and nothing else of that family.
func (s TUN) mssTable(v *realserver.View, fam, n int) (realserver.Finding, error) {
	subject := fmt.Sprintf("table %d", mssTable)
	if fam == 6 {
		subject += " -6"
	}
	f := realserver.Finding{ID: "mss.clamp", Subject: subject, Want: fmt.Sprintf("main's IPv%d routes with advmss %d", fam, n)}
	if n < 536 {
		f.Got = fmt.Sprintf("an MSS of %d", n)
		f.Detail = "below 536: give --mss"
		return f, nil
	}
	all, err := v.TableRoutes(fam, 0)
	if err != nil {
		return f, err
	}
	// Not fe80::/64: a reply from a (global) VIP never goes to a
	// link-local address, and every up device has that route at the same
	// metric, which the table cannot hold twice (a replace of one
	// destination and metric overwrites the other device's).
	main := slices.DeleteFunc(slices.Clone(all), func(r realserver.Route) bool {
		return r.Dst.Addr().Is6() && r.Dst.Addr().IsLinkLocalUnicast()
	})
	have, err := v.TableRoutes(fam, mssTable)
	if err != nil {
		return f, err
	}
	// A copy is replaced in place when only its attributes differ (same
	// destination, metric and paths), so those are its key: removing the
	// old one by them would remove the new.
	key := func(r realserver.Route) string {
		return fmt.Sprintf("%s %s %s %d %v", r.Dst, r.Gw, r.Link, r.Metric, r.Nexthops)
	}
	want := map[string]bool{}
	for _, r := range main {
		twin := r.Attributes()
		twin.Dst, twin.Metric, twin.Table, twin.AdvMSS = r.Dst, r.Metric, mssTable, n
		want[key(twin)] = true
		if !containsRoute(have, twin) {
			f.Fix = append(f.Fix, realserver.Change{Kind: realserver.KindRouteAdd, Route: twin})
		}
	}
	var stale []string
	for _, r := range have {
		if !want[key(r)] {
			f.Fix = append(f.Fix, realserver.Change{Kind: realserver.KindRouteDel, Route: r})
			stale = append(stale, r.String())
		}
	}
	f.OK = len(f.Fix) == 0
	f.Got = fmt.Sprintf("%d of %d routes", len(main)-countAdds(f.Fix), len(main))
	switch {
	case len(have) == 0:
		f.Got = "empty"
	case f.OK:
		f.Got = f.Want
	case len(stale) > 0:
		// main changed since the copy was made (a new default gateway):
		// VIP replies still take the old way.
		f.Got += "; stale copy: " + strings.Join(stale, ", ")
		f.Detail = "main's routes changed since rsprep copied them: VIP replies still follow the stale copy"
	}
	return f, nil
}

// containsRoute reports whether rs holds want, attribute for attribute
// (rsprep writes no protocol as static).
func containsRoute(rs []realserver.Route, want realserver.Route) bool {
	for _, r := range rs {
		r.Protocol = want.Protocol
		if r.Equal(want) {
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
