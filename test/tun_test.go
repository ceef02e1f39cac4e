package test

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// kernelHasIpip reports whether this kernel can provide ipip, loaded,
// built in, or loadable.
func kernelHasIpip() bool {
	if _, err := os.Stat("/sys/module/ipip"); err == nil {
		return true
	}
	return kernelHasModprobe("ipip")
}

// kernelHasModprobe reports whether modprobe can find a module.
func kernelHasModprobe(module string) bool {
	return exec.Command("modprobe", "--dry-run", module).Run() == nil
}

// TUN itself is proven in the VM lab, with real ipip and IPVS. On a kernel
// without ipip (the CI host's own) `rsprep tun` must say so in one line,
// exit 3 and leave the namespace as it was; on a kernel with it, the full
// cycle must work.
func TestTUNOnThisKernel(t *testing.T) {
	rs, _ := realServer(t)
	before := rs.Snapshot(t)
	dry := mustRun(t, rs, 0, "tun", "--vip", vip, "--dry-run")
	if !kernelHasIpip() {
		if !strings.HasPrefix(dry.Stdout, "modprobe ipip\n") {
			t.Errorf("the plan does not start by loading ipip:\n%s", dry.Stdout)
		}
		r := mustRun(t, rs, 3, "tun", "--vip", vip)
		if strings.Count(r.Stderr, "\n") != 1 || !strings.HasPrefix(r.Stderr, "rsprep: the kernel cannot provide ipip (") ||
			!strings.Contains(r.Stderr, "tun needs the ipip module; nothing was changed") {
			t.Errorf("stderr %q, want one line saying the kernel cannot provide ipip", r.Stderr)
		}
		if after := rs.Snapshot(t); after != before {
			t.Errorf("a failed rsprep tun changed the namespace:\nbefore:\n%s\nafter:\n%s", before, after)
		}
		return
	}
	mustRun(t, rs, 0, "tun", "--vip", vip)
	r := mustRun(t, rs, 0, "verify", "tun", "--vip", vip)
	for _, want := range []string{"ok   module.ipip", "ok   link.tunl0", "ok   rp.filter tunl0", "ok   vip.bound " + vip + " want " + vip + "/32 on tunl0"} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("verify: missing %q in\n%s", want, r.Stdout)
		}
	}
	mustRun(t, rs, 0, "down", "tun", "--vip", vip)
	// Down gives everything back but tunl0, which the ipip module made
	// (rsprep never unloads a module): that must be down again, with the
	// values it was created with (conf/default's before rsprep).
	after := rs.Snapshot(t)
	var rest []string
	for _, l := range strings.Split(strings.TrimSpace(after), "\n") {
		switch {
		case strings.HasPrefix(l, "link tunl0"):
			if strings.Contains(l, ",UP") || strings.Contains(l, "<UP") {
				t.Errorf("down left tunl0 up: %s", l)
			}
		case strings.HasPrefix(l, "sysctl tunl0/"):
			name, val, _ := strings.Cut(strings.TrimPrefix(l, "sysctl tunl0/"), "=")
			if want := "sysctl default/" + name + "=" + val; !strings.Contains(before, want+"\n") {
				t.Errorf("down left %s, want the value conf/default had before rsprep", l)
			}
		default:
			rest = append(rest, l)
		}
	}
	if got := strings.Join(rest, "\n") + "\n"; got != before {
		t.Errorf("down did not give the namespace back (tunl0 aside):\n%s", diffLines(before, got))
	}
}

func TestTUNBadInputChangesNothing(t *testing.T) {
	rs, _ := realServer(t)
	for _, c := range []struct{ want, args string }{
		{`--rp-filter "strict": want off (0, the default) or loose (2)`, "tun --vip " + vip + " --rp-filter strict"},
		{`--rp-filter "1"`, "verify tun --vip " + vip + " --rp-filter 1"},
		{"--rp-filter loose: rp_filter is IPv4 only, and every VIP is IPv6", "tun --vip 2001:db8::80 --rp-filter loose"},
		{"tun needs at least one --vip", "tun --rp-filter loose"},
		{"VIP 10.0.0.2 is this host's own address", "tun --vip 10.0.0.2"},
		{"--dip 10.0.0.2 is this host's own address", "tun --vip " + vip + " --dip 10.0.0.2"},
		{"--dip 192.0.2.1: this host has no route to it", "tun --vip " + vip + " --dip 192.0.2.1"},
		{`--forwarding "on"`, "tun --vip " + vip + " --forwarding on"},
	} {
		t.Run(c.args, func(t *testing.T) { mustReject(t, rs, c.want, strings.Fields(c.args)...) })
	}
}
