package kernel

import (
	"encoding/binary"
	"fmt"
	"net"
	"slices"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/rsprep/rsprep/realserver"
)

// Links implements realserver.Host: one RTM_GETLINK dump on the plain
// rtnl socket, each message read in place for the few fields rsprep
// uses. vishvananda/netlink's LinkList decoded every attribute of every
// link (statistics, XDP, each kind's data) and received into a fresh
// 64 KiB buffer per read; every observation dumps links.
func (h *Host) Links() ([]realserver.Link, error) {
	var attrs []netlink.LinkAttrs
	out, err := retryDump("link", func() ([]realserver.Link, error) {
		h.dumpsSent["link"]++
		out := make([]realserver.Link, 0, len(h.names))
		attrs = attrs[:0]
		req := appendMsg(nil, unix.RTM_GETLINK, unix.NLM_F_DUMP, make([]byte, unix.SizeofIfInfomsg)...)
		err := h.rtnl.dump(req, unix.RTM_NEWLINK, func(body []byte) {
			if l, a, ok := parseLink(body); ok {
				out, attrs = append(out, l), append(attrs, a)
			}
		})
		return out, err
	})
	if err != nil {
		return nil, err
	}
	h.links = make(map[string]netlink.Link, len(out))
	h.names = make(map[int]string, len(out))
	for i, l := range out {
		h.links[l.Name] = &netlink.Device{LinkAttrs: attrs[i]}
		h.names[l.Index] = l.Name
	}
	return out, nil
}

// parseLink reads one RTM_NEWLINK message: struct ifinfomsg, then
// IFLA_IFNAME, IFLA_MTU, IFLA_ADDRESS and IFLA_LINKINFO's IFLA_INFO_KIND.
// The Link is what realserver needs; the LinkAttrs (index, name, flags,
// MTU, MAC) is what this package's requests and ARP probes need. Type is
// named as vishvananda/netlink's Link.Type() names it: the kind, "device"
// without one, and "tuntap" for the kernel's "tun" (the kinds whose
// Type() depends on the addresses, gre/ip6gre and the like, always carry
// the address family their kind says, so the kind is their Type too).
func parseLink(body []byte) (realserver.Link, netlink.LinkAttrs, bool) {
	if len(body) < unix.SizeofIfInfomsg {
		return realserver.Link{}, netlink.LinkAttrs{}, false
	}
	index := int(int32(binary.NativeEndian.Uint32(body[4:8])))
	raw := binary.NativeEndian.Uint32(body[8:12])
	a := netlink.LinkAttrs{Index: index, RawFlags: raw, Flags: linkFlags(raw)}
	kind := ""
	eachAttr(body[unix.SizeofIfInfomsg:], func(typ uint16, val []byte) {
		switch typ {
		case unix.IFLA_IFNAME:
			a.Name = cString(val)
		case unix.IFLA_MTU:
			if len(val) == 4 {
				a.MTU = int(binary.NativeEndian.Uint32(val))
			}
		case unix.IFLA_ADDRESS:
			if slices.ContainsFunc(val, func(b byte) bool { return b != 0 }) { // lo's is all zeros: none
				a.HardwareAddr = net.HardwareAddr(slices.Clone(val))
			}
		case unix.IFLA_LINKINFO:
			eachAttr(val, func(typ uint16, val []byte) {
				if typ == unix.IFLA_INFO_KIND { // the kernel never flags it; neither does vishvananda/netlink read a flagged one
					kind = cString(val)
				}
			})
		}
	})
	if a.Name == "" {
		return realserver.Link{}, netlink.LinkAttrs{}, false
	}
	typ := kind
	switch kind {
	case "":
		typ = "device"
	case "tun":
		typ = "tuntap"
	}
	return realserver.Link{
		Name:     a.Name,
		Index:    index,
		Type:     typ,
		Up:       raw&unix.IFF_UP != 0,
		NoARP:    raw&unix.IFF_NOARP != 0,
		Loopback: raw&unix.IFF_LOOPBACK != 0,
		MTU:      a.MTU,
	}, a, true
}

// linkFlags is net.Flags of raw interface flags, as vishvananda/netlink
// (and package net) convert them.
func linkFlags(raw uint32) net.Flags {
	var f net.Flags
	for _, m := range []struct {
		raw  uint32
		flag net.Flags
	}{
		{unix.IFF_UP, net.FlagUp}, {unix.IFF_BROADCAST, net.FlagBroadcast},
		{unix.IFF_LOOPBACK, net.FlagLoopback}, {unix.IFF_POINTOPOINT, net.FlagPointToPoint},
		{unix.IFF_MULTICAST, net.FlagMulticast}, {unix.IFF_RUNNING, net.FlagRunning},
	} {
		if raw&m.raw != 0 {
			f |= m.flag
		}
	}
	return f
}

// eachAttr calls f with the type and value of each attribute in b,
// stopping at the first malformed one.
func eachAttr(b []byte, f func(typ uint16, val []byte)) {
	for len(b) >= unix.SizeofRtAttr {
		n := int(binary.NativeEndian.Uint16(b[0:2]))
		if n < unix.SizeofRtAttr || n > len(b) {
			return
		}
		f(binary.NativeEndian.Uint16(b[2:4]), b[unix.SizeofRtAttr:n])
		b = b[min(len(b), (n+unix.RTA_ALIGNTO-1)&^(unix.RTA_ALIGNTO-1)):]
	}
}

// cString is a string attribute without its terminating NUL (the kernel
// always sends one), read as vishvananda/netlink and parseAddr read them.
func cString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return string(b[:len(b)-1])
}

// link is the named link's attributes, from the last link dump, or else
// asked of the kernel by name (one request, not a dump).
func (h *Host) link(name string) (netlink.Link, error) {
	if l, ok := h.links[name]; ok {
		return l, nil
	}
	req := appendMsg(nil, unix.RTM_GETLINK, unix.NLM_F_ACK, make([]byte, unix.SizeofIfInfomsg)...)
	attr := unix.IFLA_IFNAME
	if len(name) >= unix.IFNAMSIZ {
		attr = unix.IFLA_ALT_IFNAME
	}
	req = appendAttr(req, uint16(attr), append([]byte(name), 0)...)
	var found *netlink.Device
	err := h.rtnl.dump(req, unix.RTM_NEWLINK, func(body []byte) {
		if _, a, ok := parseLink(body); ok {
			found = &netlink.Device{LinkAttrs: a}
		}
	})
	if err == nil && found == nil {
		err = unix.ENODEV
	}
	if err != nil {
		return nil, fmt.Errorf("finding link %s: %w", name, err)
	}
	if h.links == nil {
		h.links = map[string]netlink.Link{}
	}
	h.links[name] = found
	return found, nil
}

// SetLinkUp implements realserver.Host: RTM_NEWLINK changing only IFF_UP,
// as `ip link set dev NAME up|down` sends it.
func (h *Host) SetLinkUp(name string, up bool) error {
	l, err := h.link(name)
	if err != nil {
		return err
	}
	var flags uint32
	if up {
		flags = unix.IFF_UP
	}
	encode := func(_ int, b []byte) []byte {
		b = appendMsg(b, unix.RTM_NEWLINK, unix.NLM_F_ACK, unix.AF_UNSPEC, 0, 0, 0)
		b = binary.NativeEndian.AppendUint32(b, uint32(l.Attrs().Index))
		b = binary.NativeEndian.AppendUint32(b, flags)
		return binary.NativeEndian.AppendUint32(b, unix.IFF_UP) // change
	}
	if err := h.rtnl.do(1, encode, func(_ int, err error) error { return err })[0]; err != nil {
		return fmt.Errorf("setting %s up=%v: %w", name, up, err)
	}
	return nil // the cached attributes keep their index; nothing reads their flags
}
