package kernel

import (
	"errors"
	"io/fs"
	"os"
	"strings"
	"testing"

	"github.com/rsprep/rsprep/realserver"
)

// Sysctls are read and written at the interface's own conf directory,
// dots in its name and all (a VLAN's "eth0.100" is conf/eth0.100, not
// conf/eth0/100), and what they write is what /proc/sys then holds; a key
// the kernel does not have is fs.ErrNotExist, not a failure to read.
func TestSysctlReadsAndWritesTheInterfacesOwnFile(t *testing.T) {
	inFreshNetns(t, func(h *Host) {
		ip(t, "link", "add", "rs0.100", "type", "veth", "peer", "name", "rs1")
		k := realserver.SysctlKey{Iface: "rs0.100", Name: "arp_announce"}
		file := "/proc/sys/net/ipv4/conf/rs0.100/arp_announce"
		for _, want := range []int{2, 1, 0} {
			if err := h.SetSysctl(k, want); err != nil {
				t.Fatal(err)
			}
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.TrimSpace(string(data)); got != []string{"0", "1", "2"}[want] {
				t.Errorf("after SetSysctl(%d) %s holds %q", want, file, got)
			}
			if got, err := h.Sysctl(k); err != nil || got != want {
				t.Errorf("Sysctl after SetSysctl(%d) = %d, %v", want, got, err)
			}
		}
		if got, err := h.Sysctl(realserver.IPForward); err != nil || got != 0 {
			t.Errorf("ip_forward (a key of the family, no interface) = %d, %v; want 0", got, err)
		}
		for _, missing := range []realserver.SysctlKey{
			{Iface: "nosuchdev", Name: "arp_ignore"},
			{Iface: "rs0.100", Name: "no_such_key"},
		} {
			if _, err := h.Sysctl(missing); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("Sysctl(%v) = %v, want fs.ErrNotExist", missing, err)
			}
			if err := h.SetSysctl(missing, 1); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("SetSysctl(%v) = %v, want fs.ErrNotExist", missing, err)
			}
		}
	})
}
