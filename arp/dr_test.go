package arp

import (
	"flag"
	"io"
	"log/slog"
	"math/rand"
	"net/netip"
	"os"
	"strings"
	"testing"

	"github.com/rsprep/rsprep/realserver"
	"github.com/rsprep/rsprep/realserver/fake"
)

var update = flag.Bool("update", false, "rewrite golden files")

// uplinkHost is a fake real server: lo up, an uplink eth0.100 with its RIP.
func uplinkHost() *fake.Host {
	h := fake.New()
	h.SetLinkUp("lo", true)
	h.AddLink(realserver.Link{Name: "eth0.100", Type: "veth", Up: true})
	h.AddAddrRaw(realserver.Addr{Link: "eth0.100", Prefix: netip.MustParsePrefix("10.0.0.2/24")})
	return h
}

func engine(h realserver.Host, rec *realserver.Record) *realserver.Engine {
	return &realserver.Engine{Host: h, Record: rec, Mode: "dr", Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
}

func vips(s ...string) []netip.Addr {
	out := make([]netip.Addr, len(s))
	for i, x := range s {
		out[i] = netip.MustParseAddr(x)
	}
	return out
}

// orderHost records the order of writes.
type orderHost struct {
	*fake.Host
	calls []string
}

func (o *orderHost) SetSysctl(k realserver.SysctlKey, v int) error {
	o.calls = append(o.calls, "sysctl")
	return o.Host.SetSysctl(k, v)
}

func (o *orderHost) AddAddr(a realserver.Addr) error {
	o.calls = append(o.calls, "addr")
	return o.Host.AddAddr(a)
}

// Sysctls go in before the VIP, or the host may answer ARP for it between.
func TestApplySetsSysctlsBeforeVIPs(t *testing.T) {
	h := &orderHost{Host: uplinkHost()}
	if _, err := engine(h, &realserver.Record{}).Apply(DR{VIPs: vips("192.168.79.180", "2001:db8::80")}.Invariants(), false); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(h.calls, ",")
	if want := "sysctl,sysctl,sysctl,sysctl,sysctl,sysctl,addr,addr"; got != want {
		t.Fatalf("write order %s, want %s", got, want)
	}
}

func TestApplyThenSecondApplyChangesNothing(t *testing.T) {
	h := uplinkHost()
	dr := DR{VIPs: vips("192.168.79.180", "2001:db8::80")}
	rec := &realserver.Record{}
	res, err := engine(h, rec).Apply(dr.Invariants(), false)
	if err != nil || !res.OK {
		t.Fatalf("apply: ok=%v err=%v", res.OK, err)
	}
	golden(t, "testdata/dr-applied.golden", h.Render())
	writes := h.Writes()
	res, err = engine(h, rec).Apply(dr.Invariants(), false)
	if err != nil || len(res.Changes) != 0 || h.Writes() != writes {
		t.Fatalf("second apply: %d changes, %d writes, err %v", len(res.Changes), h.Writes()-writes, err)
	}
}

// Applying several VIP sets in random order and tearing them down in
// another random order ends exactly where it started.
func TestRandomApplyAndDownEndsPristine(t *testing.T) {
	seed := rand.Int63()
	r := rand.New(rand.NewSource(seed))
	sets := [][]netip.Addr{vips("192.168.79.180"), vips("192.168.79.181", "2001:db8::81"), vips("198.51.100.7")}
	for round := 0; round < 20; round++ {
		h := uplinkHost()
		h.SetSysctlRaw("lo", "arp_announce", 1) // a prior value that must come back
		pristine := h.Render()
		rec := &realserver.Record{}
		for _, i := range r.Perm(len(sets)) {
			if _, err := engine(h, rec).Apply(DR{VIPs: sets[i]}.Invariants(), false); err != nil {
				t.Fatalf("seed %d: apply %v: %v", seed, sets[i], err)
			}
		}
		for _, i := range r.Perm(len(sets)) {
			if _, err := engine(h, rec).Down(sets[i], false); err != nil {
				t.Fatalf("seed %d: down %v: %v", seed, sets[i], err)
			}
		}
		if got := h.Render(); got != pristine {
			t.Fatalf("seed %d: not pristine after teardown:\n%s\nwant:\n%s", seed, got, pristine)
		}
		if len(rec.Changes) != 0 {
			t.Fatalf("seed %d: record not empty after teardown: %v", seed, rec.Changes)
		}
	}
}

// While another VIP set still needs ARP suppression, down of one set keeps
// the sysctls.
func TestDownKeepsSysctlsWhileOtherVIPsRemain(t *testing.T) {
	h := uplinkHost()
	rec := &realserver.Record{}
	for _, set := range [][]netip.Addr{vips("192.168.79.180"), vips("192.168.79.181")} {
		if _, err := engine(h, rec).Apply(DR{VIPs: set}.Invariants(), false); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := engine(h, rec).Down(vips("192.168.79.180"), false); err != nil {
		t.Fatal(err)
	}
	fs, err := realserver.Verify(h, DR{VIPs: vips("192.168.79.181")}.Invariants())
	if err != nil || !realserver.AllOK(fs) {
		t.Fatalf("the remaining VIP lost its invariants after down of the other: %v %+v", err, fs)
	}
}

func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Fatalf("%s differs:\n--- got\n%s--- want\n%s", path, got, want)
	}
}
