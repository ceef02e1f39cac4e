package tunnel

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/rsprep/rsprep/realserver"
)

// What a TUN mode with --mss owns is all declared by the same spec: the
// clamp's copies of main's routes that exist only while the tunnel device
// is up (an IPv6 VIP's own /128, sit0's ::/96) included. Finding what is
// declared undoes rsprep's changes on a Sim, the device's "up" among them,
// so the check must follow the fixes round by round as apply does.
func TestTUNWithMSSOwnsNothingUndeclared(t *testing.T) {
	for _, spec := range []TUN{
		{VIPs: []netip.Addr{vip6}, MSS: 1400},
		{VIPs: []netip.Addr{vip6}, MSS: 1400, Underlay: 4},
		{VIPs: []netip.Addr{vip}, MSS: 1400},
	} {
		h := uplinked(t)
		h.AllowModule("sit")
		eng := applyTwice(t, h, spec)
		_, fs := undeclaredBy(t, h, eng, spec)
		for _, f := range fs {
			t.Errorf("%s underlay %d: %s %s: %s, though the spec declares it", spec.encap(), spec.Underlay, f.ID, f.Subject, f.Got)
		}
	}
}

// sit0's ::/96 is a route the kernel makes for the device itself, not for
// an address: a Sim of the host keeps it while sit0 is up (and --mss's copy
// of it is declared), and drops it while sit0 is down, as the kernel does.
func TestTUNDeclaresTheCopyOfADeviceRoute(t *testing.T) {
	h := uplinked(t)
	h.AllowModule("sit")
	spec := TUN{VIPs: []netip.Addr{vip6}, MSS: 1400, Underlay: 4}
	eng := applyTwice(t, h, spec)
	dev := realserver.Route{Dst: netip.MustParsePrefix("::/96"), Link: "sit0", Protocol: unix.RTPROT_KERNEL, Metric: 256}
	if err := h.AddRoute(dev); err != nil {
		t.Fatal(err)
	}
	if _, err := eng.Apply(spec.Invariants(), false); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(h.Render(), "::/96 dev sit0 metric 256 table 7301 advmss 1400") {
		t.Fatalf("--mss did not copy sit0's ::/96:\n%s", h.Render())
	}
	v, fs := undeclaredBy(t, h, eng, spec)
	for _, f := range fs {
		t.Errorf("%s %s: %s, though the spec declares it", f.ID, f.Subject, f.Got)
	}

	sim := realserver.NewSim(v)
	if err := sim.SetLinkUp("sit0", false); err != nil {
		t.Fatal(err)
	}
	if rs, _ := sim.TableRoutes(6, 0); slices.ContainsFunc(rs, func(r realserver.Route) bool { return r.Dst == dev.Dst }) {
		t.Errorf("sit0 down on the Sim, and its ::/96 is still in main: %v", rs)
	}
	if err := sim.SetLinkUp("sit0", true); err != nil {
		t.Fatal(err)
	}
	if rs, _ := sim.TableRoutes(6, 0); !slices.ContainsFunc(rs, func(r realserver.Route) bool { return r.Dst == dev.Dst }) {
		t.Errorf("sit0 up again on the Sim, and no ::/96 in main: %v", rs)
	}
}

// undeclaredBy observes h with eng's record and returns the view and what
// rsprep owns there that spec does not declare.
func undeclaredBy(t *testing.T, h realserver.Host, eng *realserver.Engine, spec TUN) (*realserver.View, []realserver.Finding) {
	t.Helper()
	v, err := realserver.Observe(h, realserver.RecordOnUse(func() *realserver.Record { return eng.Record }))
	if err != nil {
		t.Fatal(err)
	}
	fs, err := realserver.UndeclaredFindings(v, realserver.Declared{Mode: "tun", VIPs: spec.VIPs, Invs: spec.Invariants()})
	if err != nil {
		t.Fatal(err)
	}
	return v, fs
}
