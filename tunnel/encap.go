package tunnel

import (
	"github.com/rsprep/rsprep/realserver/input"
)

// Encap is how the director wraps a packet (ipvsadm --tun-type).
type Encap string

const (
	EncapIPIP Encap = "ipip" // IP in IP (the default)
	EncapGUE  Encap = "gue"  // IP in GUE in UDP, to --tun-port
	EncapGRE  Encap = "gre"  // keyless GRE
)

// ParseEncap parses --encap.
func ParseEncap(s string) (Encap, error) {
	switch Encap(s) {
	case "":
		return EncapIPIP, nil
	case EncapIPIP, EncapGUE, EncapGRE:
		return Encap(s), nil
	}
	return "", input.Errorf("--encap %q: want ipip, gue or gre (the director's --tun-type)", s)
}

// ParseUnderlay parses --underlay: 4, 6, or 0 for "each VIP's own family".
func ParseUnderlay(s string) (int, error) {
	switch s {
	case "":
		return 0, nil
	case "ipv4":
		return 4, nil
	case "ipv6":
		return 6, nil
	}
	return 0, input.Errorf("--underlay %q: want ipv4 or ipv6 (the family of the real server addresses the director sends to)", s)
}

// decap is where a packet of one inner family, sent over one underlay
// family with one encapsulation, comes out of the kernel: the modules that
// must be loaded, and the fallback device it arrives on (where the VIP is
// bound, which must be up).
type decap struct {
	modules []string // in load order; the last one creates dev
	dev     string
	kind    string // the device's netlink kind
	// mode: dev is an ip6tnl device, whose mode decides which inner
	// families it takes (the fallback starts as ip6ip6 only).
	mode bool
}

// decapFor is the table behind tunnel/README.md's table of encapsulations. GUE
// is decapsulated by fou, which hands the inner packet to the IP protocol
// it names: ipip (tunl0) or sit (sit0) on an IPv4 underlay, ip6_tunnel
// (ip6tnl0) on an IPv6 one, exactly as plain IP-in-IP arrives there. GRE
// carries the inner family in its header, so gre0 or ip6gre0 take both.
func decapFor(e Encap, underlay, inner int) decap {
	var d decap
	switch {
	case e == EncapGRE && underlay == 4:
		d = decap{modules: []string{"ip_gre"}, dev: "gre0", kind: "gre"}
	case e == EncapGRE:
		d = decap{modules: []string{"ip6_gre"}, dev: "ip6gre0", kind: "ip6gre"}
	case underlay == 4 && inner == 4:
		d = decap{modules: []string{"ipip"}, dev: dev4, kind: "ipip"}
	case underlay == 4:
		d = decap{modules: []string{"sit"}, dev: "sit0", kind: "sit"}
	default:
		d = decap{modules: []string{"ip6_tunnel"}, dev: dev6, kind: "ip6tnl", mode: true}
	}
	if e == EncapGUE {
		fou := []string{"fou"}
		if underlay == 6 {
			fou = append(fou, "fou6")
		}
		d.modules = append(fou, d.modules...)
	}
	return d
}
