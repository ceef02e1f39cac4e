package drain

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
)

// procConnections reads /proc/net/tcp and /proc/net/tcp6, for a kernel
// whose TCP sock_diag is a module that cannot be loaded (the same sockets,
// request and TIME_WAIT ones included, as text).
func procConnections(vips []netip.Addr) ([]Conn, error) {
	var out []Conn
	for _, name := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		f, err := os.Open(name)
		if err != nil {
			if name == "/proc/net/tcp6" && os.IsNotExist(err) {
				continue // IPv6 disabled
			}
			return nil, fmt.Errorf("reading the TCP sockets: %w", err)
		}
		conns, err := parseProcTCP(bufio.NewScanner(f), vips)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", name, err)
		}
		out = append(out, conns...)
	}
	return out, nil
}

// parseProcTCP reads one /proc/net/tcp{,6} table.
func parseProcTCP(sc *bufio.Scanner, vips []netip.Addr) ([]Conn, error) {
	var out []Conn
	sc.Scan() // the header
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 {
			continue
		}
		local, err1 := procAddrPort(f[1])
		remote, err2 := procAddrPort(f[2])
		st, err3 := strconv.ParseUint(f[3], 16, 8)
		if err1 != nil || err2 != nil || err3 != nil {
			return nil, fmt.Errorf("line %q: not a socket", sc.Text())
		}
		if uint8(st) == tcpListen || !slices.Contains(vips, local.Addr()) {
			continue
		}
		out = append(out, Conn{Local: local, Remote: remote, State: uint8(st)})
	}
	return out, sc.Err()
}

// procAddrPort reads "0100007F:0050": the address as the kernel holds it
// (32-bit words in host order, little-endian here), the port in hex.
func procAddrPort(s string) (netip.AddrPort, error) {
	a, p, ok := strings.Cut(s, ":")
	b, err := hex.DecodeString(a)
	if !ok || err != nil || (len(b) != 4 && len(b) != 16) {
		return netip.AddrPort{}, fmt.Errorf("bad address %q", s)
	}
	for i := 0; i < len(b); i += 4 {
		binary.BigEndian.PutUint32(b[i:], binary.LittleEndian.Uint32(b[i:]))
	}
	port, err := strconv.ParseUint(p, 16, 16)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("bad port %q", s)
	}
	ip, _ := netip.AddrFromSlice(b)
	return netip.AddrPortFrom(ip.Unmap(), uint16(port)), nil
}
