package realserver

import "net/netip"

// ownerIndex maps the owner key of each recorded change that cs could
// own again to its index in r.Changes: own looks up only the keys of cs.
// A recorded address whose prefix no address of cs has is left out
// without building its key: a key names its address, and the keys of the
// other kinds never start like an address's. So a repair of one VIP of
// 10,000 builds one key, not 10,000 (at that size most of what the record
// cost a repair).
func (r *Record) ownerIndex(cs []Change) map[string]int {
	prefixes := map[netip.Prefix]bool{}
	for _, c := range cs {
		if isAddrOwner(c.Kind) {
			prefixes[c.Addr.Prefix] = true
		}
	}
	index := make(map[string]int, len(cs))
	for i := range r.Changes {
		c := &r.Changes[i] // not a copy: a Change is large, and there are 10,000
		if isAddrOwner(c.Kind) && !prefixes[c.Addr.Prefix] {
			continue
		}
		index[c.ownerKey()] = i
	}
	return index
}

// isAddrOwner: the kinds whose owner key is "addr LINK PREFIX" or
// "taken LINK PREFIX" (see ownerKey).
func isAddrOwner(k Kind) bool { return k == KindAddrAdd || k == KindAddrTake }
