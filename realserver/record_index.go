package realserver

import "net/netip"

// ownerIndex maps the owner key of each recorded change that an entry of
// cs could own again to its index in r.Changes: own looks up only the
// keys of cs's entries. When every entry of cs is an address (a watcher
// re-adding a VIP), a recorded address whose prefix none of them has is
// left out without building its key: an address kind's key names its
// prefix. So a repair of one VIP of 10,000 builds a few keys, not 10,000
// (at that size most of what the record cost a repair). Any other plan
// indexes the whole record: another kind's key may be anything.
func (r *Record) ownerIndex(cs []Change) map[string]int {
	prefixes, onlyAddrs := map[netip.Prefix]bool{}, true
	for _, c := range cs {
		entry, keep := c.recordEntry()
		switch {
		case !keep:
		case isAddrOwner(entry.Kind):
			prefixes[entry.Addr.Prefix] = true
		default:
			onlyAddrs = false
		}
	}
	index := make(map[string]int, len(cs))
	for i := range r.Changes {
		c := &r.Changes[i] // not a copy: a Change is large, and there are 10,000
		if onlyAddrs && isAddrOwner(c.Kind) && !prefixes[c.Addr.Prefix] {
			continue
		}
		index[c.ownerKey()] = i
	}
	return index
}

// isAddrOwner: the kinds whose owner key is "addr LINK PREFIX" or
// "taken LINK PREFIX" (kind_addr.go).
func isAddrOwner(k Kind) bool { return k == KindAddrAdd || k == KindAddrTake }
