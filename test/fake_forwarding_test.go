package test

import (
	"net/netip"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/rsprep/rsprep/realserver"
	"github.com/rsprep/rsprep/realserver/fake"
)

// The fake's forwarding rules are the kernel's: the same writes, on a
// namespace and on the fake, leave every forwarding key alike. (ip_forward
// is conf/all/forwarding; a write that changes it resets default and every
// interface, one that does not changes nothing; IPv6 conf/all resets them
// on every write; conf/default reaches only interfaces created later.)
func TestFakeForwardingFollowsTheKernel(t *testing.T) {
	rs, _ := realServer(t)
	h := fake.New()
	h.SetLinkUp("lo", true)
	h.AddLink(realserver.Link{Name: "eth0.100", Type: "veth", Up: true})
	h.AddAddrRaw(realserver.Addr{Link: "eth0.100", Prefix: netip.MustParsePrefix("10.0.0.2/24")})

	v4 := func(iface string) realserver.SysctlKey { return realserver.SysctlKey{Iface: iface, Name: "forwarding"} }
	v6 := func(iface string) realserver.SysctlKey {
		return realserver.SysctlKey{Family: "ipv6", Iface: iface, Name: "forwarding"}
	}
	links := []string{"lo", "eth0.100"}
	compare := func(step string) {
		t.Helper()
		keys := []realserver.SysctlKey{realserver.IPForward}
		for _, iface := range append([]string{"all", "default"}, links...) {
			keys = append(keys, v4(iface), v6(iface))
		}
		for _, k := range keys {
			kernel := strings.TrimSpace(rs.Must(t, "cat", "/proc/sys/"+k.Path()))
			got, err := h.Sysctl(k)
			if err != nil {
				t.Fatalf("%s: fake: %v", step, err)
			}
			if strconv.Itoa(got) != kernel {
				t.Errorf("after %s: %s is %s on the kernel, %d on the fake", step, k.Dotted(), kernel, got)
			}
		}
	}
	set := func(k realserver.SysctlKey, v int) {
		t.Helper()
		rs.Must(t, "sysctl", "-qw", k.Dotted()+"="+strconv.Itoa(v))
		if err := h.SetSysctl(k, v); err != nil {
			t.Fatal(err)
		}
		compare(k.Dotted() + "=" + strconv.Itoa(v))
	}
	set(realserver.IPForward, 0) // a new namespace may inherit the host's
	set(realserver.IPForward, 1)
	set(v4("eth0.100"), 0)
	set(realserver.IPForward, 1) // unchanged: eth0.100 keeps 0
	set(v4("all"), 0)            // the same file as ip_forward
	set(realserver.IPForward, 1)
	set(realserver.IPForward, 0)
	set(v4("default"), 1) // reaches no existing interface
	set(v6("all"), 1)
	set(v6("eth0.100"), 0)
	set(v6("all"), 1) // unchanged, yet eth0.100 is reset
	set(v6("default"), 0)
	set(v4("lo"), 7) // any integer

	// An interface created now starts from default.
	if out, err := exec.Command("ip", "link", "add", "new0", "netns", rs.Name, "type", "veth", "peer", "name", "new1", "netns", rs.Name).CombinedOutput(); err != nil {
		t.Fatalf("ip link add: %v: %s", err, out)
	}
	h.AddLink(realserver.Link{Name: "new0", Type: "veth"})
	h.AddLink(realserver.Link{Name: "new1", Type: "veth"})
	links = append(links, "new0", "new1")
	compare("creating new0")
	set(realserver.IPForward, 1)
	set(v6("all"), 0)
}
