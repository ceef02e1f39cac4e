package test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/rsprep/rsprep/realserver"
)

// rsprep status lists exactly what dr and nat changed here, per mode, and
// after down nothing; it changes nothing itself.
func TestStatusListsExactlyWhatRsprepOwns(t *testing.T) {
	rs, _ := realServer(t)
	rs.Must(t, "ip", "route", "add", "default", "via", "10.0.0.254")
	status := func() realserver.Owned {
		t.Helper()
		before := rs.Snapshot(t)
		r := mustRun(t, rs, 0, "status", "-o", "json")
		var o realserver.Owned
		if err := json.Unmarshal([]byte(r.Stdout), &o); err != nil {
			t.Fatalf("%v\n%s", err, r.Stdout)
		}
		if after := rs.Snapshot(t); after != before {
			t.Fatalf("status changed the namespace:\n%s", diffLines(before, after))
		}
		return o
	}
	if o := status(); len(o.Modes) != 0 {
		t.Fatalf("status before any run: %+v, want nothing", o)
	}
	mustRun(t, rs, 0, "dr", "--vip", vip+",2001:db8::80")
	mustRun(t, rs, 0, "nat", "--dip", "10.0.0.1")

	o := status()
	var modes []string
	for _, m := range o.Modes {
		modes = append(modes, m.Mode)
	}
	if !slices.Equal(modes, []string{"dr", "nat"}) {
		t.Fatalf("modes %v, want [dr nat]: %+v", modes, o)
	}
	dr, nat := o.Modes[0], o.Modes[1]
	var vips []string
	for _, v := range dr.VIPs {
		vips = append(vips, v.VIP+" "+v.Device+" "+strings.Join(v.By, "+"))
	}
	if want := []string{vip + " lo record+tag+label", "2001:db8::80 lo record+tag"}; !slices.Equal(vips, want) {
		t.Errorf("dr VIPs %q, want %q", vips, want)
	}
	var sysctls []string
	for _, s := range dr.Sysctls {
		sysctls = append(sysctls, s.Key)
		if s.Replaced != 0 || s.Now == nil || *s.Now != s.Wrote {
			t.Errorf("sysctl %+v: want replaced 0 and now what rsprep wrote", s)
		}
	}
	slices.Sort(sysctls)
	wantSysctls := []string{
		"net.ipv4.conf.all.arp_announce", "net.ipv4.conf.all.arp_ignore",
		"net.ipv4.conf.default.arp_announce", "net.ipv4.conf.default.arp_ignore",
		"net.ipv4.conf.lo.arp_announce", "net.ipv4.conf.lo.arp_ignore",
	}
	if !slices.Equal(sysctls, wantSysctls) {
		t.Errorf("dr sysctls %v, want %v", sysctls, wantSysctls)
	}
	if len(nat.VIPs) != 0 || len(nat.Sysctls) != 0 || len(nat.Routes) != 1 ||
		!strings.HasPrefix(nat.Routes[0].Route, "default via 10.0.0.1") || !strings.HasPrefix(nat.Routes[0].Replaced, "default via 10.0.0.254") {
		t.Errorf("nat owns %+v, want only the default route via 10.0.0.1 that replaced the one via 10.0.0.254", nat)
	}
	text := mustRun(t, rs, 0, "status").Stdout
	for _, want := range []string{"dr:\n", "  vip 192.168.79.180 on lo (record, tag, label)\n", "  sysctl net.ipv4.conf.all.arp_ignore=1 (replaced 0; now 1)\n", "nat:\n", "  route default via 10.0.0.1"} {
		if !strings.Contains(text, want) {
			t.Errorf("status text lacks %q:\n%s", want, text)
		}
	}

	mustRun(t, rs, 0, "down", "nat", "--dip", "10.0.0.1")
	mustRun(t, rs, 0, "down", "dr", "--vip", vip+",2001:db8::80")
	if o := status(); len(o.Modes) != 0 {
		t.Errorf("status after down: %+v, want nothing", o)
	}
	if text := mustRun(t, rs, 0, "status").Stdout; text != "rsprep owns nothing in this network namespace\n" {
		t.Errorf("status text after down: %q", text)
	}
}
