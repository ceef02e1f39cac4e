package input_test

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/rsprep/rsprep/realserver/input"
)

// inputError checks that a parser's rejection is bad input (exit 2) on one
// line: an operator reads it in a terminal or a journal.
func inputError(t *testing.T, in string, err error) {
	t.Helper()
	var ie *input.Error
	if !errors.As(err, &ie) {
		t.Fatalf("%q: rejected with %T %v, want an input.Error (exit 2)", in, err, err)
	}
	if strings.ContainsAny(err.Error(), "\n\r") || err.Error() == "" {
		t.Fatalf("%q: message %q is not one line", in, err)
	}
}

// An accepted VIP is one unicast host address that round-trips through
// its text form, with or without its host prefix length.
func FuzzParseVIP(f *testing.F) {
	for _, s := range []string{"192.168.79.180", "192.168.79.180/32", "2001:db8::80", "2001:db8::80/128",
		"10.0.0.0/24", "127.0.0.1", "0.0.0.0", "224.0.0.5", "ff02::1", "fe80::1%eth0", "::ffff:10.1.2.3",
		"255.255.255.255", "240.0.0.1", "169.254.1.1", "10.0.0.1/32/32", " 10.0.0.1", "1.2.3.4/0", "::/128"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ip, err := input.ParseVIP(s)
		if err != nil {
			inputError(t, s, err)
			return
		}
		if !ip.IsValid() || ip.Zone() != "" || ip.Is4In6() {
			t.Fatalf("%q: accepted %v", s, ip)
		}
		if err := input.CheckUnicast("VIP", ip); err != nil {
			t.Fatalf("%q: accepted %v, which is not unicast: %v", s, ip, err)
		}
		for _, again := range []string{ip.String(), netip.PrefixFrom(ip, ip.BitLen()).String()} {
			if back, err := input.ParseVIP(again); err != nil || back != ip {
				t.Fatalf("%q: accepted %v, but %q parses as %v, %v", s, ip, again, back, err)
			}
		}
		if _, err := input.ParseVIP(netip.PrefixFrom(ip, ip.BitLen()-1).String()); err == nil {
			t.Fatalf("%q: the shorter prefix of %v is accepted as a VIP", s, ip)
		}
	})
}

// ParseVIPs accepts exactly the comma-separated VIPs ParseVIP accepts,
// once each, in order.
func FuzzParseVIPs(f *testing.F) {
	for _, s := range [][2]string{{"192.168.79.180", ""}, {"192.168.79.180,2001:db8::80", "10.0.0.9"},
		{"10.0.0.1,10.0.0.1", ""}, {"10.0.0.1", "10.0.0.1/32"}, {",,", ""}, {"2001:db8::1", "2001:DB8::1"},
		{" 10.0.0.1 , 10.0.0.2", ","}, {"10.0.0.1,300.0.0.1", ""}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		got, err := input.ParseVIPs([]string{a, b})
		var want []netip.Addr
		var wantErr error
		seen := map[netip.Addr]bool{}
		for _, part := range strings.Split(a+","+b, ",") {
			if strings.TrimSpace(part) == "" {
				continue
			}
			ip, err := input.ParseVIP(strings.TrimSpace(part))
			if err == nil && seen[ip] {
				err = input.Errorf("twice")
			}
			if err != nil {
				wantErr = err
				break
			}
			seen[ip] = true
			want = append(want, ip)
		}
		if wantErr != nil {
			if err == nil {
				t.Fatalf("%q, %q: accepted %v, want the error %v", a, b, got, wantErr)
			}
			inputError(t, a+" "+b, err)
			return
		}
		if err != nil || len(got) != len(want) {
			t.Fatalf("%q, %q: got %v, %v; want %v", a, b, got, err, want)
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("%q, %q: got %v, want %v", a, b, got, want)
			}
		}
	})
}

// An accepted CIDR is valid, has no host bits set, and round-trips.
func FuzzParseCIDR(f *testing.F) {
	for _, s := range []string{"10.20.0.0/16", "10.20.0.1/16", "0.0.0.0/0", "2001:db8::/32", "10.0.0.0/33",
		"10.0.0.0", "10.0.0.0/-1", " 192.168.0.0/24 ", "fe80::%eth0/64", "::ffff:10.0.0.0/104"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := input.ParseCIDR("--keep-route", s)
		if err != nil {
			inputError(t, s, err)
			return
		}
		if !p.IsValid() || p != p.Masked() {
			t.Fatalf("%q: accepted %v", s, p)
		}
		if back, err := input.ParseCIDR("--keep-route", p.String()); err != nil || back != p {
			t.Fatalf("%q: accepted %v, but its text parses as %v, %v", s, p, back, err)
		}
	})
}

// An accepted MAC is a 6-byte unicast, non-zero Ethernet address that
// round-trips.
func FuzzParseMAC(f *testing.F) {
	for _, s := range []string{"52:54:00:12:34:56", "52-54-00-12-34-56", "5254.0012.3456", "ff:ff:ff:ff:ff:ff",
		"01:00:5e:00:00:01", "00:00:00:00:00:00", "52:54:00:12:34", "00:00:00:00:fe:80:00:00:00:00:00:00:02:00:5e:10:00:00:00:01"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		mac, err := input.ParseMAC(s)
		if err != nil {
			inputError(t, s, err)
			return
		}
		if len(mac) != 6 || mac[0]&1 != 0 || mac.String() == "00:00:00:00:00:00" {
			t.Fatalf("%q: accepted %v", s, mac)
		}
		if back, err := input.ParseMAC(mac.String()); err != nil || back.String() != mac.String() {
			t.Fatalf("%q: accepted %v, but its text parses as %v, %v", s, mac, back, err)
		}
	})
}
