package realserver

import (
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// skim leaves out, undecoded, the addresses skip names, decodes the rest
// as decode would, and declines a layout that is not one change per line.
func TestSkimReadsAddressesFromTheirLines(t *testing.T) {
	changes := []Change{
		{Kind: KindSysctl, Mode: "dr", Sysctl: SysctlKey{Iface: "all", Name: "arp_ignore"}, To: 1},
		{Kind: KindAddrAdd, Mode: "dr", Addr: VIPAddr(netip.MustParseAddr("192.168.79.180"), "lo")},
		{Kind: KindAddrAdd, Mode: "dr", Addr: VIPAddr(netip.MustParseAddr("192.168.79.181"), "lo")},
		{Kind: KindAddrAdd, Mode: "tun", Addr: VIPAddr(netip.MustParseAddr("192.168.79.180"), "tunl0")},
	}
	path := filepath.Join(t.TempDir(), "rec.json")
	rec := &Record{Version: 1, Netns: "n", Changes: changes, path: path}
	if err := rec.Save(); err != nil {
		t.Fatal(err)
	}
	load := func() *Record {
		r, err := loadRecord(path, "n")
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	var seen []string
	got, ok := load().skim(func(mode, link string, p netip.Prefix) bool {
		seen = append(seen, mode+" "+link+" "+p.String())
		return mode == "dr" && p.Addr() == netip.MustParseAddr("192.168.79.180")
	})
	if !ok {
		t.Fatal("skim declined the layout Save writes")
	}
	if want := []Change{changes[0], changes[2], changes[3]}; !reflect.DeepEqual(got, want) {
		t.Errorf("skim kept\n%v\nwant\n%v", got, want)
	}
	if want := []string{"dr lo 192.168.79.180/32", "dr lo 192.168.79.181/32", "tun tunl0 192.168.79.180/32"}; !reflect.DeepEqual(seen, want) {
		t.Errorf("skim read %q, want %q", seen, want)
	}
	// Every change on one line, as a hand edit may leave it: decode whole.
	if err := os.WriteFile(path, []byte(`{"version":1,"netns":"n","changes":[{"kind":"addr-add","mode":"dr","addr":{"Link":"lo","Prefix":"192.168.79.180/32"}},{"kind":"addr-add","mode":"dr","addr":{"Link":"lo","Prefix":"192.168.79.181/32"}}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, ok := load().skim(func(string, string, netip.Prefix) bool { return true }); ok {
		t.Error("skim read a record of several changes a line")
	}
}
