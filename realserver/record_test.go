package realserver_test

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/rsprep/rsprep/realserver"
	"github.com/rsprep/rsprep/realserver/fake"
	"github.com/rsprep/rsprep/tunnel"
)

// writeAhead is a host that, at every kernel write, reads the record from
// disk as a crash would leave it, and checks that the write is already in
// it: a crash between any two writes loses no prior value.
type writeAhead struct {
	*fake.Host
	t      *testing.T
	path   string
	checks int
}

func (h *writeAhead) owned(what string, match func(c realserver.Change) bool) {
	h.t.Helper()
	h.checks++
	rec, err := realserver.LoadRecord(h.path, testNetns)
	if err != nil {
		h.t.Fatalf("before %s: %v", what, err)
	}
	if !slices.ContainsFunc(rec.Changes, match) {
		h.t.Errorf("%s runs before the record on disk has it:\n%s", what, readFile(h.t, h.path))
	}
}

func (h *writeAhead) AddAddr(a realserver.Addr) error {
	h.owned("adding "+a.Prefix.String(), func(c realserver.Change) bool {
		return c.Kind == realserver.KindAddrAdd && c.Addr.Link == a.Link && c.Addr.Prefix == a.Prefix
	})
	return h.Host.AddAddr(a)
}

func (h *writeAhead) SetSysctl(k realserver.SysctlKey, v int) error {
	h.owned("writing "+k.Dotted(), func(c realserver.Change) bool {
		return c.Kind == realserver.KindSysctl && c.Sysctl == k && c.To == v
	})
	return h.Host.SetSysctl(k, v)
}

func (h *writeAhead) SetLinkUp(l string, up bool) error {
	if l == "lo" {
		return h.Host.SetLinkUp(l, up) // never recorded: down never takes lo down
	}
	h.owned("setting "+l+" up", func(c realserver.Change) bool {
		return c.Kind == realserver.KindLinkUp && c.Link == l && up
	})
	return h.Host.SetLinkUp(l, up)
}

func (h *writeAhead) AddRoute(r realserver.Route) error {
	h.owned("setting route "+r.String(), func(c realserver.Change) bool {
		return (c.Kind == realserver.KindRouteAdd || c.Kind == realserver.KindRouteReplace) && c.Route.Equal(r)
	})
	return h.Host.AddRoute(r)
}

func (h *writeAhead) SetNeighbor(n realserver.Neighbor) error {
	h.owned("pinning "+n.IP.String(), func(c realserver.Change) bool {
		return c.Kind == realserver.KindNeighSet && c.Neigh.IP == n.IP && c.Neigh.Link == n.Link
	})
	return h.Host.SetNeighbor(n)
}

// The record is written ahead: every change that down would undo is on
// disk before the kernel sees it.
func TestApplyRecordsBeforeItWrites(t *testing.T) {
	for _, c := range faultCases() {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "record.json")
			h := &writeAhead{Host: c.seed(t, path), t: t, path: path}
			if _, err := quietEngine(h, loadRecord(t, path), c.mode).Apply(c.invs, false); err != nil {
				t.Fatal(err)
			}
			if h.checks < 4 {
				t.Fatalf("only %d recordable writes checked", h.checks)
			}
		})
	}
}

// A record that is torn, not JSON, of another namespace or unreadable is
// reported as such, naming the file, and never trusted as empty.
func TestLoadRecordRefusesUntrustworthyRecords(t *testing.T) {
	good := `{"version": 1, "netns": "` + testNetns + `", "changes": []}`
	for name, content := range map[string]string{
		"empty":           "",
		"torn":            good[:len(good)/2],
		"garbage":         "\x00\x01garbage",
		"other namespace": `{"version": 1, "netns": "net:[1]", "changes": []}`,
		"future version":  `{"version": 2, "netns": "` + testNetns + `", "changes": []}`,
		"wrong shape":     `{"version": 1, "netns": "` + testNetns + `", "changes": {"kind": 1}}`,
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "net-1.json")
			if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := realserver.LoadRecord(path, testNetns)
			var re *realserver.RecordError
			if !errors.As(err, &re) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "not trusting it") {
				t.Errorf("loading a %s record: %v, want a RecordError naming %s", name, err, path)
			}
		})
	}
	t.Run("unreadable", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "net-1.json")
		if err := os.Mkdir(path, 0o700); err != nil { // reading a directory fails
			t.Fatal(err)
		}
		var re *realserver.RecordError
		if _, err := realserver.LoadRecord(path, testNetns); !errors.As(err, &re) {
			t.Errorf("loading an unreadable record: %v, want a RecordError", err)
		}
	})
}

// When the record cannot be saved before the first change, nothing
// changes, and the error does not claim the host is partly changed.
func TestApplyRecordSaveFailureChangesNothing(t *testing.T) {
	c := drCase()
	path := filepath.Join(t.TempDir(), "record.json")
	h := c.seed(t, path)
	before := h.Render()
	rec := loadRecord(t, path)
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(path, 0o700); err != nil { // renaming over it fails
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(path, "x"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := quietEngine(h, rec, c.mode).Apply(c.invs, false)
	if err == nil {
		t.Fatal("apply succeeded without a record")
	}
	if after := h.Render(); after != before {
		t.Errorf("apply changed the host without a record:\n%s", diff(before, after))
	}
	if msg := err.Error(); !strings.Contains(msg, path) || strings.Contains(msg, "partly changed") {
		t.Errorf("error %q: want it to name %s and not claim the host is partly changed", msg, path)
	}
}

// A saved record loads back equal, change for change, and holds one change
// per line (an operator greps it; nobody has to page through indentation).
func TestRecordSavesOneChangePerLineAndLoadsBack(t *testing.T) {
	path := filepath.Join(t.TempDir(), "net-1.json")
	rec, err := realserver.LoadRecord(path, testNetns) // missing: empty, with its path
	if err != nil {
		t.Fatal(err)
	}
	gw := netip.MustParseAddr("10.0.0.1")
	mac, _ := net.ParseMAC("02:00:00:00:00:01")
	changes := []realserver.Change{
		{Kind: realserver.KindSysctl, Mode: "dr", Sysctl: realserver.SysctlKey{Iface: "eth0.100", Name: "arp_ignore"}, From: 0, To: 1},
		{Kind: realserver.KindAddrAdd, Mode: "dr", Addr: realserver.Addr{Link: "lo", Prefix: netip.MustParsePrefix("192.168.79.180/32"), Label: "lo:rsprep"}},
		{Kind: realserver.KindAddrAdd, Mode: "dr", Addr: realserver.Addr{Link: "lo", Prefix: netip.MustParsePrefix("2001:db8::80/128")}},
		{Kind: realserver.KindRouteReplace, Mode: "nat", Route: realserver.Route{Dst: netip.MustParsePrefix("0.0.0.0/0"), Gw: gw, Link: "eth0", Protocol: 4},
			PrevRoute: realserver.Route{Dst: netip.MustParsePrefix("0.0.0.0/0"), Gw: netip.MustParseAddr("10.0.0.254"), Link: "eth0", Metric: 100, Protocol: 3}},
		{Kind: realserver.KindNeighSet, Mode: "nat", Neigh: realserver.Neighbor{Link: "eth0", IP: gw, MAC: mac, State: realserver.NeighPermanent}},
		// tun's encapsulations and MSS clamp (issue 16)
		{Kind: tunnel.KindFouAdd, Mode: "tun", Fou: realserver.FouPort{Family: 6, Port: 6080, GUE: true}},
		{Kind: tunnel.KindTunnelMode, Mode: "tun", Link: "ip6tnl0", From: int(realserver.ModeIP6IP6), To: int(realserver.ModeAny)},
		{Kind: tunnel.KindRuleAdd, Mode: "tun", Rule: realserver.Rule{Src: netip.MustParsePrefix("192.168.79.180/32"), Table: 7301, Priority: 7301}},
		{Kind: realserver.KindRouteAdd, Mode: "tun", Route: realserver.Route{Dst: netip.MustParsePrefix("0.0.0.0/0"), Gw: gw, Link: "eth0", Table: 7301, AdvMSS: 1400}},
	}
	rec.Own(changes)
	if err := rec.Save(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if lines := strings.Count(string(data), "\n"); lines != len(rec.Changes)+2 {
		t.Errorf("record has %d lines, want one per change (%d) plus head and tail:\n%s", lines, len(rec.Changes), data)
	}
	back, err := realserver.LoadRecord(path, testNetns)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back.Changes, rec.Changes) {
		t.Errorf("loaded back\n%+v\nwant\n%+v", back.Changes, rec.Changes)
	}
}

// Verify reads the record only when a check asks for it (NAT's keep-routes),
// and then once: a DR verify of 10,000 VIPs never decodes it.
func TestViewReadsTheRecordOnlyWhenAsked(t *testing.T) {
	h := fake.New()
	loads := 0
	load := func() *realserver.Record { loads++; return nil }
	vips := []netip.Addr{netip.MustParseAddr("192.168.79.180")}
	v, err := realserver.Observe(h, realserver.RecordOnUse(load))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify([]realserver.Invariant{realserver.LinkUp("link.up", "lo"), realserver.VIPBound(vips, "lo", "lo"), realserver.VIPExclusive(vips, realserver.ReportHeldVIPs)}); err != nil {
		t.Fatal(err)
	}
	if loads != 0 {
		t.Errorf("a verify whose checks never ask for the record read it %d time(s)", loads)
	}
	v.Recorded()
	v.Recorded()
	if loads != 1 {
		t.Errorf("asked twice, the record was read %d time(s), want once", loads)
	}
}

// A save removes what a save killed half-way left behind: its temporary
// file (saves run under the lock, so no other save owns it).
func TestSaveRemovesATemporaryFileACrashLeft(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "net-1.json")
	stale := filepath.Join(dir, ".net-1.json.tmp123456")
	other := filepath.Join(dir, ".net-2.json.tmp123456") // another namespace's
	for _, f := range []string{stale, other} {
		if err := os.WriteFile(f, []byte(`{"version": 1, "netns": "`), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	rec, err := realserver.LoadRecord(path, testNetns)
	if err != nil {
		t.Fatal(err)
	}
	if err := rec.Save(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the crashed save's temporary file is still there: %v", err)
	}
	if _, err := os.Stat(other); err != nil {
		t.Errorf("another namespace's temporary file was removed: %v", err)
	}
}

// Own reports whether the record changed: a repair that re-adds a VIP the
// record already owns (rsprep watch) does not rewrite the record.
func TestOwnReportsChange(t *testing.T) {
	var r realserver.Record
	add := realserver.Change{Kind: realserver.KindAddrAdd, Mode: "dr", Addr: realserver.Addr{Link: "lo", Prefix: netip.MustParsePrefix("192.168.79.180/32"), Label: "lo:rsprep"}}
	sysctl := realserver.Change{Kind: realserver.KindSysctl, Mode: "dr", Sysctl: realserver.SysctlKey{Iface: "all", Name: "arp_ignore"}, From: 0, To: 1}
	if !r.Own([]realserver.Change{add, sysctl}) {
		t.Fatal("owning new things reported no change")
	}
	if r.Own([]realserver.Change{add}) || r.Own([]realserver.Change{sysctl}) {
		t.Fatal("owning the same things again reported a change")
	}
	sysctl.From, sysctl.To = 1, 2
	if !r.Own([]realserver.Change{sysctl}) || r.Changes[1].From != 0 || r.Changes[1].To != 2 {
		t.Fatalf("a new value written reported no change, or lost the prior value: %+v", r.Changes[1])
	}
}

// A default route that DHCP or an operator put in place of rsprep's is
// what the network wants now: replacing it again, rsprep records it as the
// route to give back. Replacing its own (a new --dip) keeps the one from
// before rsprep.
func TestOwnRecordsTheRouteReplacedLast(t *testing.T) {
	gw := func(s string) realserver.Route {
		return realserver.Route{Dst: realserver.DefaultDst, Gw: netip.MustParseAddr(s), Link: "eth0"}
	}
	replace := func(prev, now string) realserver.Change {
		return realserver.Change{Kind: realserver.KindRouteReplace, Mode: "nat", Route: gw(now), PrevRoute: gw(prev)}
	}
	rec := &realserver.Record{Version: 1}
	rec.Own([]realserver.Change{replace("10.0.0.254", "10.0.0.1")})
	for _, step := range []struct {
		c        realserver.Change
		wantPrev string
	}{
		{replace("10.0.0.253", "10.0.0.1"), "10.0.0.253"}, // DHCP moved the gateway
		{replace("10.0.0.1", "10.0.0.2"), "10.0.0.253"},   // a new --dip: rsprep's own route
	} {
		if !rec.Own([]realserver.Change{step.c}) {
			t.Errorf("Own(%s) did not change the record", step.c)
		}
		if got := rec.Changes[0].PrevRoute.Gw.String(); len(rec.Changes) != 1 || got != step.wantPrev {
			t.Errorf("after %s (replacing %s) down would restore via %s, want %s", step.c, step.c.PrevRoute, got, step.wantPrev)
		}
	}
}

// A record written before routes kept their attributes loads, and its
// routes are what they were: no attribute.
func TestRecordWithoutRouteAttributesLoads(t *testing.T) {
	path := filepath.Join(t.TempDir(), "record.json")
	old := `{"version":1,"netns":"` + testNetns + `","changes":[{"kind":"route-replace","mode":"nat",` +
		`"route":{"Dst":"0.0.0.0/0","Gw":"10.0.0.1","Link":"eth0","Metric":0,"Protocol":4},` +
		`"prev_route":{"Dst":"0.0.0.0/0","Gw":"10.0.0.254","Link":"eth0","Metric":0,"Protocol":3}}]}`
	if err := os.WriteFile(path, []byte(old), 0o600); err != nil {
		t.Fatal(err)
	}
	rec, err := realserver.LoadRecord(path, testNetns)
	if err != nil {
		t.Fatal(err)
	}
	want := realserver.Route{Dst: realserver.DefaultDst, Gw: netip.MustParseAddr("10.0.0.254"), Link: "eth0", Protocol: 3}
	if got := rec.Changes[0].PrevRoute; !got.Equal(want) {
		t.Errorf("the old record's previous route reads as %s, want %s", got, want)
	}
}
