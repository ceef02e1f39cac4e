package arp

import (
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"

	"github.com/rsprep/rsprep/realserver"
	"github.com/rsprep/rsprep/realserver/fake"
	"github.com/rsprep/rsprep/realserver/input"
)

var (
	dip       = netip.MustParseAddr("10.0.0.1")
	directorM = net.HardwareAddr{0x52, 0x54, 0, 0, 0, 1}
)

// probeCounter counts ARP probes.
type probeCounter struct {
	*fake.Host
	probes int
}

func (p *probeCounter) Resolve(link string, ip netip.Addr) (net.HardwareAddr, error) {
	p.probes++
	return p.Host.Resolve(link, ip)
}

func find(fs []realserver.Finding, id string) realserver.Finding {
	for _, f := range fs {
		if f.ID == id {
			return f
		}
	}
	return realserver.Finding{ID: id, Got: "no finding"}
}

// A director on the segment that answers ARP, or that has a live
// neighbour entry, is on-link and reachable.
func TestDIPOnTheSegmentIsOnLinkAndReachable(t *testing.T) {
	for _, c := range []struct {
		name string
		seed func(h *fake.Host)
		got  string
	}{
		{"answers a probe", func(h *fake.Host) { h.SetWire(dip, directorM) }, "answers an ARP probe"},
		{"live entry", func(h *fake.Host) {
			h.AddNeighborRaw(realserver.Neighbor{Link: "eth0.100", IP: dip, MAC: directorM, State: realserver.NeighStale})
		}, "neighbour entry STALE lladdr 52:54:00:00:00:01"},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := uplinkHost()
			c.seed(h)
			dr := DR{VIPs: vips("192.168.79.180"), DIP: dip}
			if err := dr.Preflight(realserver.NewView(h)); err != nil {
				t.Fatal(err)
			}
			fs, err := realserver.Verify(h, dr.Invariants())
			if err != nil {
				t.Fatal(err)
			}
			on, reach := find(fs, "dip.onlink"), find(fs, "dip.reachable")
			if !on.OK || on.Got != "on-link on eth0.100" || !reach.OK || reach.Got != c.got {
				t.Fatalf("dip.onlink %v %q, dip.reachable %v %q; want both ok, reachable %q", on.OK, on.Got, reach.OK, reach.Got, c.got)
			}
		})
	}
}

// A silent DIP fails dip.reachable, a check apply cannot fix: apply does
// everything else, changes nothing for it, reports it failing, and asks
// the wire once per run however many rounds it checks.
func TestSilentDIPFailsReachableAndApplyReportsIt(t *testing.T) {
	h := &probeCounter{Host: uplinkHost()}
	h.AddNeighborRaw(realserver.Neighbor{Link: "eth0.100", IP: dip, State: realserver.NeighFailed})
	dr := DR{VIPs: vips("192.168.79.180"), DIP: dip}
	res, err := engine(h, &realserver.Record{}).Apply(dr.Invariants(), false)
	var nc *realserver.NotConvergedError
	if !errors.As(err, &nc) || len(nc.Failing) != 1 || nc.Failing[0].ID != "dip.reachable" {
		t.Fatalf("apply: %v; want not converged on dip.reachable alone", err)
	}
	if f := nc.Failing[0]; !strings.Contains(f.Got, "neighbour entry FAILED") || !strings.Contains(f.Detail, "audit only") {
		t.Errorf("dip.reachable got %q detail %q", f.Got, f.Detail)
	}
	if h.probes != 1 {
		t.Errorf("%d ARP probes in one apply, want 1", h.probes)
	}
	for _, c := range res.Changes {
		if c.Kind == realserver.KindNeighSet {
			t.Errorf("apply changed a neighbour for dip.reachable: %s", c)
		}
	}
	if find(res.Checks, "vip.bound").OK != true {
		t.Errorf("apply left the VIP unbound because the director is silent")
	}
}

// DR rewrites only the MAC: a DIP behind a router, or reachable only
// through a device without ARP, is bad input before anything changes.
func TestDRRejectsADIPOffItsSegment(t *testing.T) {
	h := uplinkHost()
	h.AddRouteRaw(realserver.Route{Dst: netip.MustParsePrefix("0.0.0.0/0"), Gw: dip, Link: "eth0.100"})
	h.AddLink(realserver.Link{Name: "tun9", Type: "ipip", Up: true, NoARP: true})
	h.AddAddrRaw(realserver.Addr{Link: "tun9", Prefix: netip.MustParsePrefix("172.16.0.2/24")})
	for _, c := range []struct{ dip, want string }{
		{"10.1.0.5", "is not on-link"},
		{"172.16.0.1", "on-link only through tun9, which does not speak ARP"},
	} {
		err := DR{VIPs: vips("192.168.79.180"), DIP: netip.MustParseAddr(c.dip)}.Preflight(realserver.NewView(h))
		var in *input.Error
		if !errors.As(err, &in) || !strings.Contains(in.Msg, c.want) || !strings.Contains(in.Msg, "DR needs the director and the real server on one L2 segment") {
			t.Errorf("--dip %s: %v; want bad input %q naming DR's L2 requirement", c.dip, err, c.want)
		}
	}
}

func TestDRValidatesTheDIP(t *testing.T) {
	for _, c := range []struct{ dip, want string }{
		{"192.168.79.180", "is also a --vip"},
		{"2001:db8::1", "IPv4 only"},
		{"224.0.0.1", "is a multicast address"},
	} {
		err := DR{VIPs: vips("192.168.79.180"), DIP: netip.MustParseAddr(c.dip)}.Validate()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("--dip %s: %v, want %q", c.dip, err, c.want)
		}
	}
}
