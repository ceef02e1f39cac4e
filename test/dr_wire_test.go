package test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rsprep/rsprep/test/nstest"
)

// whoAnswersARP asks from ns, over dev, who has ip: it routes ip onto the
// link, sends one UDP datagram to it, and reads the neighbour entry. It
// returns the MAC that answered, or "" when the kernel gave up (FAILED).
func whoAnswersARP(t *testing.T, ns *nstest.NS, dev, ip string) string {
	t.Helper()
	ns.Exec("ip", "neigh", "del", ip, "dev", dev)
	ns.Must(t, "ip", "route", "replace", ip+"/32", "dev", dev)
	ns.Must(t, "bash", "-c", "echo probe > /dev/udp/"+ip+"/9")
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		// "192.168.79.180 lladdr 16:b7:58:ca:99:51 REACHABLE" or "… FAILED"
		f := strings.Fields(ns.Must(t, "ip", "neigh", "show", ip, "dev", dev))
		for i, w := range f {
			switch {
			case w == "lladdr" && i+1 < len(f):
				return f[i+1]
			case w == "FAILED":
				return ""
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("ARP for %s from %s neither answered nor failed within 10s", ip, ns.Name)
	return ""
}

// Before rsprep, a VIP on lo makes the real server answer ARP for it (the
// ARP flux that steals the director's traffic); after `rsprep dr`, nobody
// on the link does.
func TestDRSilencesARPForTheVIP(t *testing.T) {
	rs, peer := realServer(t)
	rs.Must(t, "ip", "addr", "add", vip+"/32", "dev", "lo") // the half-done classic setup
	if got, want := whoAnswersARP(t, peer, "eth0", vip), rs.MAC(t, "eth0.100"); got != want {
		t.Fatalf("before rsprep: ARP for the VIP answered by %q, want the real server %s (else this test proves nothing)", got, want)
	}
	mustRun(t, rs, 0, "dr", "--vip", vip)
	if got := whoAnswersARP(t, peer, "eth0", vip); got != "" {
		t.Fatalf("after rsprep dr: ARP for the VIP answered by %s, want nobody", got)
	}
	// The real server still answers for its own address.
	if got, want := whoAnswersARP(t, peer, "eth0", "10.0.0.2"), rs.MAC(t, "eth0.100"); got != want {
		t.Fatalf("after rsprep dr: ARP for the RIP answered by %q, want %s", got, want)
	}
}

// drCluster is LVS-DR on one LAN: a client, a director and two real
// servers on a bridge. The director is imitated by a router with a
// multipath route for the VIP: it keeps dst=VIP and rewrites only the
// destination MAC, exactly as IPVS-DR does.
type drCluster struct {
	client, director, rs1, rs2 *nstest.NS
}

func newDRCluster(t *testing.T) drCluster {
	sw := nstest.New(t, "sw")
	sw.Must(t, "ip", "link", "add", "br0", "type", "bridge")
	sw.Must(t, "ip", "link", "set", "br0", "up")
	c := drCluster{nstest.New(t, "cli"), nstest.New(t, "dir"), nstest.New(t, "rs1"), nstest.New(t, "rs2")}
	for i, m := range []struct {
		ns   *nstest.NS
		addr string
	}{{c.client, "10.0.0.10/24"}, {c.director, "10.0.0.1/24"}, {c.rs1, "10.0.0.11/24"}, {c.rs2, "10.0.0.12/24"}} {
		port := "p" + strconv.Itoa(i)
		nstest.Veth(t, m.ns, "eth0", m.addr, sw, port, "")
		sw.Must(t, "ip", "link", "set", port, "master", "br0")
	}
	c.director.Sh(t, `
		sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.send_redirects=0 net.ipv4.conf.eth0.send_redirects=0
		sysctl -qw net.ipv4.fib_multipath_hash_policy=1
		ip route add `+vip+`/32 nexthop via 10.0.0.11 nexthop via 10.0.0.12`)
	c.client.Must(t, "ip", "route", "add", vip+"/32", "via", "10.0.0.1")
	for i, rs := range []*nstest.NS{c.rs1, c.rs2} {
		rs.Serve(t, "rs"+strconv.Itoa(i+1))
	}
	return c
}

func packets(t *testing.T, ns *nstest.NS, dir string) int {
	n, err := strconv.Atoi(strings.TrimSpace(ns.Must(t, "cat", "/sys/class/net/eth0/statistics/"+dir+"_packets")))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// The DR data path: requests to the VIP reach both real servers through the
// director, and the replies go straight back to the client.
func TestDRDataPath(t *testing.T) {
	c := newDRCluster(t)
	if got := c.client.Get(t, "http://"+vip+"/", 1); !strings.HasPrefix(got[0], "ERR") {
		t.Fatalf("before rsprep the VIP answered %q: the real servers must not accept it yet", got)
	}
	for _, rs := range []*nstest.NS{c.rs1, c.rs2} {
		mustRun(t, rs, 0, "dr", "--vip", vip)
	}
	c.client.Get(t, "http://"+vip+"/", 1) // warm up ARP caches before counting

	const n = 20
	dirRx, cliTx := packets(t, c.director, "rx"), packets(t, c.client, "tx")
	rsTx := packets(t, c.rs1, "tx") + packets(t, c.rs2, "tx")
	answers := c.client.Get(t, "http://"+vip+"/", n)
	dirRx, cliTx = packets(t, c.director, "rx")-dirRx, packets(t, c.client, "tx")-cliTx
	rsTx = packets(t, c.rs1, "tx") + packets(t, c.rs2, "tx") - rsTx

	count := map[string]int{}
	for _, a := range answers {
		count[a]++
	}
	t.Logf("answers: %v; packets: client sent %d, director received %d, real servers sent %d", count, cliTx, dirRx, rsTx)
	if count["rs1"] == 0 || count["rs2"] == 0 || count["rs1"]+count["rs2"] != n {
		t.Fatalf("want all %d requests answered by both real servers, got %v", n, count)
	}
	// Replies bypass the director: it received what the client sent (plus a
	// few ARP packets at most), not the real servers' replies on top.
	if rsTx < n || dirRx > cliTx+4 {
		t.Fatalf("replies passed the director: it received %d packets, the client sent %d, the real servers %d", dirRx, cliTx, rsTx)
	}
}
