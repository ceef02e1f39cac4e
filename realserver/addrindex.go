package realserver

import "net/netip"

// maxScans is how many AddrsOf calls a view answers by scanning its
// addresses before it indexes them. A watcher's repair of one VIP asks
// for one or two IPs per view: a scan of 10,000 addresses is tens of
// microseconds, an index of them a millisecond and 0.7 MB to collect (at
// 10,000 VIPs, what made a repair wait for the garbage collector). A full
// check asks for every VIP, and its calls beyond these use the index.
const maxScans = 16

// scan is AddrsOf without the index: the one address with ip (a capped
// slice of addrs), or all of them when several share it, in order.
func (v *View) scan(ip netip.Addr) []Addr {
	first := -1
	var shared []Addr
	for i := range v.addrs {
		if v.addrs[i].Prefix.Addr() != ip {
			continue
		}
		switch {
		case first < 0:
			first = i
		case shared == nil:
			shared = []Addr{v.addrs[first], v.addrs[i]}
		default:
			shared = append(shared, v.addrs[i])
		}
	}
	switch {
	case shared != nil:
		return shared
	case first >= 0:
		return v.addrs[first : first+1 : first+1]
	}
	return nil
}

// index builds byIP and shared. Most addresses are the only one with
// their IP: those are indexed (no slice per address; at 10,000 VIPs that
// was 10,000 allocations per observation) and only the shared ones listed.
func (v *View) index() {
	v.byIP = make(map[netip.Addr]int, len(v.addrs))
	for i, x := range v.addrs {
		ip := x.Prefix.Addr()
		first, seen := v.byIP[ip]
		switch {
		case !seen:
			v.byIP[ip] = i
		case v.shared[ip] == nil:
			if v.shared == nil {
				v.shared = map[netip.Addr][]Addr{}
			}
			v.shared[ip] = []Addr{v.addrs[first], x}
		default:
			v.shared[ip] = append(v.shared[ip], x)
		}
	}
}
