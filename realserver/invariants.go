package realserver

import (
	"net/netip"
	"slices"
	"strconv"

	"github.com/rsprep/rsprep/realserver/input"
)

// Mode is one forwarding mode's desired state.
type Mode interface {
	Name() string
	// Validate rejects bad input before the host is read.
	Validate() error
	// Preflight rejects input that contradicts this host (a VIP that is the
	// host's own address, a DIP that is not on-link) before anything changes.
	Preflight(v *View) error
	Invariants() []Invariant
	// VIPList is the addresses down removes.
	VIPList() []netip.Addr
	// ForDown is the mode as down runs it, once Validate has passed: down
	// undoes what the record says, so it drops what only apply needs
	// checked on the host (a director or gateway that may have gone away
	// must not block its own real server's teardown).
	ForDown() Mode
	// Modules are the kernel modules the mode's invariants load, which
	// install writes to modules-load.d: the boot unit may not load them.
	Modules() []string
	// Footprint is what the mode's state depends on, for doctor.
	Footprint() Footprint
}

// LinkUp checks that link exists and is up.
func LinkUp(id, link string) Invariant {
	return CheckFunc(func(v *View) ([]Finding, error) {
		l, ok, err := v.Link(link)
		if err != nil {
			return nil, err
		}
		f := Finding{ID: id, Subject: link, Want: "up", OK: ok && l.Up}
		switch {
		case !ok:
			f.Got = "absent"
		case l.Up:
			f.Got = "up"
		default:
			f.Got = "down"
			f.Fix = []Change{{Kind: KindLinkUp, Link: link}}
		}
		return []Finding{f}, nil
	})
}

// VIPBound checks that each VIP sits on its device as a host route: /32 for
// IPv4 (with rsprep's label) on dev4, /128 for IPv6 on dev6.
func VIPBound(vips []netip.Addr, dev4, dev6 string) Invariant {
	return newVIPCheck(vips, func(v *View, vips []netip.Addr) ([]Finding, error) {
		out := make([]Finding, 0, len(vips))
		var b []byte
		_, has4, err := v.Link(dev4) // once, not once a VIP
		if err != nil {
			return nil, err
		}
		_, has6, err := v.Link(dev6)
		if err != nil {
			return nil, err
		}
		for _, ip := range vips {
			dev, exists := dev4, has4
			if ip.Is6() {
				dev, exists = dev6, has6
			}
			want := netip.PrefixFrom(ip, ip.BitLen())
			// Subject and Want in one string ("IP" is a prefix of "IP/32
			// on lo"): one allocation a VIP instead of three.
			b = ip.AppendTo(b[:0])
			n := len(b)
			b = append(strconv.AppendInt(append(b, '/'), int64(want.Bits()), 10), " on "...)
			wantOn := string(append(b, dev...))
			f := Finding{ID: "vip.bound", Subject: wantOn[:n], Want: wantOn, Got: "absent"}
			if !exists {
				f.Got = dev + " does not exist"
				out = append(out, f)
				continue
			}
			present, err := v.AddrsOf(ip)
			if err != nil {
				return nil, err
			}
			bound := false
			for _, a := range present {
				switch {
				case a.Link != dev:
				case a.Prefix == want:
					bound = true
					if foreign, err := notRspreps(v, a); err != nil {
						return nil, err
					} else if foreign {
						f.Detail = "bound, but not by rsprep (no rsprep tag or label): down leaves it"
					}
				default:
					// A shorter prefix makes its whole subnet local: replace it.
					f.Got = a.Prefix.String() + " on " + dev
					f.Fix = append(f.Fix, Change{Kind: KindAddrDel, Addr: a})
				}
			}
			switch {
			case !bound:
				f.Fix = append(f.Fix, Change{Kind: KindAddrAdd, Addr: VIPAddr(ip, dev)})
			case len(f.Fix) == 0:
				f.OK, f.Got = true, f.Want
			default:
				f.Got = f.Want + " and " + f.Got
			}
			out = append(out, f)
		}
		return out, nil
	})
}

// notRspreps reports whether a carries no rsprep mark where the kernel
// would show one (see unmarked).
func notRspreps(v *View, a Addr) (bool, error) {
	if a.Ours() {
		return false, nil
	}
	all, err := v.Addrs()
	if err != nil {
		return false, err
	}
	return unmarked(a, showsProto(all)), nil
}

// unmarked reports whether a carries no rsprep mark where the kernel would
// show one: IPv4 always (the label), IPv6 only on a kernel that reports
// IFA_PROTO (shown: see showsProto).
func unmarked(a Addr, shown bool) bool {
	return !a.Ours() && (a.Prefix.Addr().Is4() || shown)
}

// showsProto reports whether the kernel reports IFA_PROTO, seen by any
// address carrying one (≥ 5.18 tags lo's own addresses as the kernel's).
func showsProto(addrs []Addr) bool {
	return slices.ContainsFunc(addrs, func(x Addr) bool { return x.Proto != 0 })
}

// VIPAddr is how rsprep binds a VIP: host prefix, rsprep's IFA_PROTO tag,
// and on IPv4 a label (the mark kernels before 5.18 keep).
func VIPAddr(ip netip.Addr, dev string) Addr {
	a := Addr{Link: dev, Prefix: netip.PrefixFrom(ip, ip.BitLen()), Proto: AddrProto}
	if ip.Is4() {
		a.Label = dev + ":rsprep"
	}
	return a
}

// VIPExclusive checks that no VIP is on an interface that answers ARP (or
// neighbour solicitations): it would take the director's traffic. Only
// with TakeHeldVIPs is one found there removed (KindAddrTake: recorded,
// and given back by down); otherwise it is reported and left.
func VIPExclusive(vips []netip.Addr, held HeldVIPs) Invariant {
	return newVIPCheck(vips, func(v *View, vips []netip.Addr) ([]Finding, error) {
		arpCapable, err := arpCapableLinks(v)
		if err != nil {
			return nil, err
		}
		out := make([]Finding, 0, len(vips))
		for _, ip := range vips {
			f := Finding{ID: "vip.exclusive", Subject: ip.String(), Want: "on no ARP-capable interface", Got: "on none", OK: true}
			present, err := v.AddrsOf(ip)
			if err != nil {
				return nil, err
			}
			for _, a := range present {
				if arpCapable[a.Link] {
					if f.OK {
						f.OK, f.Got = false, "on"
					}
					f.Got += " " + a.Link
					if held == TakeHeldVIPs {
						f.Fix = append(f.Fix, Change{Kind: KindAddrTake, Addr: a})
					} else {
						f.Detail = "rsprep leaves it there (is this host the director, or its VRRP peer?): remove it, or apply with " + TakeVIPFlag + " to move it"
					}
				}
			}
			out = append(out, f)
		}
		return out, nil
	})
}

// UpARPCapable lists the interfaces that are up and answer ARP.
func UpARPCapable(v *View) ([]string, error) {
	links, err := v.Links()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, l := range links {
		if l.Up && l.ARPCapable() {
			out = append(out, l.Name)
		}
	}
	return out, nil
}

// CheckNotLocalRIP rejects a VIP that is one of this host's own interface
// addresses with a subnet (a RIP): binding it as a VIP would take the
// address away from the interface. A /32 or /128 on an ARP-capable
// interface is not a RIP but a misplaced VIP, which vip.exclusive fixes.
func CheckNotLocalRIP(v *View, vips []netip.Addr) error {
	arpCapable, err := arpCapableLinks(v)
	if err != nil {
		return &ObserveError{Err: err}
	}
	return checkPresent(v, vips, func(ip netip.Addr, a Addr) error {
		if arpCapable[a.Link] && a.Prefix.Bits() < ip.BitLen() {
			return input.Errorf("VIP %s is this host's own address (%s on %s): a VIP must not be a real server's address", ip, a.Prefix, a.Link)
		}
		return nil
	})
}

// CheckNoForeignPrefix rejects a VIP that somebody else holds with a
// subnet on one of the mode's VIP devices (192.168.79.180/24 on lo):
// vip.bound would replace it with the /32, and that address is not
// rsprep's to delete, nor could down put it back as it was.
func CheckNoForeignPrefix(v *View, vips []netip.Addr, devices []string) error {
	return checkPresent(v, vips, func(ip netip.Addr, a Addr) error {
		if slices.Contains(devices, a.Link) && a.Prefix.Bits() < ip.BitLen() && !a.Ours() {
			return input.Errorf("VIP %s is on %s as %s, which rsprep did not add: binding the VIP would replace that address; remove it first (ip addr del %s dev %s), or choose another VIP", ip, a.Link, a.Prefix, a.Prefix, a.Link)
		}
		return nil
	})
}

// checkPresent calls check for each address that holds one of vips.
func checkPresent(v *View, vips []netip.Addr, check func(netip.Addr, Addr) error) error {
	for _, ip := range vips {
		present, err := v.AddrsOf(ip)
		if err != nil {
			return &ObserveError{Err: err}
		}
		for _, a := range present {
			if err := check(ip, a); err != nil {
				return err
			}
		}
	}
	return nil
}

// arpCapableLinks maps each interface's name to whether it answers ARP.
func arpCapableLinks(v *View) (map[string]bool, error) {
	links, err := v.Links()
	if err != nil {
		return nil, err
	}
	arpCapable := make(map[string]bool, len(links))
	for _, l := range links {
		arpCapable[l.Name] = l.ARPCapable()
	}
	return arpCapable, nil
}
