// Command tcpmss is the lab's MSS probe: it connects to ADDR (host:port),
// prints the connection's send MSS as the kernel keeps it (TCP_INFO
// tcpi_snd_mss: the MSS the server advertised in its SYN-ACK, less the
// TCP options both sides use, 12 bytes with timestamps), and closes.
// Busybox has no ss; this is the client-side reading a test can trust.
//
//	tcpmss ADDR
package main

import (
	"fmt"
	"net"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: tcpmss HOST:PORT")
		os.Exit(2)
	}
	c, err := net.DialTimeout("tcp", os.Args[1], 2*time.Second)
	if err != nil {
		fmt.Fprintln(os.Stderr, "tcpmss:", err)
		os.Exit(1)
	}
	defer c.Close()
	raw, err := c.(*net.TCPConn).SyscallConn()
	if err != nil {
		fmt.Fprintln(os.Stderr, "tcpmss:", err)
		os.Exit(1)
	}
	var info *unix.TCPInfo
	cerr := raw.Control(func(fd uintptr) {
		info, err = unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO)
	})
	if cerr != nil || err != nil {
		fmt.Fprintln(os.Stderr, "tcpmss: TCP_INFO:", cerr, err)
		os.Exit(1)
	}
	fmt.Println(info.Snd_mss)
}
