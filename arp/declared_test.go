package arp

import (
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/rsprep/rsprep/realserver"
)

// declared is what a config file with dr and vips declares.
func declared(d DR) realserver.Declared {
	return realserver.Declared{Mode: "dr", VIPs: d.VIPs, Invs: d.Invariants()}
}

// A config is the whole truth: a VIP or a pin dropped from it is undone by
// the next converge, while the sysctls the remaining VIP needs stay; with
// nothing declared, DownAll leaves the host as it found it.
func TestConvergeUndoesWhatTheConfigNoLongerDeclares(t *testing.T) {
	h := routedHost()
	h.SetLinkUp("lo", true)
	h.AddNeighborRaw(neighbor(macA, realserver.NeighReachable))
	pristine := withoutNeighbours(h.Render())
	rec := &realserver.Record{Version: 1}
	both := DR{VIPs: vips("192.168.79.180", "192.168.79.181"), Pin: &Pin{}}
	if _, err := pinEngine(h, rec).Converge(declared(both), false); err != nil {
		t.Fatal(err)
	}
	applied := h.Render() + gwEntry(t, h)
	for _, want := range []string{"192.168.79.181/32", "arp_ignore=1", "PERMANENT"} {
		if !strings.Contains(applied, want) {
			t.Fatalf("after the first converge, no %q in\n%s", want, applied)
		}
	}

	one := DR{VIPs: vips("192.168.79.180")}
	fs, err := realserver.UndeclaredFindings(observe(t, h, rec), declared(one))
	if err != nil {
		t.Fatal(err)
	}
	var subjects []string
	for _, f := range fs {
		subjects = append(subjects, f.Subject)
		if f.ID != realserver.UndeclaredID || f.OK {
			t.Errorf("finding %+v: want a failing %s", f, realserver.UndeclaredID)
		}
	}
	if got := strings.Join(subjects, ", "); got != "192.168.79.181/32 on lo, neighbour 192.168.10.254 on eth0" {
		t.Errorf("undeclared before the re-apply: %s", got)
	}

	if _, err := pinEngine(h, rec).Converge(declared(one), false); err != nil {
		t.Fatal(err)
	}
	now := h.Render() + gwEntry(t, h)
	if strings.Contains(now, "192.168.79.181") || strings.Contains(now, "PERMANENT") {
		t.Errorf("converge kept what the config dropped:\n%s", now)
	}
	if !strings.Contains(now, "192.168.79.180/32") || !strings.Contains(now, "all/arp_ignore=1") {
		t.Errorf("converge undid what the config still declares:\n%s", now)
	}
	if fs, err := realserver.UndeclaredFindings(observe(t, h, rec), declared(one)); err != nil || len(fs) != 0 {
		t.Errorf("after converge: undeclared %+v, %v; want none", fs, err)
	}
	if res, err := pinEngine(h, rec).Converge(declared(one), false); err != nil || len(res.Changes) != 0 {
		t.Errorf("a second converge: %v, %v; want no change", res.Changes, err)
	}

	if _, err := pinEngine(h, rec).DownAll(false); err != nil {
		t.Fatal(err)
	}
	if got := withoutNeighbours(h.Render()); got != pristine || strings.Contains(gwEntry(t, h), "PERMANENT") {
		t.Errorf("after down --all:\n%s\nwant pristine:\n%s", got, pristine)
	}
	if len(rec.Changes) != 0 {
		t.Errorf("record after down --all: %v", rec.Changes)
	}
}

// A VIP that carries rsprep's label but no record names (a lost record) is
// rsprep's: undeclared, it is reported and removed.
func TestConvergeRemovesAnUndeclaredMarkedVIP(t *testing.T) {
	h := uplinkHost()
	h.AddAddrRaw(realserver.VIPAddr(vips("192.168.79.181")[0], "lo"))
	d := DR{VIPs: vips("192.168.79.180")}
	rec := &realserver.Record{Version: 1}
	if _, err := engine(h, rec).Converge(declared(d), false); err != nil {
		t.Fatal(err)
	}
	if got := h.Render(); strings.Contains(got, "192.168.79.181") || !strings.Contains(got, "192.168.79.180") {
		t.Errorf("after converge:\n%s", got)
	}
}

// withoutNeighbours drops the neighbour lines of a rendering: an unpinned
// gateway's entry is the kernel's to learn again.
func withoutNeighbours(render string) string {
	lines := strings.Split(render, "\n")
	return strings.Join(slices.DeleteFunc(lines, func(l string) bool { return strings.HasPrefix(l, "neigh ") }), "\n")
}

// observe is verify's observation of h, with rec as its record.
func observe(t *testing.T, h realserver.Host, rec *realserver.Record) *realserver.View {
	t.Helper()
	v, err := realserver.Observe(h, realserver.RecordOnUse(func() *realserver.Record { return rec }))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// An apply that leaves a check it cannot fix failing (a director that does
// not answer) still undoes what the config no longer declares.
func TestConvergeUndoesEvenWhenACheckStillFails(t *testing.T) {
	h := uplinkHost()
	rec := &realserver.Record{Version: 1}
	if _, err := engine(h, rec).Converge(declared(DR{VIPs: vips("192.168.79.180", "192.168.79.181")}), false); err != nil {
		t.Fatal(err)
	}
	silent := DR{VIPs: vips("192.168.79.180"), DIP: netip.MustParseAddr("10.0.0.1")}
	_, err := engine(h, rec).Converge(declared(silent), false)
	var nc *realserver.NotConvergedError
	if !errors.As(err, &nc) || nc.Failing[0].ID != "dip.reachable" {
		t.Fatalf("converge with a silent director: %v, want dip.reachable failing", err)
	}
	if got := h.Render(); strings.Contains(got, "192.168.79.181") || !strings.Contains(got, "192.168.79.180") {
		t.Errorf("after converge:\n%s", got)
	}
}

// As down judges it: a VIP rsprep added, re-added since without its mark,
// is somebody's; down --all leaves it, and keeps the sysctls it needs.
func TestDownAllKeepsTheSysctlsAVIPLeftBoundNeeds(t *testing.T) {
	h := uplinkHost()
	rec := &realserver.Record{Version: 1}
	d := DR{VIPs: vips("192.168.79.180")}
	if _, err := engine(h, rec).Converge(declared(d), false); err != nil {
		t.Fatal(err)
	}
	ours := realserver.VIPAddr(d.VIPs[0], "lo")
	if err := h.DelAddr(ours); err != nil {
		t.Fatal(err)
	}
	h.AddAddrRaw(realserver.Addr{Link: "lo", Prefix: ours.Prefix})
	res, err := engine(h, rec).DownAll(false)
	if err != nil {
		t.Fatal(err)
	}
	got := h.Render()
	if !strings.Contains(got, "192.168.79.180/32") || !strings.Contains(got, "all/arp_ignore=1") {
		t.Errorf("down --all removed the re-added VIP or restored the sysctls it needs:\n%s", got)
	}
	if !slices.ContainsFunc(res.Notes, func(n string) bool { return strings.Contains(n, "kept the sysctls") }) {
		t.Errorf("notes %q do not say why the sysctls stay", res.Notes)
	}
}
