package hostwide

import (
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/rsprep/rsprep/realserver"
	"github.com/rsprep/rsprep/realserver/fake"
)

// uplinkHost is a fake host with one up, ARP-capable interface, eth0.100:
// host-wide settings reach it, and it forwards by its own key.
func uplinkHost() *fake.Host {
	h := fake.New()
	h.AddLink(realserver.Link{Name: "eth0.100", Type: "veth", Up: true})
	return h
}

func TestEffectiveValueFollowsMaxRule(t *testing.T) {
	cases := []struct {
		name       string
		all, iface int
		ok         bool
		fix        string
	}{
		{"both unset", 0, 0, false, "sysctl -w net.ipv4.conf.all.arp_ignore=1"},
		{"only the interface set: ok by max", 0, 1, true, ""},
		{"only all set", 1, 0, true, ""},
		{"interface above the intended value", 1, 2, false, "sysctl -w net.ipv4.conf.eth0/100.arp_ignore=1"},
		{"all above the intended value", 8, 0, false, "sysctl -w net.ipv4.conf.all.arp_ignore=1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := uplinkHost()
			h.SetSysctlRaw("all", "arp_ignore", c.all)
			h.SetSysctlRaw("eth0.100", "arp_ignore", c.iface)
			fs, err := realserver.Verify(h, Suppression(nil)[:1])
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range fs {
				if f.Subject != "eth0.100" {
					continue
				}
				var fixes []string
				for _, ch := range f.Fix {
					fixes = append(fixes, ch.String())
				}
				if f.OK != c.ok || strings.Join(fixes, "; ") != c.fix {
					t.Fatalf("all=%d iface=%d: ok=%v fix=%q, want ok=%v fix=%q (%s)", c.all, c.iface, f.OK, fixes, c.ok, c.fix, f.Detail)
				}
				return
			}
			t.Fatal("no finding for eth0.100")
		})
	}
}

var eth0Forwarding = realserver.SysctlKey{Iface: "eth0.100", Name: "forwarding"}

// IPv4 forwarding is decided per input interface: ip_forward 0 with one
// interface's own forwarding 1 still routes what arrives there.
func TestForwardingOffChecksEachInterface(t *testing.T) {
	h := uplinkHost()
	if err := h.SetSysctl(eth0Forwarding, 1); err != nil {
		t.Fatal(err)
	}
	invs := []realserver.Invariant{ForwardingOff(false)}
	fs, err := realserver.Verify(h, invs)
	if err != nil {
		t.Fatal(err)
	}
	var fwd []string
	for _, f := range fs {
		if !f.OK && f.ID == "ip.forward" {
			fwd = append(fwd, f.ID+" "+f.Subject)
		}
	}
	if got := strings.Join(fwd, ", "); got != "ip.forward net.ipv4.conf.eth0/100.forwarding" {
		t.Fatalf("failing %q, want only eth0.100's forwarding (ip_forward is already 0)", got)
	}
	if _, err := engine(h, &realserver.Record{}).Apply(invs, false); err != nil {
		t.Fatal(err)
	}
	if v, err := h.Sysctl(eth0Forwarding); err != nil || v != 0 {
		t.Fatalf("eth0.100 forwarding %d (%v) after apply, want 0", v, err)
	}
}

func engine(h realserver.Host, rec *realserver.Record) *realserver.Engine {
	return &realserver.Engine{Host: h, Record: rec, Mode: "dr", Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
}
