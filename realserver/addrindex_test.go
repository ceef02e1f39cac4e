package realserver_test

import (
	"net/netip"
	"slices"
	"testing"

	"github.com/rsprep/rsprep/realserver"
	"github.com/rsprep/rsprep/realserver/fake"
)

// AddrsOf answers the same whether it scans (a view's first calls) or
// uses its index (the calls after them): the one address of an IP, every
// address of an IP on several interfaces, in order, and none.
func TestAddrsOfScanAndIndexAgree(t *testing.T) {
	h := fake.New()
	h.AddLink(realserver.Link{Name: "eth0", Type: "veth", Up: true})
	h.AddLink(realserver.Link{Name: "eth1", Type: "veth", Up: true})
	for _, a := range []realserver.Addr{
		{Link: "eth0", Prefix: netip.MustParsePrefix("192.168.10.2/24")},
		{Link: "lo", Prefix: netip.MustParsePrefix("192.168.79.180/32")},
		{Link: "eth1", Prefix: netip.MustParsePrefix("192.168.79.180/32")},
		{Link: "eth1", Prefix: netip.MustParsePrefix("2001:db8::80/128")},
	} {
		h.AddAddrRaw(a)
	}
	ips := []netip.Addr{
		netip.MustParseAddr("192.168.79.180"), netip.MustParseAddr("192.168.10.2"),
		netip.MustParseAddr("2001:db8::80"), netip.MustParseAddr("192.168.79.181"),
	}
	v := realserver.NewView(h)
	var first [][]realserver.Addr
	for _, ip := range ips {
		as, err := v.AddrsOf(ip)
		if err != nil {
			t.Fatal(err)
		}
		first = append(first, as)
	}
	for range 20 { // past the scans: the index answers
		for i, ip := range ips {
			as, err := v.AddrsOf(ip)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(as, first[i]) {
				t.Fatalf("AddrsOf(%s): index %v, scan %v", ip, as, first[i])
			}
		}
	}
	if len(first[0]) != 2 || first[0][0].Link != "lo" || first[0][1].Link != "eth1" || len(first[1]) != 1 || len(first[3]) != 0 {
		t.Errorf("scans found %v", first)
	}
}
