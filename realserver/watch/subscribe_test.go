package watch

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netns"

	"github.com/rsprep/rsprep/test/nstest"
)

// The subscription hears what the invariants declare beyond addresses,
// links, routes and neighbours, from the kernel itself: policy rules
// (mss.clamp's, IPv4 and IPv6, the table above 255 read from FRA_TABLE)
// and netconf, the sysctls the kernel announces (rp_filter, forwarding;
// of all, default and one interface).
func TestSubscriptionHearsRulesAndNetconf(t *testing.T) {
	ns := nstest.New(t, "sub")
	h, err := netns.GetFromName(ns.Name)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	sub, err := subscribe(h)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	ns.Sh(t, `ip link add d0 type veth peer name d1
ip rule add from 192.168.79.180 table 7301 pref 7301
ip rule del from 192.168.79.180 table 7301 pref 7301
ip -6 rule add from 2001:db8::80 table 7301 pref 7301
for v in 2 0; do sysctl -qw net.ipv4.conf.all.rp_filter=$v net.ipv4.conf.d0.rp_filter=$v; done
for v in 1 0; do sysctl -qw net.ipv4.ip_forward=$v net.ipv6.conf.all.forwarding=$v; done`)
	want := map[string]bool{
		"rule from 192.168.79.180/32 to table 7301 added":   false,
		"rule from 192.168.79.180/32 to table 7301 removed": false,
		"rule from 2001:db8::80/128 to table 7301 added":    false,
		"sysctl net.ipv4.conf.all.rp_filter changed":        false,
		"sysctl net.ipv4.conf.d0.rp_filter changed":         false,
		"sysctl net.ipv4.conf.all.forwarding changed":       false,
		"sysctl net.ipv6.conf.all.forwarding changed":       false,
	}
	names := map[int]string{}
	var seen []string
	deadline := time.After(20 * time.Second)
	for missing := len(want); missing > 0; {
		select {
		case e := <-sub.Events():
			if e.Kind == KindLink && !e.Gone {
				names[e.LinkIndex] = e.Link
			}
			if e.Link == "" {
				e.Link = names[e.LinkIndex]
			}
			s := e.String()
			seen = append(seen, s)
			if done, ok := want[s]; ok && !done {
				want[s] = true
				missing--
			}
		case <-deadline:
			t.Fatalf("not heard within 20s: %v; heard:\n%s", want, strings.Join(seen, "\n"))
		}
	}
}

// A rule message as the kernel sends it: the family's zero prefix when
// the rule has no source.
func TestRuleEventWithoutASource(t *testing.T) {
	hdr := make([]byte, 12)
	hdr[0], hdr[4] = 10, 200 // AF_INET6, table 200 in the header
	e, ok := ruleEvent(true, hdr)
	if !ok || e.Prefix != netip.MustParsePrefix("::/0") || e.Table != 200 || !e.Gone {
		t.Errorf("ruleEvent = %+v, %v", e, ok)
	}
	if _, ok := ruleEvent(false, hdr[:8]); ok {
		t.Error("a short message was read")
	}
}
