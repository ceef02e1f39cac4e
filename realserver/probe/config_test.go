package probe

import (
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	ok := Config{RIPs: []netip.Addr{a("10.0.0.11")}, VIPs: []netip.AddrPort{netip.MustParseAddrPort("192.168.79.180:80")},
		Encap: DR, Count: 1, Timeout: time.Second}
	if err := ok.Validate(); err != nil {
		t.Fatalf("a good config: %v", err)
	}
	for _, c := range []struct {
		change func(*Config)
		want   string
	}{
		{func(c *Config) { c.Encap = "vxlan" }, "want dr, ipip, gue or gre"},
		{func(c *Config) { c.Encap = GUE }, "needs --encap-port"},
		{func(c *Config) { c.Port = 6080 }, "for --encap gue only"},
		{func(c *Config) { c.Count = 0 }, "--count 0"},
		{func(c *Config) { c.Timeout = 0 }, "--timeout"},
		{func(c *Config) { c.Underlay = "ipv4" }, "DR has no outer header"},
		{func(c *Config) { c.Encap, c.Underlay = IPIP, "ipv6" }, "not an ipv6 address"},
		{func(c *Config) { c.Encap, c.Underlay = IPIP, "ipx" }, "want ipv4 or ipv6"},
		{func(c *Config) { c.RIPs = []netip.Addr{a("2001:db8::11")} }, "same family"},
		{func(c *Config) { c.RIPs = []netip.Addr{a("192.168.79.180")} }, "also a VIP"},
		{func(c *Config) { c.RIPs = nil }, "give --rip"},
	} {
		bad := ok
		c.change(&bad)
		err := bad.Validate()
		if _, isInput := err.(*InputError); !isInput || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want an InputError with %q", bad, err, c.want)
		}
	}
	mixed := ok
	mixed.Encap, mixed.RIPs = IPIP, []netip.Addr{a("2001:db8::11")}
	if err := mixed.Validate(); err != nil {
		t.Errorf("an IPv4 VIP over an IPv6 underlay is what tun supports: %v", err)
	}
}
