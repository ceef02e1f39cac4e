package kernel

import (
	"bytes"
	"encoding/binary"
	"net"
	"os/exec"
	"reflect"
	"slices"
	"testing"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/rsprep/rsprep/realserver"
)

// asNetlinkReads is what Links said before it read the dump itself: the
// same fields from vishvananda/netlink's LinkList.
func asNetlinkReads(t *testing.T, h *Host) []realserver.Link {
	t.Helper()
	ls, err := mustNL(t, h).LinkList()
	if err != nil {
		t.Fatal(err)
	}
	var out []realserver.Link
	for _, l := range ls {
		a := l.Attrs()
		out = append(out, realserver.Link{Name: a.Name, Index: a.Index, Type: l.Type(),
			Up: a.Flags&net.FlagUp != 0, NoARP: a.RawFlags&unix.IFF_NOARP != 0,
			Loopback: a.Flags&net.FlagLoopback != 0, MTU: a.MTU})
	}
	return out
}

// The in-place link dump reads every link as vishvananda/netlink's
// LinkList does, over the kinds this kernel can make: loopback, veth
// (up, down, ARP off, another MTU, a dotted VLAN-style name), bridge,
// ifb, tun, and whatever tunnel fallback devices the namespace has. The
// attributes kept for requests (index, MAC, flags, MTU) match
// LinkByName's.
func TestLinksReadLikeNetlinkLinkList(t *testing.T) {
	inFreshNetns(t, func(h *Host) {
		ip(t, "link", "add", "rs0.100", "type", "veth", "peer", "name", "rs1")
		ip(t, "link", "set", "rs0.100", "up", "mtu", "1400", "address", "02:00:00:00:00:07")
		ip(t, "link", "set", "rs1", "arp", "off")
		for _, kind := range [][]string{{"link", "add", "br0", "type", "bridge"}, {"link", "add", "ifb0", "type", "ifb"}, {"tuntap", "add", "tun0", "mode", "tun"}} {
			if out, err := exec.Command("ip", kind...).CombinedOutput(); err != nil {
				t.Logf("this kernel cannot: ip %v: %s", kind, out) // not every kernel has every kind
			}
		}
		got, err := h.Links()
		if err != nil {
			t.Fatal(err)
		}
		want := asNetlinkReads(t, h)
		if !slices.Equal(got, want) {
			t.Errorf("Links:\n %v\nvishvananda/netlink:\n %v", got, want)
		}
		if len(got) < 3 {
			t.Errorf("Links: %v, want at least lo and the veth pair", got)
		}
		for _, l := range got {
			nl, err := mustNL(t, h).LinkByName(l.Name)
			if err != nil {
				t.Fatal(err)
			}
			mine, _ := h.link(l.Name)
			a, b := mine.Attrs(), nl.Attrs()
			if a.Index != b.Index || a.Name != b.Name || a.MTU != b.MTU || a.Flags != b.Flags || a.RawFlags != b.RawFlags || !reflect.DeepEqual(a.HardwareAddr, b.HardwareAddr) {
				t.Errorf("%s: attributes %+v, LinkByName's %+v", l.Name, *a, *b)
			}
		}
	})
}

// A link the last dump does not know is asked for by name; one that does
// not exist is an error isGone recognises; setting a link down and up
// again is what the kernel then reports.
func TestLinkByNameAndSetLinkUp(t *testing.T) {
	inFreshNetns(t, func(h *Host) {
		ip(t, "link", "add", "late0", "type", "veth", "peer", "name", "late1")
		l, err := h.link("late0")
		if err != nil {
			t.Fatal(err)
		}
		if want, _ := mustNL(t, h).LinkByName("late0"); l.Attrs().Index != want.Attrs().Index {
			t.Errorf("late0 index %d, want %d", l.Attrs().Index, want.Attrs().Index)
		}
		if _, err := h.link("nosuch0"); !isGone(err) {
			t.Errorf("link(nosuch0) = %v, want an error isGone recognises", err)
		}
		for _, up := range []bool{true, false, true} {
			if err := h.SetLinkUp("late0", up); err != nil {
				t.Fatal(err)
			}
			ls, err := h.Links()
			if err != nil {
				t.Fatal(err)
			}
			for _, l := range ls {
				if l.Name == "late0" && l.Up != up {
					t.Errorf("after SetLinkUp(late0, %v) the kernel says up=%v", up, l.Up)
				}
			}
		}
		if err := h.SetLinkUp("nosuch0", true); !isGone(err) {
			t.Errorf("SetLinkUp(nosuch0) = %v, want an error isGone recognises", err)
		}
	})
}

// linkMsg is an RTM_NEWLINK body: ifinfomsg and the given attributes.
func linkMsg(index int32, flags uint32, attrs ...[]byte) []byte {
	b := []byte{unix.AF_UNSPEC, 0, 0, 0}
	b = binary.NativeEndian.AppendUint32(b, uint32(index))
	b = binary.NativeEndian.AppendUint32(b, flags)
	b = binary.NativeEndian.AppendUint32(b, 0)
	for _, a := range attrs {
		b = append(b, a...)
	}
	return b
}

// parseLink never panics, and what it reads of any message agrees with
// vishvananda/netlink's LinkDeserialize wherever that one reads it.
func FuzzParseLink(f *testing.F) {
	name := appendAttr(nil, unix.IFLA_IFNAME, append([]byte("eth0.100"), 0)...)
	mtu := appendAttr(nil, unix.IFLA_MTU, binary.NativeEndian.AppendUint32(nil, 1500)...)
	mac := appendAttr(nil, unix.IFLA_ADDRESS, 2, 0, 0, 0, 0, 1)
	info := appendAttr(nil, unix.IFLA_LINKINFO, appendAttr(nil, unix.IFLA_INFO_KIND, append([]byte("veth"), 0)...)...)
	tun := appendAttr(nil, unix.IFLA_LINKINFO, appendAttr(nil, unix.IFLA_INFO_KIND, append([]byte("tun"), 0)...)...)
	f.Add(linkMsg(1, unix.IFF_UP|unix.IFF_LOOPBACK, appendAttr(nil, unix.IFLA_IFNAME, append([]byte("lo"), 0)...), mtu))
	f.Add(linkMsg(7, unix.IFF_UP|unix.IFF_BROADCAST|unix.IFF_MULTICAST, name, mtu, mac, info))
	f.Add(linkMsg(9, unix.IFF_NOARP|unix.IFF_POINTOPOINT, name, tun))
	f.Add(linkMsg(3, 0, name[:5]))
	f.Fuzz(func(t *testing.T, body []byte) {
		l, a, ok := parseLink(body)
		if !ok {
			return
		}
		if l.Name != a.Name || l.Index != a.Index || l.MTU != a.MTU || l.Name == "" {
			t.Fatalf("Link %+v disagrees with its attributes %+v", l, a)
		}
		if !asKernelSends(body[unix.SizeofIfInfomsg:]) {
			return // vishvananda/netlink reads malformed attributes its own way (past their end, even)
		}
		var theirs netlink.Link
		func() {
			defer func() { recover() }() // its own robustness is not under test
			theirs, _ = netlink.LinkDeserialize(nil, body)
		}()
		if theirs == nil || theirs.Attrs().Name != l.Name {
			return // it read no link, or read a name differently (the first of two IFLA_IFNAMEs): nothing to compare
		}
		b := theirs.Attrs()
		if b.Index != l.Index || b.MTU != l.MTU || b.RawFlags != a.RawFlags || b.Flags != a.Flags || !slices.Equal(b.HardwareAddr, a.HardwareAddr) {
			t.Fatalf("read %+v, vishvananda/netlink read %+v", a, *b)
		}
		if _, generic := theirs.(*netlink.GenericLink); (generic || theirs.Type() != "gre" && theirs.Type() != "ip6gre" && theirs.Type() != "gretap" && theirs.Type() != "ip6gretap" && theirs.Type() != "vti" && theirs.Type() != "vti6") && theirs.Type() != l.Type {
			t.Fatalf("type %q, vishvananda/netlink's %q", l.Type, theirs.Type())
		}
	})
}

// asKernelSends reports whether the attributes are shaped as the kernel
// shapes them: each whole, names NUL-terminated once, the MTU four bytes.
func asKernelSends(b []byte) bool {
	ok := true
	str := func(v []byte) bool { return len(v) > 0 && bytes.IndexByte(v, 0) == len(v)-1 }
	whole := func(b []byte, f func(typ uint16, val []byte)) {
		n := 0
		eachAttr(b, func(typ uint16, val []byte) {
			n += (unix.SizeofRtAttr + len(val) + unix.RTA_ALIGNTO - 1) &^ (unix.RTA_ALIGNTO - 1)
			f(typ, val)
		})
		ok = ok && n >= len(b)
	}
	whole(b, func(typ uint16, val []byte) {
		switch typ {
		case unix.IFLA_IFNAME:
			ok = ok && str(val)
		case unix.IFLA_MTU:
			ok = ok && len(val) == 4
		case unix.IFLA_LINKINFO:
			whole(val, func(typ uint16, val []byte) {
				ok = ok && (typ != unix.IFLA_INFO_KIND || str(val))
			})
		}
	})
	return ok
}

// mustNL is the host's vishvananda/netlink handle, for comparisons.
func mustNL(t *testing.T, h *Host) *netlink.Handle {
	t.Helper()
	nl, err := h.nl()
	if err != nil {
		t.Fatal(err)
	}
	return nl
}
