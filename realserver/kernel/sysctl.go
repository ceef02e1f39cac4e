package kernel

import (
	"fmt"
	"strconv"

	sysctl "github.com/lorenzosaino/go-sysctl"

	"github.com/rsprep/rsprep/realserver"
)

const confDir = "/proc/sys/net/ipv4/conf/"

// sysctlClients holds one go-sysctl client per interface, rooted at that
// interface's conf directory. go-sysctl turns every "." of a key into "/",
// so a key built from "eth0.100" would point at conf/eth0/100; rooting the
// client at conf/eth0.100/ leaves only the dot-free leaf name as the key.
type sysctlClients map[string]*sysctl.Client

func (c sysctlClients) client(iface string) (*sysctl.Client, error) {
	if cl, ok := c[iface]; ok {
		return cl, nil
	}
	cl, err := sysctl.NewClient(confDir + iface)
	if err != nil {
		return nil, err
	}
	c[iface] = cl
	return cl, nil
}

// Sysctl implements realserver.Host.
func (h *Host) Sysctl(k realserver.SysctlKey) (int, error) {
	cl, err := h.sysctls.client(k.Iface)
	if err != nil {
		return 0, err
	}
	s, err := cl.Get(k.Name)
	if err != nil {
		return 0, err
	}
	v, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("%s is %q, not a number", k.Dotted(), s)
	}
	return v, nil
}

// SetSysctl implements realserver.Host.
func (h *Host) SetSysctl(k realserver.SysctlKey, v int) error {
	cl, err := h.sysctls.client(k.Iface)
	if err != nil {
		return err
	}
	if err := cl.Set(k.Name, strconv.Itoa(v)); err != nil {
		return fmt.Errorf("writing %s=%d: %w", k.Dotted(), v, err)
	}
	return nil
}
