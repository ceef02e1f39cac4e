// Package input is what rsprep accepts from an operator, and how it says
// no: the bad-input error (exit 2, nothing on the host touched) and the
// parsers of VIPs, MACs and prefixes. It imports nothing of the engine, so
// the boot unit's code (systemd) can check its input without it.
package input

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
)

// Error is bad input: exit 2, and nothing on the host was touched.
type Error struct{ Msg string }

func (e *Error) Error() string { return e.Msg }

// Errorf builds an Error.
func Errorf(format string, a ...any) error { return &Error{Msg: fmt.Sprintf(format, a...)} }

// ParseVIPs parses VIPs given as repeated and/or comma-separated values.
// A VIP is one unicast address, optionally written with /32 or /128.
func ParseVIPs(values []string) ([]netip.Addr, error) {
	n := 0 // sized once: at 10,000 VIPs a growing map was 7% of verify
	for _, v := range values {
		n += strings.Count(v, ",") + 1
	}
	out := make([]netip.Addr, 0, n)
	seen := make(map[netip.Addr]struct{}, n)
	for _, v := range values {
		for s := range strings.SplitSeq(v, ",") {
			s = strings.TrimSpace(s)
			if s == "" {
				continue
			}
			ip, err := ParseVIP(s)
			if err != nil {
				return nil, err
			}
			if _, dup := seen[ip]; dup {
				return nil, Errorf("VIP %s is given twice", ip)
			}
			seen[ip] = struct{}{}
			out = append(out, ip)
		}
	}
	if len(out) == 0 {
		return nil, nil // as before it was sized
	}
	return out, nil
}

// ParseVIP parses and checks one VIP.
func ParseVIP(s string) (netip.Addr, error) {
	addr := s
	if i := strings.IndexByte(s, '/'); i >= 0 {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Addr{}, Errorf("VIP %q is not an IP address", s)
		}
		if p.Bits() != p.Addr().BitLen() {
			return netip.Addr{}, Errorf("VIP %s is a prefix: a VIP is one address (/32 or /128); a shorter prefix on lo makes the whole subnet local", s)
		}
		addr = s[:i]
	}
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		return netip.Addr{}, Errorf("VIP %q is not an IP address", s)
	}
	if err := CheckUnicast("VIP", ip); err != nil {
		return netip.Addr{}, err
	}
	return ip, nil
}

// CheckUnicast rejects addresses that cannot be a service or router
// address: unspecified, loopback, multicast, broadcast, link-local,
// reserved, zoned or IPv4-mapped.
func CheckUnicast(what string, ip netip.Addr) error {
	why := ""
	switch {
	case ip.Zone() != "":
		// A zone is free text (netip accepts "::%\n"): quote it, so that
		// the message stays one line.
		return Errorf("%s %q has a zone", what, ip.String())
	case ip.Is4In6():
		why = "is IPv4-mapped IPv6; give the IPv4 address"
	case ip.IsUnspecified():
		why = "is the unspecified address"
	case ip.IsLoopback():
		why = "is a loopback address"
	case ip.IsMulticast():
		why = "is a multicast address"
	case ip == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		why = "is the broadcast address"
	case ip.IsLinkLocalUnicast():
		why = "is link-local"
	case ip.Is4() && ip.As4()[0] >= 240:
		why = "is in the reserved range 240.0.0.0/4"
	case ip.Is4() && ip.As4()[0] == 0:
		why = "is in 0.0.0.0/8 (this network)"
	}
	if why != "" {
		return Errorf("%s %s %s", what, ip, why)
	}
	return nil
}

// ParseMAC parses a unicast Ethernet MAC address.
func ParseMAC(s string) (net.HardwareAddr, error) {
	mac, err := net.ParseMAC(s)
	if err != nil || len(mac) != 6 {
		return nil, Errorf("MAC %q is not an Ethernet address (like 52:54:00:12:34:56)", s)
	}
	if mac[0]&1 == 1 {
		return nil, Errorf("MAC %s is a multicast/broadcast address", mac)
	}
	if mac.String() == "00:00:00:00:00:00" {
		return nil, Errorf("MAC %s is all zeros", mac)
	}
	return mac, nil
}

// ParseCIDR parses a destination prefix such as 10.20.0.0/16. The address
// must be the prefix's first address, so a typo does not silently widen it.
func ParseCIDR(what, s string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(strings.TrimSpace(s))
	if err != nil {
		return netip.Prefix{}, Errorf("%s %q is not a CIDR (like 10.20.0.0/16)", what, s)
	}
	if p != p.Masked() {
		return netip.Prefix{}, Errorf("%s %s has host bits set: did you mean %s?", what, p, p.Masked())
	}
	return p, nil
}
