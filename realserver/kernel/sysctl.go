package kernel

import (
	"fmt"
	"os"
	"strconv"

	sysctl "github.com/lorenzosaino/go-sysctl"

	"github.com/rsprep/rsprep/realserver"
)

const procSys = "/proc/sys/"

// sysctlClients holds one go-sysctl client per directory (an interface's
// conf directory, or net/ipv4 itself for ip_forward). go-sysctl turns
// every "." of a key into "/", so a key built from "eth0.100" would point
// at conf/eth0/100; rooting the client at conf/eth0.100/ leaves only the
// dot-free leaf name as the key.
type sysctlClients map[string]*sysctl.Client

func (c sysctlClients) client(k realserver.SysctlKey) (*sysctl.Client, error) {
	dir := k.Dir()
	if cl, ok := c[dir]; ok {
		return cl, nil
	}
	// Stat first: go-sysctl's own "does not exist" is not fs.ErrNotExist,
	// and a caller may need to tell a missing key (a device without IPv4)
	// from a failing one.
	if _, err := os.Stat(procSys + dir); err != nil {
		return nil, err
	}
	cl, err := sysctl.NewClient(procSys + dir)
	if err != nil {
		return nil, err
	}
	c[dir] = cl
	return cl, nil
}

// Sysctl implements realserver.Host.
func (h *Host) Sysctl(k realserver.SysctlKey) (int, error) {
	cl, err := h.sysctls.client(k)
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
	cl, err := h.sysctls.client(k)
	if err != nil {
		return err
	}
	if err := cl.Set(k.Name, strconv.Itoa(v)); err != nil {
		return fmt.Errorf("writing %s=%d: %w", k.Dotted(), v, err)
	}
	return nil
}
