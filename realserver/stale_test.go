package realserver_test

import (
	"bytes"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rsprep/rsprep/arp"
	"github.com/rsprep/rsprep/realserver"
	"github.com/rsprep/rsprep/realserver/fake"
	"github.com/rsprep/rsprep/realserver/persist"
)

// deadRecord saves, under s, the record a namespace with one DR VIP left:
// conf/all arp_ignore 0 → 1 and 10.208.0.1/32 on lo.
func deadRecord(t *testing.T, s realserver.State) {
	t.Helper()
	rec, err := s.Load()
	if err != nil {
		t.Fatal(err)
	}
	rec.Own([]realserver.Change{
		{Kind: realserver.KindSysctl, Mode: "dr", Sysctl: realserver.SysctlKey{Iface: "all", Name: "arp_ignore"}, From: 0, To: 1},
		{Kind: realserver.KindAddrAdd, Mode: "dr", Addr: realserver.Addr{Link: "lo", Prefix: netip.MustParsePrefix("10.208.0.1/32"), Label: "lo:rsprep"}},
	})
	if err := rec.Save(); err != nil {
		t.Fatal(err)
	}
}

// On a kernel without the netns cookie, records are keyed by the inode, so
// a namespace may find a freed one's record under its own name. With
// nothing of it in place (its VIP absent, its sysctl not at rsprep's
// value), it is removed and said so, and this namespace's apply and down
// are its own: down restores what this run changed.
func TestStaleInodeRecordIsRemovedNotApplied(t *testing.T) {
	s := realserver.State{Files: persist.Files{Dir: t.TempDir(), Netns: persist.Netns{Inode: 4026532177}}}
	deadRecord(t, s)
	h := fake.New()
	h.AddLink(realserver.Link{Name: "eth0", Type: "veth", Up: true})
	h.SetSysctlRaw("all", "arp_ignore", 2) // this namespace's own value
	var log bytes.Buffer
	run := func(apply bool) {
		t.Helper()
		rec, err := s.Load()
		if err != nil {
			t.Fatal(err)
		}
		e := &realserver.Engine{Host: h, Record: rec, Mode: "dr", Log: slog.New(slog.NewTextHandler(&log, nil))}
		vips := []netip.Addr{netip.MustParseAddr("10.208.1.1")}
		if apply {
			_, err = e.Apply(arp.DR{VIPs: vips}.Invariants(), false)
		} else {
			_, err = e.Down(vips, false)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	run(true)
	if !strings.Contains(log.String(), "removed a stale record") {
		t.Errorf("the stale record's removal was not said:\n%s", log.String())
	}
	rec, err := s.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range rec.Changes {
		if c.Kind == realserver.KindAddrAdd && c.Addr.Prefix.Addr() != netip.MustParseAddr("10.208.1.1") {
			t.Errorf("the dead namespace's %v is still in the record", c.Addr.Prefix)
		}
	}
	run(false)
	if v, _ := h.Sysctl(realserver.SysctlKey{Iface: "all", Name: "arp_ignore"}); v != 2 {
		t.Errorf("down left conf/all/arp_ignore=%d, want this namespace's 2 back", v)
	}
}

// A record keyed by the inode whose changes are in place is this
// namespace's (written by an rsprep before the cookie, or on a kernel
// without it): on a kernel with the cookie it is kept, saved under the
// cookie, and the inode-keyed file goes.
func TestInodeRecordInPlaceIsAdoptedUnderTheCookie(t *testing.T) {
	dir := t.TempDir()
	old := realserver.State{Files: persist.Files{Dir: dir, Netns: persist.Netns{Inode: 4026532177}}}
	deadRecord(t, old)
	h := fake.New()
	h.SetSysctlRaw("all", "arp_ignore", 1)
	h.AddAddrRaw(realserver.Addr{Link: "lo", Prefix: netip.MustParsePrefix("10.208.0.1/32"), Label: "lo:rsprep"})
	s := realserver.State{Files: persist.Files{Dir: dir, Netns: persist.Netns{Cookie: 4096, Inode: 4026532177}}}
	rec, err := s.Load()
	if err != nil || !rec.Unproven || len(rec.Changes) != 2 {
		t.Fatalf("the inode-keyed record loaded as %+v, %v; want its 2 changes, unproven", rec, err)
	}
	e := &realserver.Engine{Host: h, Record: rec, Mode: "dr", Log: slog.New(slog.DiscardHandler)}
	if _, err := e.Down([]netip.Addr{netip.MustParseAddr("10.208.0.1")}, false); err != nil {
		t.Fatal(err)
	}
	if v, _ := h.Sysctl(realserver.SysctlKey{Iface: "all", Name: "arp_ignore"}); v != 0 {
		t.Errorf("down left conf/all/arp_ignore=%d, want 0 (the record was this namespace's)", v)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	if len(files) != 1 || filepath.Base(files[0]) != "netns-4096-4026532177.json" {
		t.Errorf("records: %v, want only netns-4096-4026532177.json", files)
	}
	if _, err := os.Stat(old.RecordPath()); !os.IsNotExist(err) {
		t.Errorf("the inode-keyed record is still there: %v", err)
	}
}
