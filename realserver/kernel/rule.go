package kernel

import (
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/rsprep/rsprep/realserver"
)

// Rules implements realserver.Host: the rules of both families that
// select by source only (no mark, interface or other selector), which are
// the kind rsprep makes.
func (h *Host) Rules() ([]realserver.Rule, error) {
	nl, err := h.nl()
	if err != nil {
		return nil, err
	}
	rs, err := retryDump("rule", func() ([]netlink.Rule, error) { return nl.RuleList(netlink.FAMILY_ALL) })
	if err != nil {
		return nil, err
	}
	var out []realserver.Rule
	for _, r := range rs {
		if r.Src == nil || r.Dst != nil || r.IifName != "" || r.OifName != "" || r.Mark > 0 {
			continue
		}
		ip, _ := netip.AddrFromSlice(r.Src.IP)
		ones, _ := r.Src.Mask.Size()
		out = append(out, realserver.Rule{Src: netip.PrefixFrom(ip.Unmap(), ones), Table: r.Table, Priority: r.Priority})
	}
	return out, nil
}

func toNetlinkRule(r realserver.Rule) *netlink.Rule {
	nr := netlink.NewRule()
	nr.Family = netlink.FAMILY_V4
	if r.Src.Addr().Is6() {
		nr.Family = netlink.FAMILY_V6
	}
	nr.Src = &net.IPNet{IP: r.Src.Addr().AsSlice(), Mask: net.CIDRMask(r.Src.Bits(), r.Src.Addr().BitLen())}
	nr.Table = r.Table
	nr.Priority = r.Priority
	return nr
}

// AddRule implements realserver.Host. The request carries NLM_F_EXCL, so
// the kernel answers EEXIST for an identical rule rather than add a twin.
func (h *Host) AddRule(r realserver.Rule) error {
	nl, err := h.nl()
	if err == nil {
		err = nl.RuleAdd(toNetlinkRule(r))
	}
	if err != nil && !errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("ip rule add %s: %w", r, err)
	}
	return nil
}

// DelRule implements realserver.Host.
func (h *Host) DelRule(r realserver.Rule) error {
	nl, err := h.nl()
	if err == nil {
		err = nl.RuleDel(toNetlinkRule(r))
	}
	if err != nil && !isGone(err) {
		return fmt.Errorf("ip rule del %s: %w", r, err)
	}
	return nil
}
