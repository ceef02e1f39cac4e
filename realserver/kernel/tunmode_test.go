package kernel

import (
	"errors"
	"runtime"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// SIOCGETTUNNEL reaches the device from a netlink socket as from an
// AF_INET6 one (the kernel hands a SIOCDEVPRIVATE command the socket's
// family does not know to dev_ioctl): the same answer for a device
// without tunnel ioctls and for one that does not exist, so SetTunnelMode
// needs no address family the hardened unit refuses.
func TestTunnelIoctlFromANetlinkSocket(t *testing.T) {
	get := func(family, typ, proto int, dev string) error {
		fd, err := unix.Socket(family, typ|unix.SOCK_CLOEXEC, proto)
		if err != nil {
			t.Skipf("socket(%d): %v", family, err)
		}
		defer unix.Close(fd)
		var p ip6TnlParm
		var ifr ifreqData
		copy(ifr.name[:], dev)
		ifr.data = unsafe.Pointer(&p)
		err = ioctl(fd, siocGetTunnel, &ifr)
		runtime.KeepAlive(&p)
		return err
	}
	for _, dev := range []string{"lo", "rsprep-none0"} {
		inet6 := get(unix.AF_INET6, unix.SOCK_DGRAM, 0, dev)
		nl := get(unix.AF_NETLINK, unix.SOCK_RAW, unix.NETLINK_ROUTE, dev)
		if nl == nil || !errors.Is(nl, inet6) || errors.Is(nl, unix.ENOTTY) || errors.Is(nl, unix.EAFNOSUPPORT) {
			t.Errorf("SIOCGETTUNNEL %s: netlink socket %v, AF_INET6 socket %v: want the device's answer from both", dev, nl, inet6)
		}
	}
}
