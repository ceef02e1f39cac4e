package arp

import (
	"strings"
	"testing"

	"github.com/rsprep/rsprep/realserver"
	"github.com/rsprep/rsprep/realserver/fake"
)

var (
	eth0Forwarding   = realserver.SysctlKey{Iface: "eth0.100", Name: "forwarding"}
	eth0Forwarding6  = realserver.SysctlKey{Family: "ipv6", Iface: "eth0.100", Name: "forwarding"}
	dfltForwarding   = realserver.SysctlKey{Iface: "default", Name: "forwarding"}
	forwardingRouter = func() *fake.Host {
		h := uplinkHost()
		// As on a host where Docker turned forwarding on: the kernel sets
		// default and every interface along with it.
		must(h.SetSysctl(realserver.IPForward, 1))
		must(h.SetSysctl(realserver.IPv6Forwarding, 1))
		return h
	}
)

func must(err error) {
	if err != nil {
		panic(err)
	}
}

func value(t *testing.T, h realserver.Host, k realserver.SysctlKey) int {
	t.Helper()
	v, err := h.Sysctl(k)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func failing(fs []realserver.Finding) []string {
	var out []string
	for _, f := range fs {
		if !f.OK {
			out = append(out, f.ID+" "+f.Subject)
		}
	}
	return out
}

// --forwarding off turns forwarding off everywhere the kernel decides it,
// a second apply changes nothing, and down puts back every value.
func TestForwardingOffAppliesAndDownRestores(t *testing.T) {
	h := forwardingRouter()
	pristine := h.Render()
	dr := DR{VIPs: vips("192.168.79.180", "2001:db8::80"), ForwardingOff: true}
	fs, err := realserver.Verify(h, dr.Invariants())
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(failing(fs), ", ")
	for _, want := range []string{"ip.forward net.ipv4.ip_forward", "ip.forward net.ipv4.conf.default.forwarding", "ip.forward net.ipv4.conf.eth0/100.forwarding", "ip.forward net.ipv6.conf.all.forwarding"} {
		if !strings.Contains(got, want) {
			t.Errorf("verify before apply does not fail %q: %s", want, got)
		}
	}
	rec := &realserver.Record{}
	if _, err := engine(h, rec).Apply(dr.Invariants(), false); err != nil {
		t.Fatal(err)
	}
	for _, k := range []realserver.SysctlKey{realserver.IPForward, dfltForwarding, eth0Forwarding, realserver.IPv6Forwarding, eth0Forwarding6} {
		if v := value(t, h, k); v != 0 {
			t.Errorf("after apply %s = %d, want 0", k.Dotted(), v)
		}
	}
	writes := h.Writes()
	if res, err := engine(h, rec).Apply(dr.Invariants(), false); err != nil || len(res.Changes) != 0 || h.Writes() != writes {
		t.Fatalf("second apply: %v, %d writes, err %v", res.Changes, h.Writes()-writes, err)
	}
	if _, err := engine(h, rec).Down(dr.VIPs, false); err != nil {
		t.Fatal(err)
	}
	if got := h.Render(); got != pristine {
		t.Fatalf("down did not restore forwarding:\n%s\nwant:\n%s", got, pristine)
	}
}

// Without the flag, a host that forwards (a Docker or Kubernetes node) is
// left as it is, and nothing about forwarding is checked.
func TestForwardingLeftAloneWithoutTheFlag(t *testing.T) {
	h := forwardingRouter()
	res, err := engine(h, &realserver.Record{}).Apply(DR{VIPs: vips("192.168.79.180", "2001:db8::80")}.Invariants(), false)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range res.Checks {
		if f.ID == "ip.forward" {
			t.Errorf("ip.forward checked without --forwarding off: %+v", f)
		}
	}
	if value(t, h, realserver.IPForward) != 1 || value(t, h, realserver.IPv6Forwarding) != 1 || value(t, h, eth0Forwarding) != 1 {
		t.Fatalf("forwarding changed without --forwarding off:\n%s", h.Render())
	}
}

// IPv6 forwarding is left alone when every VIP is IPv4.
func TestIPv6ForwardingOnlyForIPv6VIPs(t *testing.T) {
	h := forwardingRouter()
	if _, err := engine(h, &realserver.Record{}).Apply(DR{VIPs: vips("192.168.79.180"), ForwardingOff: true}.Invariants(), false); err != nil {
		t.Fatal(err)
	}
	if value(t, h, realserver.IPForward) != 0 || value(t, h, realserver.IPv6Forwarding) != 1 {
		t.Fatalf("want ip_forward 0 and IPv6 forwarding untouched:\n%s", h.Render())
	}
}

// Somebody turned IPv6 forwarding back on after apply, then turned it off
// on one interface. down must not write conf/all again: the kernel would
// reset that interface with it.
func TestDownLeavesForwardingChangedSince(t *testing.T) {
	h := forwardingRouter()
	dr := DR{VIPs: vips("2001:db8::80"), ForwardingOff: true}
	rec := &realserver.Record{}
	if _, err := engine(h, rec).Apply(dr.Invariants(), false); err != nil {
		t.Fatal(err)
	}
	must(h.SetSysctl(realserver.IPv6Forwarding, 1))
	must(h.SetSysctl(eth0Forwarding6, 0))
	res, err := engine(h, rec).Down(dr.VIPs, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range res.Changes {
		if c.Kind == realserver.KindSysctl && c.Sysctl == realserver.IPv6Forwarding {
			t.Errorf("down wrote %s although it was changed since", c)
		}
	}
	if value(t, h, realserver.IPv6Forwarding) != 1 || value(t, h, eth0Forwarding6) != 0 {
		t.Fatalf("down undid somebody else's forwarding settings:\n%s", h.Render())
	}
}
