package doctor

import (
	"strings"
	"testing"

	"github.com/coreos/go-systemd/v22/unit"
)

// [Match] as networkd evaluates it: every key given must match the link.
func TestMatchNetworkLikeNetworkd(t *testing.T) {
	eth0 := Link{Name: "eth0", Type: "device", HWType: "ether", MAC: "52:54:00:12:34:56", Driver: "virtio_net"}
	wlan0 := Link{Name: "wlan0", Type: "device", HWType: "ether", DevType: "wlan"}
	tunl0 := Link{Name: "tunl0", Type: "ipip"}
	lo := Link{Name: "lo", Type: "device"}
	bare := Link{Name: "eth1", Type: "device"} // facts without type, MAC or driver
	for _, c := range []struct {
		match  string
		link   Link
		want   bool
		caveat string
	}{
		{"Type=wlan\nWLANInterfaceType=ad-hoc", tunl0, false, ""},
		{"Type=wlan\nWLANInterfaceType=ad-hoc", eth0, false, ""},
		{"Type=wlan\nWLANInterfaceType=ad-hoc", wlan0, true, "WLANInterfaceType="},
		{"Type=wlan", bare, true, "Type="},
		{"Type=ether", lo, false, ""},
		{"Type=loopback", lo, true, ""},
		{"Type=tunnel", tunl0, true, ""},
		{"Name=en* eth*", eth0, true, ""},
		{"Name=!eth*", eth0, false, ""},
		{"MACAddress=52:54:00:12:34:56", eth0, true, ""},
		{"MACAddress=52:54:00:AB:CD:EF 52:54:00:12:34:56", eth0, true, ""},
		{"MACAddress=52:54:00:ab:cd:ef", eth0, false, ""},
		{"PermanentMACAddress=52:54:00:12:34:56", bare, true, "PermanentMACAddress="},
		{"Driver=virtio*", eth0, true, ""},
		{"Driver=e1000", eth0, false, ""},
		{"Kind=veth\nName=host0", eth0, false, ""},
		{"Kind=ipip", tunl0, true, ""},
		{"Kind=*", eth0, false, ""}, // a plain device has no kind
		{"Name=eth0\nName=", eth0, true, ""},
		// Each assignment's "!" negates its own words; a matching
		// negated word fails the list, whatever the order.
		{"Name=!eth1\nName=eth*", eth0, true, ""},
		{"Name=eth*\nName=!eth0", eth0, false, ""},
		{"Name=!wlan* !eth1", eth0, true, ""},
		{"Kind=!veth", eth0, true, ""}, // no kind: only plain patterns fail it
		{"", lo, true, ""},
	} {
		opts, err := unit.DeserializeOptions(strings.NewReader("[Match]\n" + c.match + "\n"))
		if err != nil {
			t.Fatal(err)
		}
		nf := &iniFile{path: "/x.network", opts: opts, data: []byte("[Match]\n" + c.match)}
		got, caveat := matchNetwork([]*iniFile{nf}, c.link)
		if (got != nil) != c.want || !strings.Contains(caveat, c.caveat) || (c.caveat == "" && caveat != "") {
			t.Errorf("[Match] %q on %s: matched %v, caveat %q; want %v, %q", c.match, c.link.Name, got != nil, caveat, c.want, c.caveat)
		}
	}
}
