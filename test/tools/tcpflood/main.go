// Command tcpflood is the probe tests' busy director: it sends TCP SYNs
// from random addresses and ports to DST:PORT targets through a raw IPv4
// socket, at up to RATE packets a second, until it is killed. It prints
// "flooding" once the first packet is out, and a count on SIGTERM.
//
//	tcpflood RATE DST:PORT…
package main

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: tcpflood RATE DST:PORT…")
		os.Exit(2)
	}
	rate, err := strconv.Atoi(os.Args[1])
	if err != nil || rate <= 0 {
		fmt.Fprintln(os.Stderr, "tcpflood: RATE:", os.Args[1])
		os.Exit(2)
	}
	var dsts []netip.AddrPort
	for _, a := range os.Args[2:] {
		ap, err := netip.ParseAddrPort(a)
		if err != nil || !ap.Addr().Is4() {
			fmt.Fprintln(os.Stderr, "tcpflood: want IPv4 DST:PORT:", a)
			os.Exit(2)
		}
		dsts = append(dsts, ap)
	}
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_RAW)
	if err != nil {
		fmt.Fprintln(os.Stderr, "tcpflood:", err)
		os.Exit(1)
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	sent, burst := 0, max(rate/1000, 1) // a burst a millisecond
	pkt := make([]byte, 40)
	start := time.Now()
	for {
		select {
		case <-stop:
			fmt.Println(sent)
			return
		default:
		}
		for range burst {
			d := dsts[sent%len(dsts)]
			syn(pkt, 0xc6000000|rand.Uint32()&0x00ffffff, d)
			if err := unix.Sendto(fd, pkt, 0, &unix.SockaddrInet4{Addr: d.Addr().As4()}); err == nil {
				if sent == 0 {
					fmt.Println("flooding")
				}
				sent++
			}
		}
		// Keep to the rate: sleep until the next burst is due.
		if due := start.Add(time.Duration(sent) * time.Second / time.Duration(rate)); time.Until(due) > 0 {
			time.Sleep(time.Until(due))
		}
	}
}

// syn writes an IPv4 TCP SYN from src (an address in 198.0.0.0/8) and a
// random port to d; the kernel fills in the IP checksum, the TCP one is
// left 0 (the receiver's stack drops it after the capture saw it).
func syn(b []byte, src uint32, d netip.AddrPort) {
	clear(b)
	b[0], b[8], b[9] = 0x45, 64, unix.IPPROTO_TCP
	binary.BigEndian.PutUint16(b[2:], uint16(len(b)))
	binary.BigEndian.PutUint32(b[12:], src)
	dst := d.Addr().As4()
	copy(b[16:], dst[:])
	binary.BigEndian.PutUint16(b[20:], uint16(1024+rand.IntN(64000)))
	binary.BigEndian.PutUint16(b[22:], d.Port())
	binary.BigEndian.PutUint32(b[24:], rand.Uint32())
	b[32], b[33] = 5<<4, 0x02 // header length 20, SYN
}
