package hostwide

import (
	"errors"
	"io/fs"
	"strconv"

	"github.com/rsprep/rsprep/realserver"
)

// ForwardingOff is ip.forward (--forwarding off): a real server is not a
// router. With forwarding on, a packet for a VIP the host does not hold
// (during down, or after drift) is routed back out toward the gateway
// instead of dropped: loops, and ICMP redirects on the LAN.
//
// IPv4 forwarding is decided per input interface (IN_DEV_FORWARD reads
// conf/IFACE/forwarding, not ip_forward), so the check covers ip_forward,
// conf/default (interfaces created later inherit it) and every
// interface's own key. The fix writes ip_forward first: the kernel then
// sets default and every interface itself, so the writes after it find
// their value in place. IPv6 forwarding is decided by conf/all alone;
// it is checked only when the mode has an IPv6 VIP. The kernel announces
// a change of any of these keys (netconf), so watch repairs it at once.
func ForwardingOff(ipv6 bool) realserver.Invariant {
	return realserver.OnEvents(realserver.CheckFunc(func(v *realserver.View) ([]realserver.Finding, error) {
		keys := []realserver.SysctlKey{realserver.IPForward, {Iface: "default", Name: "forwarding"}}
		links, err := v.Links()
		if err != nil {
			return nil, err
		}
		for _, l := range links {
			if !l.Loopback {
				keys = append(keys, realserver.SysctlKey{Iface: l.Name, Name: "forwarding"})
			}
		}
		if ipv6 {
			keys = append(keys, realserver.IPv6Forwarding)
		}
		out := make([]realserver.Finding, 0, len(keys))
		for _, k := range keys {
			got, err := v.Sysctl(k)
			if k.PerInterface() && errors.Is(err, fs.ErrNotExist) {
				continue // a device without IPv4 (no in_device) forwards no IPv4
			}
			if err != nil {
				return nil, err
			}
			f := realserver.Finding{ID: "ip.forward", Subject: k.Dotted(), Want: "0", Got: strconv.Itoa(got), OK: got == 0}
			if !f.OK {
				f.Fix = []realserver.Change{{Kind: realserver.KindSysctl, Sysctl: k, From: got, To: 0}}
			}
			out = append(out, f)
		}
		return out, nil
	}), realserver.SysctlEvent(4, "forwarding"), realserver.SysctlEvent(6, "forwarding"))
}
