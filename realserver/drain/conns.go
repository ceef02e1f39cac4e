package drain

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// Conn is one TCP connection to a VIP, as sock_diag (netlink inet_diag)
// reports it: every state but LISTEN, the request sockets of half-open
// connections (SYN_RECV) and TIME_WAIT included.
type Conn struct {
	Local, Remote netip.AddrPort
	State         uint8 // the kernel's TCP state (TCP_ESTABLISHED = 1, …)
}

// TCP states (include/net/tcp_states.h).
const (
	tcpEstablished = 1
	tcpSynRecv     = 3
	tcpFinWait1    = 4
	tcpFinWait2    = 5
	tcpTimeWait    = 6
	tcpClose       = 7
	tcpCloseWait   = 8
	tcpLastAck     = 9
	tcpListen      = 10
	tcpClosing     = 11
	tcpNewSynRecv  = 12
)

var stateNames = map[uint8]string{
	tcpEstablished: "ESTABLISHED", tcpSynRecv: "SYN_RECV", tcpFinWait1: "FIN_WAIT1",
	tcpFinWait2: "FIN_WAIT2", tcpTimeWait: "TIME_WAIT", tcpClose: "CLOSE", tcpCloseWait: "CLOSE_WAIT",
	tcpLastAck: "LAST_ACK", tcpListen: "LISTEN", tcpClosing: "CLOSING", tcpNewSynRecv: "SYN_RECV",
}

// Open reports whether the connection still carries something: data or a
// FIN this host has to send or have acknowledged, or a handshake under
// way. FIN_WAIT2 and TIME_WAIT are done (all this host sent is
// acknowledged, its application has closed), and so is CLOSE.
func (c Conn) Open() bool {
	switch c.State {
	case tcpFinWait2, tcpTimeWait, tcpClose, tcpListen:
		return false
	}
	return true
}

func (c Conn) String() string {
	st := stateNames[c.State]
	if st == "" {
		st = fmt.Sprintf("state %d", c.State)
	}
	return fmt.Sprintf("%s from %s (%s)", c.Local, c.Remote, st)
}

// Connections dumps the TCP sockets of both families whose local address
// is one of vips (LISTEN sockets left out), IPv4-mapped ones as IPv4.
// sock_diag rather than /proc/net/tcp: one netlink dump per family, no
// text to parse, and the same view of request and TIME_WAIT sockets;
// /proc where the kernel has no TCP sock_diag.
func (r *Rules) Connections(vips []netip.Addr) ([]Conn, error) {
	var out []Conn
	// Both families whatever the VIPs': a server listening on [::]:80
	// holds its IPv4 connections as AF_INET6 sockets (::ffff:VIP).
	for _, fam := range []uint8{unix.AF_INET, unix.AF_INET6} {
		var socks []*netlink.Socket
		var err error
		for range 5 {
			if socks, err = r.h.SocketDiagTCP(fam); !errors.Is(err, netlink.ErrDumpInterrupted) {
				break
			}
		}
		if errors.Is(err, unix.ENOENT) {
			// No TCP sock_diag in this kernel (tcp_diag is a module
			// that was not loaded): the same sockets from /proc.
			return procConnections(vips)
		}
		if err != nil {
			return nil, fmt.Errorf("reading the TCP sockets (sock_diag): %w", err)
		}
		for _, s := range socks {
			local, _ := netip.AddrFromSlice(s.ID.Source)
			remote, _ := netip.AddrFromSlice(s.ID.Destination)
			local = local.Unmap()
			if s.State == tcpListen || !slices.Contains(vips, local) {
				continue
			}
			out = append(out, Conn{Local: netip.AddrPortFrom(local, s.ID.SourcePort),
				Remote: netip.AddrPortFrom(remote.Unmap(), s.ID.DestinationPort), State: s.State})
		}
	}
	return out, nil
}

// Describe names up to max connections, for an error line.
func Describe(conns []Conn, max int) string {
	var parts []string
	for i, c := range conns {
		if i == max {
			parts = append(parts, fmt.Sprintf("and %d more", len(conns)-max))
			break
		}
		parts = append(parts, c.String())
	}
	return strings.Join(parts, ", ")
}
