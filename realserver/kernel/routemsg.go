package kernel

import (
	"encoding/binary"
	"net/netip"

	"golang.org/x/sys/unix"

	"github.com/rsprep/rsprep/realserver"
)

// Routes are read and written as rtnetlink messages of rsprep's own, not
// through vishvananda/netlink: a route rsprep replaces or removes must come
// back attribute for attribute, and that library (v1.3.1) drops RTA_PREF
// and the IPv6 expiry, reads the metric locks only when exactly one is set
// and writes each lock as an RTAX_LOCK of its own, of which the kernel
// keeps the last (`ip route add … rto_min 200ms` locks rto_min: with a
// locked mtu beside it, one lock was lost).

// userHZ is the unit of rta_cacheinfo's expires (clock_t).
const userHZ = 100

// bootSeconds is CLOCK_BOOTTIME in whole seconds: what a route's expiry is
// kept against (see realserver.Route.Expires).
func bootSeconds() int64 {
	var ts unix.Timespec
	if unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts) != nil {
		return 0
	}
	return ts.Sec
}

// rtaNhID is RTA_NH_ID (Linux 5.3): the nexthop object a route uses.
const rtaNhID = 30

// metricField is where an RTAX metric lives in realserver.Route.
func metricField(r *realserver.Route, rtax uint16) *int {
	m := &r.Metrics
	switch rtax {
	case unix.RTAX_MTU:
		return &m.MTU
	case unix.RTAX_WINDOW:
		return &m.Window
	case unix.RTAX_RTT:
		return &m.Rtt
	case unix.RTAX_RTTVAR:
		return &m.RttVar
	case unix.RTAX_SSTHRESH:
		return &m.Ssthresh
	case unix.RTAX_CWND:
		return &m.Cwnd
	case unix.RTAX_ADVMSS:
		return &r.AdvMSS
	case unix.RTAX_REORDERING:
		return &m.Reordering
	case unix.RTAX_HOPLIMIT:
		return &m.Hoplimit
	case unix.RTAX_INITCWND:
		return &m.InitCwnd
	case unix.RTAX_FEATURES:
		return &m.Features
	case unix.RTAX_RTO_MIN:
		return &m.RtoMin
	case unix.RTAX_INITRWND:
		return &m.InitRwnd
	case unix.RTAX_QUICKACK:
		return &m.QuickACK
	case unix.RTAX_FASTOPEN_NO_COOKIE:
		return &m.FastOpenNoCookie
	}
	return nil
}

// attrs calls each for every attribute in b.
func attrs(b []byte, each func(typ uint16, val []byte)) {
	for len(b) >= unix.SizeofRtAttr {
		n := int(binary.NativeEndian.Uint16(b[0:2]))
		if n < unix.SizeofRtAttr || n > len(b) {
			return
		}
		each(binary.NativeEndian.Uint16(b[2:4])&^unix.NLA_F_NESTED, b[unix.SizeofRtAttr:n])
		b = b[min((n+unix.RTA_ALIGNTO-1)&^(unix.RTA_ALIGNTO-1), len(b)):]
	}
}

func u32(v []byte) int {
	if len(v) < 4 {
		return 0
	}
	return int(binary.NativeEndian.Uint32(v))
}

// parseRoute reads one RTM_NEWROUTE message: a unicast route, its table,
// and the link indexes of its paths (named by the caller). ok is false for
// a route of another type (local, broadcast, blackhole…).
func parseRoute(body []byte) (r realserver.Route, table int, links []int, ok bool) {
	if len(body) < unix.SizeofRtMsg || body[7] != unix.RTN_UNICAST {
		return r, 0, nil, false
	}
	family, bits := body[0], int(body[1])
	table, r.Protocol = int(body[4]), int(body[5])
	r.OnLink = binary.NativeEndian.Uint32(body[8:12])&unix.RTNH_F_ONLINK != 0
	dst := netip.IPv4Unspecified()
	if family == unix.AF_INET6 {
		dst = netip.IPv6Unspecified()
	}
	link := 0
	attrs(body[unix.SizeofRtMsg:], func(typ uint16, val []byte) {
		switch typ {
		case unix.RTA_DST:
			dst, _ = netip.AddrFromSlice(val)
		case unix.RTA_GATEWAY:
			r.Gw, _ = netip.AddrFromSlice(val)
		case unix.RTA_VIA:
			r.Gw = viaAddr(val)
		case unix.RTA_OIF:
			link = u32(val)
		case unix.RTA_PRIORITY:
			r.Metric = u32(val)
		case unix.RTA_PREFSRC:
			r.Src, _ = netip.AddrFromSlice(val)
		case unix.RTA_TABLE:
			table = u32(val)
		case rtaNhID:
			r.NhID = u32(val)
		case unix.RTA_PREF:
			if len(val) == 1 {
				r.Pref = int(val[0])
			}
		case unix.RTA_CACHEINFO:
			if family == unix.AF_INET6 && len(val) >= 12 {
				if left := int64(int32(binary.NativeEndian.Uint32(val[8:12]))) / userHZ; left > 0 {
					r.Expires = bootSeconds() + left
				}
			}
		case unix.RTA_METRICS:
			attrs(val, func(rtax uint16, v []byte) {
				switch f := metricField(&r, rtax); {
				case rtax == unix.RTAX_LOCK:
					r.Metrics.Locks = uint32(u32(v))
				case rtax == unix.RTAX_CC_ALGO:
					r.Metrics.Congctl = string(trimNUL(v))
				case f != nil:
					*f = u32(v)
				}
			})
		case unix.RTA_MULTIPATH:
			for len(val) >= unix.SizeofRtNexthop {
				n := int(binary.NativeEndian.Uint16(val[0:2]))
				if n < unix.SizeofRtNexthop || n > len(val) {
					break
				}
				h := realserver.Nexthop{Weight: int(val[3]) + 1, OnLink: val[2]&unix.RTNH_F_ONLINK != 0}
				attrs(val[unix.SizeofRtNexthop:n], func(typ uint16, v []byte) {
					switch typ {
					case unix.RTA_GATEWAY:
						h.Gw, _ = netip.AddrFromSlice(v)
					case unix.RTA_VIA:
						h.Gw = viaAddr(v)
					}
				})
				r.Nexthops = append(r.Nexthops, h)
				links = append(links, u32(val[4:8]))
				val = val[min((n+unix.RTNH_ALIGNTO-1)&^(unix.RTNH_ALIGNTO-1), len(val)):]
			}
		}
	})
	r.Dst = netip.PrefixFrom(dst.Unmap(), bits)
	r.Gw, r.Src = r.Gw.Unmap(), r.Src.Unmap()
	if len(r.Nexthops) == 0 {
		return r, table, []int{link}, true
	}
	return r, table, links, true
}

// viaAddr reads RTA_VIA (struct rtvia: a family, then the address): a
// gateway of another family than the route's (an IPv4 route via an IPv6
// link-local router).
func viaAddr(v []byte) netip.Addr {
	if len(v) < 2 {
		return netip.Addr{}
	}
	a, _ := netip.AddrFromSlice(v[2:])
	return a
}

func trimNUL(b []byte) []byte {
	for len(b) > 0 && b[len(b)-1] == 0 {
		b = b[:len(b)-1]
	}
	return b
}
