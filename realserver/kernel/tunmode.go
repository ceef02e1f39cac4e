package kernel

import (
	"fmt"
	"runtime"
	"unsafe"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/rsprep/rsprep/realserver"
)

// The tunnel ioctls (include/uapi/linux/if_tunnel.h: SIOCDEVPRIVATE + n).
const (
	siocGetTunnel = unix.SIOCDEVPRIVATE + 0
	siocChgTunnel = unix.SIOCDEVPRIVATE + 3
)

// ip6TnlParm is struct ip6_tnl_parm (include/uapi/linux/ip6_tunnel.h):
// name[16], link, proto, encap_limit, hop_limit, flowinfo, flags, laddr,
// raddr: 64 bytes, proto at offset 20.
type ip6TnlParm [64]byte

const ip6TnlParmProto = 20

// ifreqData is struct ifreq with ifr_data: the name, then a pointer (a
// real pointer, so that the runtime keeps it right if the stack moves).
type ifreqData struct {
	name [unix.IFNAMSIZ]byte
	data unsafe.Pointer
	_    [16]byte
}

// TunnelMode implements realserver.Host from the link dump (IFLA_IPTUN_PROTO).
func (h *Host) TunnelMode(link string) (realserver.TunnelMode, error) {
	nl, err := h.nl()
	if err != nil {
		return 0, err
	}
	l, err := nl.LinkByName(link)
	if err != nil {
		return 0, fmt.Errorf("finding link %s: %w", link, err)
	}
	t, ok := l.(*netlink.Ip6tnl)
	if !ok {
		return 0, fmt.Errorf("%s is a %s device, not ip6tnl", link, l.Type())
	}
	return realserver.TunnelMode(t.Proto), nil
}

// SetTunnelMode implements realserver.Host with SIOCCHGTUNNEL, as `ip -6
// tunnel change` does. Through rtnetlink (`ip link set ip6tnl0 type
// ip6tnl mode any`) the kernel refuses to change the fallback device
// (EINVAL before Linux 6.4 or so); the ioctl changes it on every kernel
// since 2.6, which is why rsprep uses it rather than make a device of its
// own (one with the same wildcard endpoints would collide with ip6tnl0).
//
// The ioctl goes to the device whatever the socket's family (the kernel
// hands a SIOCDEVPRIVATE command the family does not know to dev_ioctl),
// so the socket is a netlink one: the hardened unit allows AF_UNIX,
// AF_NETLINK and AF_PACKET only (systemd.Hardening), not AF_INET6.
func (h *Host) SetTunnelMode(link string, m realserver.TunnelMode) error {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		return fmt.Errorf("changing %s to mode %s: %w", link, m, err)
	}
	defer unix.Close(fd)
	var p ip6TnlParm
	var ifr ifreqData
	copy(ifr.name[:], link)
	ifr.data = unsafe.Pointer(&p)
	// Read the parameters first: SIOCCHGTUNNEL sets all of them.
	err = ioctl(fd, siocGetTunnel, &ifr)
	if err == nil {
		p[ip6TnlParmProto] = byte(m)
		err = ioctl(fd, siocChgTunnel, &ifr)
	}
	runtime.KeepAlive(&p)
	delete(h.links, link)
	if err != nil {
		return fmt.Errorf("changing %s to mode %s (SIOCCHGTUNNEL): %w", link, m, err)
	}
	return nil
}

func ioctl(fd int, req uint, ifr *ifreqData) error {
	_, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), uintptr(req), uintptr(unsafe.Pointer(ifr)))
	if errno != 0 {
		return errno
	}
	return nil
}
