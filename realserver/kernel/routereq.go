package kernel

import (
	"encoding/binary"
	"net/netip"

	"golang.org/x/sys/unix"

	"github.com/rsprep/rsprep/realserver"
)

// appendRouteRequest appends a request of type typ for r, whose paths
// are on the links with the indexes links (one per Nexthops, else one).
// A removal names no scope (RT_SCOPE_NOWHERE: any), as ip route del does.
func appendRouteRequest(b []byte, typ, flags uint16, r realserver.Route, links []int) []byte {
	dst, table := r.Dst.Addr(), routeTable(r)
	b = appendRouteHeader(b, typ, flags, r)
	b = appendAttr(b, unix.RTA_TABLE, binary.NativeEndian.AppendUint32(nil, uint32(table))...)
	if r.Dst.Bits() > 0 {
		b = appendAttr(b, unix.RTA_DST, dst.AsSlice()...)
	}
	if r.Metric != 0 {
		b = appendAttr(b, unix.RTA_PRIORITY, binary.NativeEndian.AppendUint32(nil, uint32(r.Metric))...)
	}
	if r.Src.IsValid() {
		b = appendAttr(b, unix.RTA_PREFSRC, r.Src.AsSlice()...)
	}
	b = appendPaths(b, r, links)
	if metrics := routeMetrics(r); len(metrics) > 0 {
		b = appendAttr(b, unix.RTA_METRICS, metrics...) // as ip sends it: without NLA_F_NESTED
	}
	if dst.Is6() && typ == unix.RTM_NEWROUTE {
		b = appendAttr(b, unix.RTA_PREF, uint8(r.Pref))
		if r.Expires > 0 {
			left := max(r.Expires-bootSeconds(), 1) // gone by now: the kernel's soonest
			b = appendAttr(b, unix.RTA_EXPIRES, binary.NativeEndian.AppendUint32(nil, uint32(left))...)
		}
	}
	return b
}

// routeTable is r's table as the kernel numbers it (0 is main).
func routeTable(r realserver.Route) int {
	if r.Table == 0 {
		return unix.RT_TABLE_MAIN
	}
	return r.Table
}

// appendRouteHeader appends the netlink header and struct rtmsg of a
// request of type typ for r.
func appendRouteHeader(b []byte, typ, flags uint16, r realserver.Route) []byte {
	family := uint8(unix.AF_INET)
	if r.Dst.Addr().Is6() {
		family = unix.AF_INET6
	}
	proto := r.Protocol
	if proto == 0 {
		proto = unix.RTPROT_STATIC
	}
	scope := uint8(unix.RT_SCOPE_UNIVERSE)
	if !r.Gw.IsValid() && len(r.Nexthops) < 2 && r.NhID == 0 {
		scope = unix.RT_SCOPE_LINK
	}
	if typ == unix.RTM_DELROUTE {
		scope = unix.RT_SCOPE_NOWHERE
	}
	var rtFlags uint32
	if r.OnLink && len(r.Nexthops) < 2 && r.NhID == 0 {
		rtFlags = unix.RTNH_F_ONLINK
	}
	tableByte := uint8(unix.RT_TABLE_UNSPEC)
	if table := routeTable(r); table < 256 {
		tableByte = uint8(table)
	}
	b = appendMsg(b, typ, unix.NLM_F_ACK|flags, family, uint8(r.Dst.Bits()), 0, 0, tableByte, uint8(proto), scope, unix.RTN_UNICAST)
	return binary.NativeEndian.AppendUint32(b, rtFlags)
}

// appendPaths appends where r goes: its nexthop object, its paths
// (RTA_MULTIPATH), or its one gateway and link.
func appendPaths(b []byte, r realserver.Route, links []int) []byte {
	dst := r.Dst.Addr()
	switch {
	case r.NhID != 0:
		// The object holds the paths: the kernel refuses them beside it.
		return appendAttr(b, rtaNhID, binary.NativeEndian.AppendUint32(nil, uint32(r.NhID))...)
	case len(r.Nexthops) >= 2:
		var mp []byte
		for i, h := range r.Nexthops {
			var gw []byte
			if h.Gw.IsValid() {
				gw = appendGateway(nil, dst, h.Gw)
			}
			var hf uint8
			if h.OnLink {
				hf = unix.RTNH_F_ONLINK
			}
			mp = binary.NativeEndian.AppendUint16(mp, uint16(unix.SizeofRtNexthop+len(gw)))
			mp = append(mp, hf, uint8(max(h.Weight, 1)-1))
			mp = binary.NativeEndian.AppendUint32(mp, uint32(links[i]))
			mp = append(mp, gw...)
		}
		return appendAttr(b, unix.RTA_MULTIPATH, mp...)
	}
	if r.Gw.IsValid() {
		b = appendGateway(b, dst, r.Gw)
	}
	if links[0] != 0 {
		b = appendAttr(b, unix.RTA_OIF, binary.NativeEndian.AppendUint32(nil, uint32(links[0]))...)
	}
	return b
}

// routeMetrics is r's RTA_METRICS payload: its locks, its metrics, its
// congestion control; empty when it has none.
func routeMetrics(r realserver.Route) []byte {
	var metrics []byte
	if r.Metrics.Locks != 0 {
		metrics = appendAttr(metrics, unix.RTAX_LOCK, binary.NativeEndian.AppendUint32(nil, r.Metrics.Locks)...)
	}
	for rtax := uint16(unix.RTAX_MTU); rtax <= unix.RTAX_FASTOPEN_NO_COOKIE; rtax++ {
		if f := metricField(&r, rtax); f != nil && *f != 0 {
			metrics = appendAttr(metrics, rtax, binary.NativeEndian.AppendUint32(nil, uint32(*f))...)
		}
	}
	if r.Metrics.Congctl != "" {
		metrics = appendAttr(metrics, unix.RTAX_CC_ALGO, append([]byte(r.Metrics.Congctl), 0)...)
	}
	return metrics
}

// appendGateway appends gw as RTA_GATEWAY, or as RTA_VIA when it is not of
// the route's family.
func appendGateway(b []byte, dst, gw netip.Addr) []byte {
	if gw.Is4() == dst.Is4() {
		return appendAttr(b, unix.RTA_GATEWAY, gw.AsSlice()...)
	}
	family := uint16(unix.AF_INET6)
	if gw.Is4() {
		family = unix.AF_INET
	}
	return appendAttr(b, unix.RTA_VIA, append(binary.NativeEndian.AppendUint16(nil, family), gw.AsSlice()...)...)
}
