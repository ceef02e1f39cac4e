package realserver

import (
	"net/netip"
	"strings"
	"testing"
)

// Whose a present VIP address is, as down of dr decides it: the rule of
// README "Ownership" for each kind of address, IPv6 on a kernel without
// IFA_PROTO included (there a record is the only mark).
func TestDownDecidesWhoseEachAddressIs(t *testing.T) {
	v4 := netip.MustParsePrefix("192.168.79.180/32")
	v6 := netip.MustParsePrefix("2001:db8::80/128")
	marked := VIPAddr(v4.Addr(), "lo")
	own := addrOwners{mode: "dr", devices: []string{"lo"}, whose: map[Addr]string{
		{Link: "lo", Prefix: v4}: "dr",
		{Link: "lo", Prefix: v6}: "dr",
	}}
	for _, c := range []struct {
		name  string
		a     Addr
		shown bool
		whose string // "" for the record above
		leave string // "" removes it
	}{
		{"recorded and marked", marked, true, "", ""},
		{"recorded, re-added without the mark", Addr{Link: "lo", Prefix: v4}, true, "", "re-added since"},
		{"recorded by tun", marked, true, "tun", "rsprep tun added it"},
		{"IPv6 recorded, kernel without IFA_PROTO", Addr{Link: "lo", Prefix: v6}, false, "", ""},
		{"IPv6 recorded, untagged on a kernel with IFA_PROTO", Addr{Link: "lo", Prefix: v6}, true, "", "re-added since"},
		{"no record, marked on lo", Addr{Link: "lo", Prefix: netip.MustParsePrefix("192.168.79.181/32"), Label: "lo:rsprep"}, true, "", ""},
		{"no record, marked on tunl0", Addr{Link: "tunl0", Prefix: netip.MustParsePrefix("192.168.79.181/32"), Label: "tunl0:rsprep"}, true, "", "dr binds no VIP on tunl0"},
		{"no record, unmarked", Addr{Link: "lo", Prefix: netip.MustParsePrefix("192.168.79.181/32")}, true, "", "rsprep did not add it"},
	} {
		t.Run(c.name, func(t *testing.T) {
			o := own
			o.shown = c.shown
			if c.whose != "" {
				o.whose = map[Addr]string{{Link: "lo", Prefix: v4}: c.whose}
			}
			remove, got := o.leave(c.a)
			if remove != (c.leave == "") || !strings.Contains(got, c.leave) {
				t.Errorf("leave(%s on %s) = %v, %q; want %q", c.a.Prefix, c.a.Link, remove, got, c.leave)
			}
		})
	}
}
