package persist

import (
	"net/netip"
	"testing"
	"time"
)

// A down of every mode (down --all, down --config: the units' stop)
// stands down a keeper of any mode, whatever VIPs it keeps; an apply of
// any mode makes it void. A down of one mode's VIPs covers only keepers
// of those VIPs.
func TestStandDownOfEveryMode(t *testing.T) {
	f := Files{Dir: t.TempDir(), Netns: Netns{Cookie: 9, Inode: 4026531841}}
	vip := netip.MustParseAddr("192.168.79.180")
	other := netip.MustParseAddr("192.168.79.181")
	if err := f.AddStandDown(StandDown{Mode: AllModes, PID: 1, At: time.Now()}); err != nil {
		t.Fatal(err)
	}
	for _, mode := range []string{"dr", "tun", "nat"} {
		if _, ok := f.StandDownFor(mode, []netip.Addr{vip}); !ok {
			t.Fatalf("a down of every mode does not stand down a keeper of %s", mode)
		}
	}
	if err := f.ClearStandDown("tun", []netip.Addr{other}); err != nil {
		t.Fatal(err)
	}
	if d, ok := f.StandDownFor("dr", []netip.Addr{vip}); ok {
		t.Fatalf("after an apply, still standing down for %v", d)
	}

	if err := f.AddStandDown(StandDown{Mode: "dr", VIPs: []netip.Addr{vip}, PID: 1, At: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if _, ok := f.StandDownFor("dr", []netip.Addr{other}); ok {
		t.Fatal("a down of one VIP stands down a keeper of another")
	}
	if _, ok := f.StandDownFor("tun", []netip.Addr{vip, other}); !ok {
		t.Fatal("a down of a VIP does not stand down another mode's keeper of it")
	}
}
