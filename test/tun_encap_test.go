package test

import (
	"os"
	"strings"
	"testing"
)

// kernelHas reports whether this kernel can provide a module, loaded,
// built in, or loadable.
func kernelHas(module string) bool {
	if _, err := os.Stat("/sys/module/" + module); err == nil {
		return true
	}
	return kernelHasModprobe(module)
}

// GUE and GRE are proven in the VM lab. On this host's kernel the real
// netlink paths still run: verify reads the fou generic netlink family
// (absent: module.fou fails, with its fix) and the rules, and a kernel
// without the module makes apply exit 3 naming it, changing nothing.
func TestEncapsulationsOnThisKernel(t *testing.T) {
	for _, tc := range []struct {
		name, module string
		args         []string
		verify       []string // lines verify prints when the module is missing
	}{
		{"gue", "fou", []string{"--encap", "gue", "--encap-port", "6080"},
			[]string{"FAIL module.fou fou want loaded got not loaded — fix: modprobe fou", "FAIL fou.port 6080/ipv4 want ip fou port 6080 gue got absent — fix: ip fou add port 6080 gue"}},
		{"gre", "ip_gre", []string{"--encap", "gre"},
			[]string{"FAIL module.ip_gre ip_gre want gre0 of type gre got no gre0"}},
		{"ipv6 underlay", "ip6_tunnel", []string{"--underlay", "ipv6", "--mss", "1400"},
			[]string{"FAIL module.ip6_tunnel ip6_tunnel want ip6tnl0 of type ip6tnl got no ip6tnl0", "FAIL mss.clamp " + vip + " want ip rule from " + vip + "/32 lookup 7301 pref 7301 got absent"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if kernelHas(tc.module) || kernelHas("ipip") {
				t.Skipf("this kernel has %s or ipip: the VM lab covers it", tc.module)
			}
			rs, _ := realServer(t)
			before := rs.Snapshot(t)
			args := append([]string{"--vip", vip}, tc.args...)
			r := mustRun(t, rs, 1, append([]string{"verify", "tun"}, args...)...)
			for _, want := range tc.verify {
				if !strings.Contains("\n"+r.Stdout, "\n"+want) {
					t.Errorf("verify: missing %q in\n%s", want, r.Stdout)
				}
			}
			r = mustRun(t, rs, 3, append([]string{"tun"}, args...)...)
			if strings.Count(r.Stderr, "\n") != 1 || !strings.Contains(r.Stderr, "rsprep: the kernel cannot provide ") ||
				!strings.Contains(r.Stderr, "nothing was changed") {
				t.Errorf("stderr %q, want one line saying which module the kernel cannot provide", r.Stderr)
			}
			if after := rs.Snapshot(t); after != before {
				t.Errorf("a failed rsprep tun changed the namespace:\nbefore:\n%s\nafter:\n%s", before, after)
			}
		})
	}
}
