package tunnel

import (
	"github.com/rsprep/rsprep/realserver"
	"github.com/rsprep/rsprep/realserver/input"
)

// RPFilter is the reverse-path filtering TUN leaves on tunl0. A
// decapsulated packet arrives on tunl0 but the route back to its client is
// via the uplink, so strict filtering (1) drops it; off (0) and loose (2)
// both let it in.
type RPFilter string

const (
	RPFilterUnset RPFilter = ""      // not given: off
	RPFilterOff   RPFilter = "off"   // effective 0: lowers conf/all and conf/tunl0 as needed
	RPFilterLoose RPFilter = "loose" // effective 2: raises conf/tunl0 only, for hosts whose baseline forbids 0
)

// ParseRPFilter parses --rp-filter.
func ParseRPFilter(s string) (RPFilter, error) {
	switch RPFilter(s) {
	case RPFilterUnset, RPFilterOff, RPFilterLoose:
		return RPFilter(s), nil
	}
	return "", input.Errorf("--rp-filter %q: want off (0, the default) or loose (2); strict (1) drops every decapsulated packet", s)
}

// want is the effective value the mode needs.
func (r RPFilter) want() int {
	if r == RPFilterLoose {
		return 2
	}
	return 0
}

// invariant is rp.filter: the kernel uses max(conf/all, conf/tunl0), so
// setting tunl0 alone is the classic mistake while all is 1. Off lowers
// whichever of the two is above 0 (lowering all turns filtering off on
// every interface, which is why loose exists); loose raises tunl0 alone.
func (r RPFilter) invariant(dev string) realserver.Invariant {
	return realserver.EffectiveSysctl{
		ID:         "rp.filter",
		Name:       "rp_filter",
		Want:       r.want(),
		Ifaces:     []string{dev},
		RaiseIface: true,
	}
}
