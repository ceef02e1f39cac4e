package doctor

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// forwarding is issue 19's finding: a dr/tun real server with forwarding
// on routes a packet for a missing VIP (during down, or drift) back
// toward the gateway instead of dropping it. Docker and Kubernetes need
// forwarding, so the finding names them when it can tell; when the mode
// owns forwarding (--forwarding off) it is an invariant, not a risk.
func (d *doctor) forwarding() {
	fp := d.in.Footprint
	if !fp.NotARouter || fp.ForwardingOwned {
		return
	}
	keys := []string{keyIPForward}
	if slices.ContainsFunc(fp.VIPs, func(ip netip.Addr) bool { return ip.Is6() }) {
		keys = append(keys, keyIP6Forward)
	}
	needers := d.forwardingNeeders()
	for _, k := range keys {
		v, source, ok := d.value(k)
		if !ok || v == 0 {
			continue
		}
		f := Finding{
			ID: "ip.forward", Source: source, Subject: dotted(k),
			What: fmt.Sprintf("%s = %d: this real server routes; a packet for a VIP that is missing (during down, or drift) is sent back toward the gateway instead of dropped (loops, ICMP redirects)", dotted(k), v),
			Fix:  fmt.Sprintf("set %s = 0 (rsprep %s --forwarding off owns it, and down restores it)", dotted(k), d.in.Mode),
		}
		if len(needers) > 0 {
			f.What += "; " + strings.Join(needers, ", ") + " need forwarding on"
			f.Fix = "keep it on for " + strings.Join(needers, ", ") + ", and keep the VIPs bound (rsprep watch) so that no VIP packet is routed; or move those workloads off this real server and set it to 0"
		}
		d.add(f)
	}
}

// forwardingNeeders names what on this host needs forwarding: a docker0
// or CNI bridge, kube-proxy or dockerd running.
func (d *doctor) forwardingNeeders() []string {
	var out []string
	for _, l := range d.facts.Links {
		if l.Name == "docker0" || strings.HasPrefix(l.Name, "cni") {
			out = append(out, l.Name+" bridge")
		}
	}
	for _, p := range []string{procKubeProxy, procDocker} {
		if d.facts.running(p) {
			out = append(out, p+" (running)")
		}
	}
	return out
}
