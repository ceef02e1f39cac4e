package realserver

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// Route is a unicast route, of the main table unless Table says; IPv4
// unless Dst is IPv6. What rsprep replaces or deletes is kept as the
// kernel reported it, attribute for attribute, and given back so: every
// field past Table is carried through unchanged (a record written before
// they existed loads with them zero, which is what it restored then).
type Route struct {
	Dst      netip.Prefix // 0.0.0.0/0 or ::/0 for a default route (never left invalid)
	Gw       netip.Addr   // invalid for a directly connected route; the first next hop's of a multipath route
	Link     string       // the first next hop's device of a multipath route
	Metric   int
	Protocol int // rtnetlink protocol (kernel, boot, static, dhcp…); kept on restore
	Table    int `json:",omitempty"` // 0: main
	AdvMSS   int `json:",omitempty"` // the MSS TCP advertises on connections using the route (0: from the MTU)

	Src      netip.Addr   `json:",omitzero"`  // preferred source (src)
	OnLink   bool         `json:",omitempty"` // the gateway is on the link whatever the subnets say (onlink)
	Nexthops []Nexthop    `json:",omitempty"` // two or more: a multipath (ECMP) route; Gw and Link are the first's
	NhID     int          `json:",omitempty"` // the route uses nexthop object NhID (ip route … nhid N); Gw, Link and Nexthops are what it resolved to
	Metrics  RouteMetrics `json:",omitzero"`  // the other RTAX metrics
	Pref     int          `json:",omitempty"` // IPv6 router preference (RTA_PREF): 0 medium, 1 high, 3 low
	// Expires is when an IPv6 route expires, in seconds of the boot's
	// clock (CLOCK_BOOTTIME; records last one boot), 0 for never: given
	// back, it keeps the lifetime it had left. No part of Equal.
	Expires int64 `json:",omitempty"`
}

// Nexthop is one path of a multipath route.
type Nexthop struct {
	Gw     netip.Addr `json:",omitzero"`
	Link   string     `json:",omitempty"`
	Weight int        `json:",omitempty"` // ip's weight (1..256); 0 reads as 1
	OnLink bool       `json:",omitempty"`
}

// RouteMetrics are a route's metrics besides advmss, as ip route shows
// them; zero is unset. RTO values are in milliseconds.
type RouteMetrics struct {
	Locks            uint32 `json:",omitempty"` // bit n: metric n (RTAX_*) is locked (ip's "lock")
	MTU              int    `json:",omitempty"`
	Window           int    `json:",omitempty"`
	Rtt              int    `json:",omitempty"`
	RttVar           int    `json:",omitempty"`
	Ssthresh         int    `json:",omitempty"`
	Cwnd             int    `json:",omitempty"`
	Reordering       int    `json:",omitempty"`
	Hoplimit         int    `json:",omitempty"`
	InitCwnd         int    `json:",omitempty"`
	Features         int    `json:",omitempty"`
	RtoMin           int    `json:",omitempty"`
	InitRwnd         int    `json:",omitempty"`
	QuickACK         int    `json:",omitempty"`
	Congctl          string `json:",omitempty"`
	FastOpenNoCookie int    `json:",omitempty"`
}

// Equal reports whether r and o are the same route, attribute for
// attribute.
func (r Route) Equal(o Route) bool {
	return r.compare() == o.compare() && slices.Equal(r.Nexthops, o.Nexthops)
}

// comparableRoute is Route without its slice, which Go compares with ==.
type comparableRoute struct {
	Dst      netip.Prefix
	Gw       netip.Addr
	Link     string
	Metric   int
	Protocol int
	Table    int
	AdvMSS   int
	Src      netip.Addr
	OnLink   bool
	Metrics  RouteMetrics
	Pref     int
	NhID     int
}

func (r Route) compare() comparableRoute {
	return comparableRoute{r.Dst, r.Gw, r.Link, r.Metric, r.Protocol, r.Table, r.AdvMSS, r.Src, r.OnLink, r.Metrics, r.Pref, r.NhID}
}

// Attributes is r's attributes beyond where it goes (destination, metric,
// table): its paths, source and metrics, for a route rsprep makes that
// must go the way r went (a keep-route, --mss's copy).
func (r Route) Attributes() Route {
	return Route{Gw: r.Gw, Link: r.Link, AdvMSS: r.AdvMSS, Src: r.Src, OnLink: r.OnLink, Nexthops: slices.Clone(r.Nexthops), Metrics: r.Metrics, Pref: r.Pref, NhID: r.NhID}
}

// IsDefault reports whether r is a default route.
func (r Route) IsDefault() bool { return r.Dst.Bits() == 0 }

func (r Route) ip() string { return IPCommand(r.Dst.Addr()) }

// String renders a route the way `ip route` does (and as its commands
// take it back).
func (r Route) String() string {
	var b strings.Builder
	if r.IsDefault() {
		b.WriteString("default")
	} else {
		b.WriteString(r.Dst.String())
	}
	if r.NhID != 0 {
		fmt.Fprintf(&b, " nhid %d", r.NhID)
	} else if len(r.Nexthops) < 2 {
		writeHop(&b, r.Dst.Addr(), Nexthop{Gw: r.Gw, Link: r.Link, OnLink: r.OnLink})
	}
	if r.Src.IsValid() {
		b.WriteString(" src " + r.Src.String())
	}
	if r.Metric != 0 {
		fmt.Fprintf(&b, " metric %d", r.Metric)
	}
	if r.Table != 0 {
		fmt.Fprintf(&b, " table %d", r.Table)
	}
	m := r.Metrics
	for _, x := range []struct {
		name string
		rtax int
		v    int
	}{{"mtu", 2, m.MTU}, {"advmss", 8, r.AdvMSS}, {"window", 3, m.Window}, {"rtt", 4, m.Rtt}, {"rttvar", 5, m.RttVar},
		{"ssthresh", 6, m.Ssthresh}, {"cwnd", 7, m.Cwnd}, {"reordering", 9, m.Reordering}, {"hoplimit", 10, m.Hoplimit},
		{"initcwnd", 11, m.InitCwnd}, {"features", 12, m.Features}, {"rto_min", 13, m.RtoMin}, {"initrwnd", 14, m.InitRwnd},
		{"quickack", 15, m.QuickACK}, {"fastopen_no_cookie", 17, m.FastOpenNoCookie}} {
		if x.v == 0 {
			continue
		}
		lock := ""
		if m.Locks&(1<<x.rtax) != 0 {
			lock = "lock "
		}
		unit := ""
		if x.name == "rto_min" {
			unit = "ms"
		}
		fmt.Fprintf(&b, " %s %s%d%s", x.name, lock, x.v, unit)
	}
	if m.Congctl != "" {
		b.WriteString(" congctl " + m.Congctl)
	}
	if r.Pref != 0 {
		b.WriteString(" pref " + map[int]string{1: "high", 3: "low"}[r.Pref])
	}
	if len(r.Nexthops) >= 2 && r.NhID == 0 {
		for _, h := range r.Nexthops {
			b.WriteString(" nexthop")
			writeHop(&b, r.Dst.Addr(), h)
			if h.Weight > 1 {
				fmt.Fprintf(&b, " weight %d", h.Weight)
			}
		}
	}
	return b.String()
}

// writeHop writes a path; a gateway of another family than the route's
// destination dst as ip writes it ("via inet6 fe80::1").
func writeHop(b *strings.Builder, dst netip.Addr, h Nexthop) {
	switch {
	case h.Gw.Is6() && dst.Is4():
		b.WriteString(" via inet6 " + h.Gw.String())
	case h.Gw.IsValid():
		b.WriteString(" via " + h.Gw.String())
	}
	if h.Link != "" {
		b.WriteString(" dev " + h.Link)
	}
	if h.OnLink {
		b.WriteString(" onlink")
	}
}
