package kernel

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rsprep/rsprep/realserver"
)

// Addrs implements realserver.Host: one dump for every link and family.
func (h *Host) Addrs() ([]realserver.Addr, error) {
	// The links are named once the dump is read: naming one the last link
	// dump does not know refreshes it, and that dump cannot run on this
	// socket while this one does.
	var index []int
	indexOf := func(i int) string { index = append(index, i); return "" }
	out, err := retryDump("address", func() ([]realserver.Addr, error) {
		h.dumpsSent["address"]++
		// Sized as last time, with room for a few more: a watcher's
		// repair re-adds the VIP its previous dump missed, and a regrowth
		// of 10,000 addresses is two megabytes for the collector.
		size := h.addrsSeen + h.addrsSeen/64 + 8
		out := make([]realserver.Addr, 0, size)
		index = make([]int, 0, size)
		labels := map[string]string{} // one string per distinct label, not per address
		now := time.Now().Unix()
		req := appendMsg(nil, unix.RTM_GETADDR, unix.NLM_F_DUMP, make([]byte, unix.SizeofIfAddrmsg)...)
		err := h.rtnl.dump(req, unix.RTM_NEWADDR, func(body []byte) {
			if a, ok := parseAddr(body, indexOf, labels, now); ok {
				out = append(out, a)
			}
		})
		h.addrsSeen = len(out)
		return out, err
	})
	if err != nil {
		return nil, err
	}
	names := h.namer()
	for i := range out {
		out[i].Link = names.name(index[i])
	}
	if names.err != nil {
		return nil, names.err
	}
	return out, nil
}

// parseAddr reads one RTM_NEWADDR message as vishvananda/netlink's
// AddrList does: the address is IFA_LOCAL with the message's prefix length
// when IFA_ADDRESS is the same address (IPv4), IFA_LOCAL as a host address
// when IFA_ADDRESS differs (a point-to-point peer), and IFA_ADDRESS with
// the prefix length when there is no IFA_LOCAL (IPv6). Its scope, the
// flags an operator sets and its lifetimes (as deadlines from now, unix
// seconds) come along, to give back an address rsprep takes.
func parseAddr(body []byte, name func(index int) string, labels map[string]string, now int64) (realserver.Addr, bool) {
	if len(body) < unix.SizeofIfAddrmsg {
		return realserver.Addr{}, false
	}
	family, bits := body[0], int(body[1])
	flags, scope := uint32(body[2]), body[3]
	index := int(binary.NativeEndian.Uint32(body[4:8]))
	var local, address []byte
	label := ""
	var proto uint8
	var validUntil, preferredUntil int64
	for b := body[unix.SizeofIfAddrmsg:]; len(b) >= unix.SizeofRtAttr; {
		n := int(binary.NativeEndian.Uint16(b[0:2]))
		if n < unix.SizeofRtAttr || n > len(b) {
			break
		}
		val := b[unix.SizeofRtAttr:n]
		switch binary.NativeEndian.Uint16(b[2:4]) {
		case unix.IFA_LOCAL:
			local = val
		case unix.IFA_ADDRESS:
			address = val
		case ifaProto:
			if len(val) == 1 {
				proto = val[0]
			}
		case unix.IFA_FLAGS:
			if len(val) == 4 {
				flags = binary.NativeEndian.Uint32(val)
			}
		case unix.IFA_CACHEINFO:
			// struct ifa_cacheinfo: ifa_prefered, ifa_valid, … (seconds
			// left; all ones: forever)
			if len(val) >= 8 {
				if valid := binary.NativeEndian.Uint32(val[4:8]); valid != infinityLife {
					validUntil = now + int64(valid)
					preferredUntil = now + int64(min(binary.NativeEndian.Uint32(val[0:4]), valid))
				}
			}
		case unix.IFA_LABEL:
			if len(val) > 0 {
				val = val[:len(val)-1] // NUL
			}
			l, ok := labels[string(val)]
			if !ok {
				l = string(val)
				labels[l] = l
			}
			label = l
		}
		b = b[min(len(b), (n+unix.RTA_ALIGNTO-1)&^(unix.RTA_ALIGNTO-1)):]
	}
	raw := address
	switch {
	case local == nil:
	case family == unix.AF_INET && address != nil && string(local) == string(address):
	default:
		raw, bits = local, 8*len(local)
	}
	ip, ok := netip.AddrFromSlice(raw)
	if !ok {
		return realserver.Addr{}, false
	}
	return realserver.Addr{Link: name(index), Prefix: netip.PrefixFrom(ip.Unmap(), bits), Label: label, Proto: proto,
		Scope: scope, Flags: flags & realserver.AddrSettableFlags, ValidUntil: validUntil, PreferredUntil: preferredUntil}, true
}

// infinityLife is the lifetime the kernel reports for an address that
// never expires (INFINITY_LIFE_TIME).
const infinityLife = 0xffffffff

// ifaProto is IFA_PROTO (Linux 5.18): who added an address, one byte.
// Neither x/sys/unix nor vishvananda/netlink v1.3.1 (whose Addr has no
// protocol field) knows it yet.
const ifaProto = 11

// AddAddr implements realserver.Host.
func (h *Host) AddAddr(a realserver.Addr) error { return h.AddAddrs([]realserver.Addr{a})[0] }

// DelAddr implements realserver.Host.
func (h *Host) DelAddr(a realserver.Addr) error { return h.DelAddrs([]realserver.Addr{a})[0] }

// AddAddrs implements realserver.AddrBatcher: pipelined RTM_NEWADDR, each
// as `ip addr add` sends it; an address that is already there is success.
func (h *Host) AddAddrs(as []realserver.Addr) []error {
	return h.addrs(as, unix.RTM_NEWADDR, unix.NLM_F_CREATE|unix.NLM_F_EXCL, func(a realserver.Addr, err error) error {
		if errors.Is(err, unix.EEXIST) {
			return nil
		}
		return fmt.Errorf("adding %s to %s: %w", a.Prefix, a.Link, err)
	})
}

// DelAddrs implements realserver.AddrBatcher: pipelined RTM_DELADDR; an
// address (or link) that is already gone is success.
func (h *Host) DelAddrs(as []realserver.Addr) []error {
	return h.addrs(as, unix.RTM_DELADDR, 0, func(a realserver.Addr, err error) error {
		if isGone(err) {
			return nil
		}
		return fmt.Errorf("removing %s from %s: %w", a.Prefix, a.Link, err)
	})
}

// addrs sends one request per address and returns each one's result:
// nil, or what failed(a, err) makes of a failure (nil for one that is not).
// It stops at the first failure; what it did not attempt is errNotSent.
func (h *Host) addrs(as []realserver.Addr, typ, flags uint16, failed func(realserver.Addr, error) error) []error {
	errs := make([]error, len(as))
	var idx, links []int // request j is for as[idx[j]] on the link with index links[j]
	for i, a := range as {
		l, err := h.link(a.Link)
		if err == nil {
			idx, links = append(idx, i), append(links, l.Attrs().Index)
			continue
		}
		if errs[i] = failed(a, err); errs[i] != nil {
			for j := i + 1; j < len(as); j++ {
				errs[j] = errNotSent
			}
			break
		}
	}
	encode := func(j int, b []byte) []byte { return appendAddrRequest(b, typ, flags, links[j], as[idx[j]]) }
	res := h.rtnl.do(len(idx), encode, func(j int, err error) error { return failed(as[idx[j]], err) })
	for j, err := range res {
		errs[idx[j]] = err
	}
	return errs
}

// appendAddrRequest appends an address request as vishvananda/netlink's
// AddrAdd and AddrDel send it: IFA_LOCAL and IFA_ADDRESS, the broadcast
// address of an IPv4 subnet of /30 or wider, and the IPv4 label; a new
// address also with its scope, flags and lifetimes, as ip addr add sends
// them.
func appendAddrRequest(b []byte, typ, flags uint16, index int, a realserver.Addr) []byte {
	ip := a.Prefix.Addr()
	family := uint8(unix.AF_INET)
	if !ip.Is4() {
		family = unix.AF_INET6
	}
	var ifaFlags, scope uint8
	if typ == unix.RTM_NEWADDR {
		ifaFlags, scope = uint8(a.Flags), a.Scope
	}
	b = appendMsg(b, typ, unix.NLM_F_ACK|flags, family, uint8(a.Prefix.Bits()), ifaFlags, scope)
	b = binary.NativeEndian.AppendUint32(b, uint32(index)) // the rest of struct ifaddrmsg
	addr := ip.AsSlice()
	b = appendAttr(b, unix.IFA_LOCAL, addr...)
	b = appendAttr(b, unix.IFA_ADDRESS, addr...)
	if ip.Is4() {
		if bits := a.Prefix.Bits(); bits >= 0 && bits < 31 {
			var brd [4]byte
			binary.BigEndian.PutUint32(brd[:], binary.BigEndian.Uint32(addr)|^uint32(0)>>bits)
			b = appendAttr(b, unix.IFA_BROADCAST, brd[:]...)
		}
		if a.Label != "" {
			b = appendAttr(b, unix.IFA_LABEL, append([]byte(a.Label), 0)...)
		}
	}
	if typ == unix.RTM_NEWADDR && a.Proto != 0 {
		// Kernels before 5.18 parse address requests leniently and skip
		// an attribute they do not know: the tag is simply not kept.
		b = appendAttr(b, ifaProto, a.Proto)
	}
	if typ == unix.RTM_NEWADDR && a.Flags > 0xff {
		b = appendAttr(b, unix.IFA_FLAGS, binary.NativeEndian.AppendUint32(nil, a.Flags)...)
	}
	if typ == unix.RTM_NEWADDR && a.ValidUntil != 0 {
		valid, preferred := a.Lifetimes(time.Now())
		info := binary.NativeEndian.AppendUint32(nil, preferred)
		info = binary.NativeEndian.AppendUint32(info, valid)
		b = appendAttr(b, unix.IFA_CACHEINFO, append(info, make([]byte, 8)...)...) // cstamp, tstamp: the kernel's
	}
	return b
}
