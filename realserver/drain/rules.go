// Package drain takes a real server out of the director's rotation without
// failing a request: the director's check (rsprep probe) of this host fails
// while client traffic keeps flowing, and Wait tells when the director has
// stopped sending new connections and the established ones have ended.
//
// The mechanism is one policy routing rule per VIP: what leaves from the
// VIP to the director's address over TCP finds no route
// (`ip rule add from VIP to DIP ipproto tcp priority 7300 unreachable`).
// rsprep probe sends its SYN from the director's own address (the DIP) to
// VIP:port; the real server's SYN-ACK, from the VIP to the DIP, has no
// route, so the real server drops the SYN and the probe sees nothing:
// "lost", exit 1, and keepalived's inhibit_on_failure sets the weight to 0.
// Clients are never the DIP, so their replies (from the VIP to the client)
// route as before. The rules are kernel state only: they end with the
// namespace or a reboot, and carry rsprep's protocol tag and priority,
// which is how rsprep knows them as its own.
package drain

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/rsprep/rsprep/realserver"
)

// Priority is the drain rules' place (realserver.DrainPriority).
const Priority = realserver.DrainPriority

// Pair is one drained VIP and the director address whose probes fail.
type Pair struct {
	VIP, DIP netip.Addr
}

func (p Pair) String() string { return p.VIP.String() + " to " + p.DIP.String() }

// Rule is the pair as `ip rule` shows it.
func (p Pair) Rule() string {
	ip := "ip"
	if p.VIP.Is6() {
		ip = "ip -6"
	}
	return fmt.Sprintf("%s rule add from %s to %s ipproto tcp priority %d unreachable", ip, p.VIP, p.DIP, Priority)
}

// Pairs pairs every VIP with each director address of its family: the
// director probes a VIP from its own address of the VIP's family, and each
// director of a pair (VRRP) probes from its own. A VIP with none is refused.
func Pairs(vips, from []netip.Addr) ([]Pair, error) {
	var out []Pair
	for _, r := range realserver.DrainRules(vips, from) {
		out = append(out, Pair(r))
	}
	for _, v := range vips {
		if !slices.ContainsFunc(out, func(p Pair) bool { return p.VIP == v }) {
			return nil, fmt.Errorf("VIP %s: no director address of its family (have %s): the director probes it from its own IPv%d address; give that with --probe-from",
				v, joinAddrs(from), map[bool]int{true: 4, false: 6}[v.Is4()])
		}
	}
	return out, nil
}

func joinAddrs(as []netip.Addr) string {
	var s []string
	for _, a := range as {
		s = append(s, a.String())
	}
	return strings.Join(s, ", ")
}

// Rules reads and changes the drain rules of the calling thread's network
// namespace.
type Rules struct{ h *netlink.Handle }

// Open opens rtnetlink and sock_diag in the calling thread's namespace.
func Open() (*Rules, error) {
	h, err := netlink.NewHandle(unix.NETLINK_ROUTE, unix.NETLINK_INET_DIAG)
	if err != nil {
		return nil, fmt.Errorf("opening netlink: %w", err)
	}
	return &Rules{h}, nil
}

func (r *Rules) Close() { r.h.Close() }

func hostPrefix(n *net.IPNet) (netip.Addr, bool) {
	if n == nil {
		return netip.Addr{}, false
	}
	ip, ok := netip.AddrFromSlice(n.IP)
	ones, bits := n.Mask.Size()
	return ip.Unmap(), ok && ones == bits && bits > 0
}

// List returns the drain rules in place, both families.
func (r *Rules) List() ([]Pair, error) {
	var rs []netlink.Rule
	var err error
	for range 5 { // a dump the kernel interrupted is read again
		if rs, err = r.h.RuleList(netlink.FAMILY_ALL); !errors.Is(err, netlink.ErrDumpInterrupted) {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("reading the policy rules: %w", err)
	}
	var out []Pair
	for _, x := range rs {
		vip, okV := hostPrefix(x.Src)
		dip, okD := hostPrefix(x.Dst)
		// The dump does not carry the rule's action (vishvananda/netlink
		// leaves it out): rsprep's tag, place and selectors tell its own.
		if okV && okD && x.Priority == Priority && x.Protocol == realserver.AddrProto && x.IPProto == unix.IPPROTO_TCP {
			out = append(out, Pair{VIP: vip, DIP: dip})
		}
	}
	return out, nil
}

func toNetlink(p Pair) *netlink.Rule {
	nr := netlink.NewRule()
	nr.Family, nr.Priority = netlink.FAMILY_V4, Priority
	if p.VIP.Is6() {
		nr.Family = netlink.FAMILY_V6
	}
	nr.Src = &net.IPNet{IP: p.VIP.AsSlice(), Mask: net.CIDRMask(p.VIP.BitLen(), p.VIP.BitLen())}
	nr.Dst = &net.IPNet{IP: p.DIP.AsSlice(), Mask: net.CIDRMask(p.DIP.BitLen(), p.DIP.BitLen())}
	nr.IPProto = unix.IPPROTO_TCP
	nr.Type = unix.FR_ACT_UNREACHABLE
	nr.Protocol = realserver.AddrProto
	return nr
}

// Add puts the rules of pairs in place that are not yet; it returns those
// it added. On an error it removes what it added (the run's rollback).
func (r *Rules) Add(pairs []Pair) (added []Pair, err error) {
	have, err := r.List()
	if err != nil {
		return nil, err
	}
	for _, p := range pairs {
		if slices.Contains(have, p) {
			continue
		}
		if err := r.h.RuleAdd(toNetlink(p)); err != nil && !errors.Is(err, unix.EEXIST) {
			rerr := r.Del(added)
			return nil, errors.Join(fmt.Errorf("%s: %w (the rules this run added were removed)", p.Rule(), err), rerr)
		}
		added = append(added, p)
	}
	return added, nil
}

// Del removes the rules of pairs; absent ones are no error.
func (r *Rules) Del(pairs []Pair) error {
	var errs []error
	for _, p := range pairs {
		err := r.h.RuleDel(toNetlink(p))
		if err != nil && !errors.Is(err, unix.ENOENT) && !errors.Is(err, unix.ESRCH) {
			errs = append(errs, fmt.Errorf("removing the drain rule from %s to %s: %w", p.VIP, p.DIP, err))
		}
	}
	return errors.Join(errs...)
}

// AllIn reports whether every pair of want is in have.
func AllIn(want, have []Pair) bool {
	for _, p := range want {
		if !slices.Contains(have, p) {
			return false
		}
	}
	return true
}

// Of returns the pairs in place whose VIP is one of vips.
func Of(pairs []Pair, vips []netip.Addr) []Pair {
	return slices.DeleteFunc(slices.Clone(pairs), func(p Pair) bool { return !slices.Contains(vips, p.VIP) })
}
