package test

import (
	"strings"
	"testing"

	"github.com/rsprep/rsprep/test/nstest"
)

// pinnedHost is a real server whose default gateway is its peer: the
// peer's eth0 (10.0.0.1) answers ARP like any router.
func pinnedHost(t *testing.T) (rs, gw *nstest.NS) {
	rs, gw = realServer(t)
	rs.Must(t, "ip", "route", "add", "default", "via", "10.0.0.1")
	return rs, gw
}

// gwEntry is the real server's neighbour entry for the gateway:
// "lladdr MAC STATE", or "" when there is none.
func gwEntry(t *testing.T, rs *nstest.NS) string {
	t.Helper()
	f := strings.Fields(rs.Must(t, "ip", "neigh", "show", "10.0.0.1", "dev", "eth0.100"))
	if len(f) == 0 {
		return ""
	}
	return strings.Join(f[1:], " ")
}

func TestPinGatewayARPFollowsASwappedRouter(t *testing.T) {
	rs, gw := pinnedHost(t)
	// Somebody else's static entry, which down must leave alone.
	rs.Must(t, "ip", "neigh", "add", "10.0.0.77", "lladdr", "02:00:00:00:00:77", "dev", "eth0.100", "nud", "permanent")
	before := rs.Snapshot(t)
	args := []string{"dr", "--vip", vip, "--pin-gateway-arp"}
	mustRun(t, rs, 0, args...)
	mac := gw.MAC(t, "eth0")
	if got, want := gwEntry(t, rs), "lladdr "+mac+" PERMANENT"; got != want {
		t.Fatalf("gateway entry %q, want %q", got, want)
	}
	mustRun(t, rs, 0, append([]string{"verify"}, args...)...)

	// The router is swapped: same IP, new MAC. The pinned entry hides it
	// from the kernel, so only verify's ARP probe can tell.
	const swapped = "02:00:00:00:00:42"
	gw.Must(t, "ip", "link", "set", "dev", "eth0", "address", swapped)
	r := mustRun(t, rs, 1, append([]string{"verify"}, args...)...)
	if want := "FAIL gw.pinned 10.0.0.1 want PERMANENT lladdr " + swapped + " on eth0.100 got PERMANENT lladdr " + mac + "; the gateway answers with " + swapped; !strings.Contains(r.Stdout, want) {
		t.Errorf("verify does not report the swap; want %q in\n%s", want, r.Stdout)
	}
	// With --gateway-mac naming the old router it will not re-pin.
	r = mustRun(t, rs, 1, append(args, "--gateway-mac", mac)...)
	if !strings.Contains(r.Stderr, "gw.pinned") {
		t.Errorf("apply with a stale --gateway-mac: %q", r.Stderr)
	}
	// Without it apply follows the gateway.
	mustRun(t, rs, 0, args...)
	if got, want := gwEntry(t, rs), "lladdr "+swapped+" PERMANENT"; got != want {
		t.Fatalf("after re-apply the gateway entry is %q, want %q", got, want)
	}
	mustRun(t, rs, 0, append([]string{"verify"}, args...)...)

	mustRun(t, rs, 0, "down", "dr", "--vip", vip)
	if after := rs.Snapshot(t); after != before {
		t.Errorf("down did not restore (only the pinned entry should go):\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

// `ip neigh add` fails over an old FAILED entry; rsprep replaces it. A
// gateway that does not answer can only be pinned with --gateway-mac.
func TestPinOverAFailedEntryOfASilentGateway(t *testing.T) {
	rs, gw := pinnedHost(t)
	mac := gw.MAC(t, "eth0")
	gw.Must(t, "sysctl", "-qw", "net.ipv4.conf.all.arp_ignore=8") // answer no ARP at all
	rs.Must(t, "ip", "neigh", "add", "10.0.0.1", "dev", "eth0.100", "nud", "failed")
	if _, err := rs.Exec("ip", "neigh", "add", "10.0.0.1", "lladdr", mac, "dev", "eth0.100", "nud", "permanent"); err == nil {
		t.Fatal("ip neigh add over a FAILED entry worked: this test would prove nothing")
	}
	before := rs.Snapshot(t)

	r := mustRun(t, rs, 3, "dr", "--vip", vip, "--pin-gateway-arp")
	if strings.Count(r.Stderr, "\n") != 1 || !strings.Contains(r.Stderr, "cannot learn the MAC of gateway 10.0.0.1 on eth0.100") || !strings.Contains(r.Stderr, "--gateway-mac") {
		t.Errorf("no MAC to pin: stderr %q, want one line naming the gateway and --gateway-mac", r.Stderr)
	}
	if after := rs.Snapshot(t); after != before {
		t.Errorf("a run that could not pin changed the namespace:\n%s", after)
	}

	args := []string{"dr", "--vip", vip, "--pin-gateway-arp", "--gateway-mac", mac}
	mustRun(t, rs, 0, args...)
	if got, want := gwEntry(t, rs), "lladdr "+mac+" PERMANENT"; got != want {
		t.Fatalf("gateway entry %q, want %q", got, want)
	}
	r = mustRun(t, rs, 0, append([]string{"verify"}, args...)...)
	if !strings.Contains(r.Stdout, "not confirmed by the gateway") {
		t.Errorf("verify against a silent gateway should say the pin is unconfirmed:\n%s", r.Stdout)
	}
	mustRun(t, rs, 0, "down", "dr", "--vip", vip)
	if got := gwEntry(t, rs); got != "" {
		t.Errorf("after down the gateway entry is %q, want none (it was only FAILED)", got)
	}
}

// NAT pins the DIP, TUN (like DR) the default gateway, or --gateway.
func TestPinTheDIPInNATMode(t *testing.T) {
	rs, gw := realServer(t)
	rs.Must(t, "ip", "route", "add", "default", "via", "10.0.0.254")
	mustRun(t, rs, 0, "nat", "--dip", "10.0.0.1", "--pin-gateway-arp")
	if got, want := gwEntry(t, rs), "lladdr "+gw.MAC(t, "eth0")+" PERMANENT"; got != want {
		t.Fatalf("DIP entry %q, want %q", got, want)
	}
	mustRun(t, rs, 0, "down", "nat", "--dip", "10.0.0.1")
	if got := gwEntry(t, rs); strings.HasSuffix(got, "PERMANENT") {
		t.Errorf("after down the DIP entry is still %q", got)
	}
}

func TestPinBadInputChangesNothing(t *testing.T) {
	rs, _ := pinnedHost(t)
	noDefault, _ := realServer(t)
	for _, c := range []struct {
		ns         *nstest.NS
		want, args string
	}{
		{rs, `--gateway-mac: MAC "zz:zz" is not an Ethernet address`, "dr --vip " + vip + " --pin-gateway-arp --gateway-mac zz:zz"},
		{rs, "--gateway-mac: MAC ff:ff:ff:ff:ff:ff is a multicast/broadcast address", "nat --dip 10.0.0.1 --pin-gateway-arp --gateway-mac ff:ff:ff:ff:ff:ff"},
		{rs, "are for --pin-gateway-arp, which is not given", "dr --vip " + vip + " --gateway-mac 02:00:00:00:00:01"},
		{rs, "gateway 10.9.9.1 is not on-link", "dr --vip " + vip + " --pin-gateway-arp --gateway 10.9.9.1"},
		{rs, "gateway 10.0.0.2 is this host's own address", "dr --vip " + vip + " --pin-gateway-arp --gateway 10.0.0.2"},
		{rs, `--gateway "gw" is not an IP address`, "dr --vip " + vip + " --pin-gateway-arp --gateway gw"},
		{rs, "--gateway 2001:db8::1: ARP pinning is IPv4 only", "dr --vip " + vip + " --pin-gateway-arp --gateway 2001:db8::1"},
		{noDefault, "there is no default route to take the gateway from; give --gateway", "dr --vip " + vip + " --pin-gateway-arp"},
		{noDefault, "there is no default route", "verify tun --vip " + vip + " --pin-gateway-arp"},
	} {
		t.Run(c.args, func(t *testing.T) { mustReject(t, c.ns, c.want, strings.Fields(c.args)...) })
	}
}
