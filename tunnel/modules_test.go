package tunnel

import (
	"net/netip"
	"reflect"
	"slices"
	"testing"

	"github.com/rsprep/rsprep/realserver"
)

// The boot unit cannot load kernel modules (systemd.Hardening:
// ProtectKernelModules=, no CAP_SYS_MODULE): install writes Modules() to
// modules-load.d instead. So every module an apply on a fresh host loads
// must be in Modules(), for every encapsulation and underlay.
func TestModulesListsEveryModuleApplyLoads(t *testing.T) {
	v4, v6 := netip.MustParseAddr("192.168.79.180"), netip.MustParseAddr("2001:db8::80")
	for name, spec := range map[string]TUN{
		"ipip":             {VIPs: []netip.Addr{v4}},
		"ipip+ip6ip6":      {VIPs: []netip.Addr{v4, v6}},
		"gue":              {VIPs: []netip.Addr{v4, v6}, Encap: EncapGUE, Port: 6080},
		"gue over ipv6":    {VIPs: []netip.Addr{v4}, Encap: EncapGUE, Port: 6080, Underlay: 6},
		"gre":              {VIPs: []netip.Addr{v4, v6}, Encap: EncapGRE},
		"ipv4 over ipv6":   {VIPs: []netip.Addr{v4}, Underlay: 6},
		"ipv6 over ipv4":   {VIPs: []netip.Addr{v6}, Underlay: 4},
		"gre over ipv6":    {VIPs: []netip.Addr{v4}, Encap: EncapGRE, Underlay: 6},
		"mss clamp, mixed": {VIPs: []netip.Addr{v4, v6}, MSS: 1400},
	} {
		t.Run(name, func(t *testing.T) {
			if err := spec.Validate(); err != nil {
				t.Skipf("not a valid combination: %v", err)
			}
			h := realServer()
			for _, m := range []string{"ipip", "ip6_tunnel", "sit", "fou", "fou6", "ip_gre", "ip6_gre"} {
				h.AllowModule(m)
			}
			res, err := engine(h).Apply(spec.Invariants(), false)
			if err != nil {
				t.Fatalf("apply: %v", err)
			}
			var loaded []string
			for _, c := range res.Changes {
				if c.Kind == realserver.KindModule {
					loaded = append(loaded, c.Module)
				}
			}
			if len(loaded) == 0 {
				t.Fatal("apply loaded no module: this case proves nothing")
			}
			for _, m := range loaded {
				if !slices.Contains(spec.Modules(), m) {
					t.Errorf("apply loads %s, which Modules() %v (modules-load.d) lacks: the hardened unit could not load it", m, spec.Modules())
				}
			}
		})
	}
}

// Modules is what install writes to modules-load.d, for each device the
// VIPs arrive on: the module that creates it, and fou (fou6 for an IPv6
// underlay) for GUE.
func TestModules(t *testing.T) {
	v4 := []netip.Addr{netip.MustParseAddr("192.168.79.180")}
	both := []netip.Addr{netip.MustParseAddr("192.168.79.180"), netip.MustParseAddr("2001:db8::80")}
	v6 := []netip.Addr{netip.MustParseAddr("2001:db8::80")}
	for _, tc := range []struct {
		spec TUN
		want []string
	}{
		{TUN{VIPs: v4}, []string{"ipip"}},
		{TUN{VIPs: both}, []string{"ipip", "ip6_tunnel"}},
		{TUN{VIPs: v6}, []string{"ip6_tunnel"}},
		{TUN{VIPs: v4, Encap: EncapGUE, Port: 6080}, []string{"fou", "ipip"}},
		{TUN{VIPs: v4, Encap: EncapGUE, Port: 6080, Underlay: 6}, []string{"fou", "fou6", "ip6_tunnel"}},
		{TUN{VIPs: both, Encap: EncapGRE}, []string{"ip_gre", "ip6_gre"}},
		{TUN{VIPs: v4, Underlay: 6}, []string{"ip6_tunnel"}},
	} {
		if got := tc.spec.Modules(); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%+v: %v, want %v", tc.spec, got, tc.want)
		}
	}
}
