package drain

import (
	"bufio"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestPairs(t *testing.T) {
	a := netip.MustParseAddr
	vip4, vip6 := a("192.168.79.180"), a("2001:db8::180")
	if _, err := Pairs([]netip.Addr{vip4, vip6}, []netip.Addr{a("10.0.0.1")}); err == nil ||
		!strings.Contains(err.Error(), "VIP 2001:db8::180: no director address of its family (have 10.0.0.1)") {
		t.Fatalf("an IPv6 VIP with an IPv4 director only: %v", err)
	}
	p, err := Pairs([]netip.Addr{vip4, vip6}, []netip.Addr{a("10.0.0.1"), a("10.0.0.2"), a("2001:db8::1")})
	var got []string
	for _, x := range p {
		got = append(got, x.Rule())
	}
	want := []string{
		"ip rule add from 192.168.79.180 to 10.0.0.1 ipproto tcp priority 7300 unreachable",
		"ip rule add from 192.168.79.180 to 10.0.0.2 ipproto tcp priority 7300 unreachable",
		"ip -6 rule add from 2001:db8::180 to 2001:db8::1 ipproto tcp priority 7300 unreachable",
	}
	if err != nil || strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("Pairs: %v\n%s", err, strings.Join(got, "\n"))
	}
}

func conn(remotePort uint16, state uint8) Conn {
	return Conn{Local: netip.MustParseAddrPort("192.168.79.180:80"),
		Remote: netip.AddrPortFrom(netip.MustParseAddr("10.0.0.50"), remotePort), State: state}
}

// Progress: what is there at the start is not new; a new connection
// restarts the quiet period; an open one keeps the drain waiting after
// the director stopped; FIN_WAIT2 and TIME_WAIT are done.
func TestProgress(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	p := Progress{Quiet: 5 * time.Second}
	p.Start(t0, []Conn{conn(1, tcpEstablished)})
	if why := p.Why(at(0.5)); why != "no new connection for 500ms yet, of the 5s (--quiet) that show the director has stopped" {
		t.Fatalf("before any new connection: %q", why)
	}
	for _, step := range []struct {
		at          float64
		conns       []Conn
		stopped     bool
		done        bool
		newSoFar    int
		whyContains string
	}{
		{1, []Conn{conn(1, tcpEstablished), conn(2, tcpSynRecv)}, false, false, 1, "still sends new connections"},
		{4, []Conn{conn(1, tcpEstablished), conn(2, tcpTimeWait)}, false, false, 1, "the last 3s ago"},
		{6.5, []Conn{conn(1, tcpEstablished), conn(2, tcpTimeWait)}, true, false, 1, "1 connections to the VIPs still open: 192.168.79.180:80 from 10.0.0.50:1 (ESTABLISHED)"},
		{7, []Conn{conn(1, tcpFinWait2), conn(2, tcpTimeWait)}, true, true, 1, "0 connections"},
		{8, []Conn{conn(3, tcpNewSynRecv)}, false, false, 2, "still sends"},
		{13, []Conn{conn(3, tcpCloseWait)}, true, false, 2, "(CLOSE_WAIT)"},
		{14, nil, true, true, 2, "0 connections"},
	} {
		now := at(step.at)
		p.Observe(now, step.conns)
		if p.Stopped(now) != step.stopped || p.Done(now) != step.done || p.NewConnections() != step.newSoFar || !strings.Contains(p.Why(now), step.whyContains) {
			t.Fatalf("at %gs: stopped %v done %v new %d why %q; want %v %v %d %q", step.at, p.Stopped(now), p.Done(now), p.NewConnections(), p.Why(now),
				step.stopped, step.done, step.newSoFar, step.whyContains)
		}
	}
}

// /proc/net/tcp and tcp6, as a kernel without TCP sock_diag shows them:
// addresses in host-order words, IPv4 on an IPv6 socket as ::ffff:VIP.
func TestParseProcTCP(t *testing.T) {
	const tcp4 = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0 100 0 0 10 0
   1: 6400000A:0050 3200000A:A1B2 01 00000000:00000000 00:00000000 00000000     0        0 2 1 0 20 4 30 10 -1
   2: 0B00000A:0016 3200000A:C000 01 00000000:00000000 00:00000000 00000000     0        0 3 1 0 20 4 30 10 -1
`
	const tcp6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0000000000000000FFFF00006400000A:0050 0000000000000000FFFF00003200000A:D431 06 00000000:00000000 03:00000F9B 00000000     0        0 0 3 0
`
	vips := []netip.Addr{netip.MustParseAddr("10.0.0.100")}
	var got []string
	for _, table := range []string{tcp4, tcp6} {
		conns, err := parseProcTCP(bufio.NewScanner(strings.NewReader(table)), vips)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range conns {
			got = append(got, c.String())
		}
	}
	want := "10.0.0.100:80 from 10.0.0.50:41394 (ESTABLISHED); 10.0.0.100:80 from 10.0.0.50:54321 (TIME_WAIT)"
	if strings.Join(got, "; ") != want {
		t.Fatalf("got  %s\nwant %s", strings.Join(got, "; "), want)
	}
	if _, err := parseProcTCP(bufio.NewScanner(strings.NewReader("h\n 0: zz:0050 00000000:0000 01\n")), vips); err == nil {
		t.Fatal("a line that is no socket was read as one")
	}
}
