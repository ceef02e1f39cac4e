package test

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rsprep/rsprep/test/nstest"
)

// probeCluster is one LAN: a director-like namespace that holds the VIP
// (so the real servers' answers from the VIP are martians to its IP stack,
// as on a real director) and two real servers, each with many RIPs so that
// one run probes 100 of them. rs1 offers MSS 1234 (advmss on its route).
type probeCluster struct {
	sw, director, rs1, rs2 *nstest.NS
	rips1, rips2           []string
}

func newProbeCluster(t *testing.T) probeCluster {
	sw := nstest.New(t, "sw")
	sw.Sh(t, "ip link add br0 type bridge && ip link set br0 up")
	c := probeCluster{sw: sw, director: nstest.New(t, "dir"), rs1: nstest.New(t, "rs1"), rs2: nstest.New(t, "rs2")}
	for i, m := range []struct {
		ns   *nstest.NS
		addr string
	}{{c.director, "10.0.0.1/24"}, {c.rs1, "10.0.0.11/24"}, {c.rs2, "10.0.0.12/24"}} {
		port := "p" + strconv.Itoa(i)
		nstest.Veth(t, m.ns, "eth0", m.addr, sw, port, "")
		sw.Must(t, "ip", "link", "set", port, "master", "br0")
		m.ns.Must(t, "ip", "link", "set", "lo", "up")
	}
	c.director.Must(t, "ip", "addr", "add", vip+"/32", "dev", "eth0")
	c.rips1, c.rips2 = []string{"10.0.0.11"}, []string{"10.0.0.12"}
	for i := 100; i < 198; i++ {
		ns, rips := c.rs1, &c.rips1
		if i >= 149 {
			ns, rips = c.rs2, &c.rips2
		}
		ip := "10.0.0." + strconv.Itoa(i)
		ns.Must(t, "ip", "addr", "add", ip+"/24", "dev", "eth0")
		*rips = append(*rips, ip)
	}
	c.rs1.Must(t, "ip", "route", "replace", "10.0.0.0/24", "dev", "eth0", "src", "10.0.0.11", "advmss", "1234")
	c.rs1.Serve(t, "rs1")
	c.rs2.Serve(t, "rs2")
	return c
}

type probeJSON struct {
	OK      bool `json:"ok"`
	Results []struct {
		RIP, VIP, Encap, State string
		Port                   int
		MSS                    int      `json:"mss"`
		RTT                    *float64 `json:"rtt_seconds"`
		ICMP                   string
	} `json:"results"`
}

// probe runs rsprep probe in the director's namespace and returns the
// state of each RIP (and its MSS when open).
func (c probeCluster) probe(t *testing.T, wantCode int, port string, rips []string, extra ...string) map[string]string {
	t.Helper()
	args := append([]string{"probe", "--rip", strings.Join(rips, ","), "--vip", vip + ":" + port, "-o", "json"}, extra...)
	r := c.director.Rsprep(t, args...)
	if r.Code != wantCode {
		t.Fatalf("rsprep %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.Code, wantCode, r.Stdout, r.Stderr)
	}
	var out probeJSON
	if err := json.Unmarshal([]byte(r.Stdout), &out); err != nil {
		t.Fatalf("rsprep probe -o json: %v\n%s", err, r.Stdout)
	}
	if len(out.Results) != len(rips) {
		t.Fatalf("want %d results, got %d:\n%s", len(rips), len(out.Results), r.Stdout)
	}
	states := map[string]string{}
	for _, res := range out.Results {
		s := res.State
		if s == "open" {
			s += " mss=" + strconv.Itoa(res.MSS)
		}
		states[res.RIP] = s
	}
	return states
}

// wantStates checks every RIP of rips has the state want.
func wantStates(t *testing.T, when string, got map[string]string, rips []string, want string) {
	t.Helper()
	for _, rip := range rips {
		if got[rip] != want {
			t.Fatalf("%s: %s is %q, want %q (all: %v)", when, rip, got[rip], want, got)
		}
	}
}

// noHalfOpen fails when a real server still holds a half-open connection
// from a probe: rsprep must answer each SYN-ACK with RST.
func noHalfOpen(t *testing.T, rss ...*nstest.NS) {
	t.Helper()
	for _, rs := range rss {
		if out := strings.TrimSpace(rs.Must(t, "ss", "-Htan", "state", "syn-recv")); out != "" {
			t.Fatalf("half-open connections left on %s after the probe:\n%s", rs.Name, out)
		}
	}
}

// rsprep probe sees the DR data path of each real server as IPVS uses it:
// lost before rsprep dr, open after (with the MSS each offers), closed when
// nothing listens, lost again for the one whose VIP was removed. 100 RIPs
// are probed at once.
func TestProbeDR(t *testing.T) {
	c := newProbeCluster(t)
	all := append(append([]string(nil), c.rips1...), c.rips2...)

	nstest.Rsprep(t) // built before the clock starts
	start := time.Now()
	got := c.probe(t, 1, "80", all, "--timeout", "2s")
	took := time.Since(start)
	wantStates(t, "before rsprep dr", got, all, "lost")
	// One at a time, 100 lost probes would take 200s; at once, about 2s
	// (the bound is generous: CI machines are loaded).
	if took > 40*time.Second {
		t.Fatalf("probing %d lost RIPs with --timeout 2s took %s: they are not probed at once", len(all), took)
	}
	t.Logf("%d lost RIPs probed in %s", len(all), took)

	mustRun(t, c.rs1, 0, "dr", "--vip", vip)
	mustRun(t, c.rs2, 0, "dr", "--vip", vip)
	got = c.probe(t, 0, "80", all, "--timeout", "5s")
	wantStates(t, "after rsprep dr", got, c.rips1, "open mss=1234")
	wantStates(t, "after rsprep dr", got, c.rips2, "open mss=1460")
	noHalfOpen(t, c.rs1, c.rs2)

	two := []string{"10.0.0.11", "10.0.0.12"}
	got = c.probe(t, 1, "81", two, "--timeout", "5s")
	wantStates(t, "nothing on port 81", got, two, "closed")

	c.rs2.Must(t, "ip", "addr", "del", vip+"/32", "dev", "lo")
	got = c.probe(t, 1, "80", two, "--timeout", "2s", "--count", "2")
	wantStates(t, "VIP removed from rs2", got, two[:1], "open mss=1234")
	wantStates(t, "VIP removed from rs2", got, two[1:], "lost")
	noHalfOpen(t, c.rs1, c.rs2)

	// A broken return path: rs2 takes the SYN, but its SYN-ACK goes to a
	// next hop that does not exist. Lost, and rsprep's RST (at ISN+1) ends
	// the half-open connection rs2 would otherwise keep retransmitting.
	mustRun(t, c.rs2, 0, "dr", "--vip", vip)
	c.rs2.Must(t, "ip", "route", "add", "10.0.0.1/32", "via", "10.0.0.99") // nobody answers ARP for .99
	got = c.probe(t, 1, "80", two, "--timeout", "2s")
	wantStates(t, "no way back from rs2", got, two[:1], "open mss=1234")
	wantStates(t, "no way back from rs2", got, two[1:], "lost")
	noHalfOpen(t, c.rs1, c.rs2)
}

// The text and Prometheus outputs carry the same verdicts.
func TestProbeOutputs(t *testing.T) {
	c := newProbeCluster(t)
	mustRun(t, c.rs1, 0, "dr", "--vip", vip)
	// 10.9.9.9 has no route from the director: its own result, the others go on.
	r := c.director.Rsprep(t, "probe", "--rip", "10.0.0.11,10.0.0.12,10.9.9.9", "--vip", vip+":80", "--timeout", "3s")
	lines := strings.Split(strings.TrimSpace(r.Stdout), "\n")
	if r.Code != 1 || len(lines) != 3 || !strings.HasPrefix(lines[0], "10.0.0.11 "+vip+":80 dr open rtt=") ||
		!strings.HasSuffix(lines[0], " mss=1234") || !strings.HasPrefix(lines[1], "10.0.0.12 "+vip+":80 dr lost (no answer") ||
		!strings.HasPrefix(lines[2], "10.9.9.9 "+vip+":80 dr lost (no route to 10.9.9.9") {
		t.Fatalf("text output (exit %d):\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	r = c.director.Rsprep(t, "probe", "--rip", "10.0.0.11,10.0.0.12", "--vip", vip+":80", "--timeout", "3s", "-o", "prometheus")
	labels := func(rip string) string {
		return fmt.Sprintf(`{rip="%s",vip="%s",port="80",encap="dr"}`, rip, vip)
	}
	for _, want := range []string{
		"rsprep_probe_up" + labels("10.0.0.11") + " 1\n",
		"rsprep_probe_up" + labels("10.0.0.12") + " 0\n",
		"rsprep_probe_mss" + labels("10.0.0.11") + " 1234\n",
		"rsprep_probe_rtt_seconds" + labels("10.0.0.11") + " ",
	} {
		if r.Code != 1 || !strings.Contains(r.Stdout, want) {
			t.Fatalf("prometheus output (exit %d) lacks %q:\n%s%s", r.Code, want, r.Stdout, r.Stderr)
		}
	}
	if strings.Contains(r.Stdout, "rsprep_probe_mss"+labels("10.0.0.12")) {
		t.Fatalf("an MSS for a lost real server:\n%s", r.Stdout)
	}
}

// Bad input exits 2 with one line and sends nothing; without CAP_NET_RAW
// the probe exits 3 and says so.
func TestProbeBadInputAndNoPrivilege(t *testing.T) {
	nstest.NeedRoot(t)
	bin := nstest.Rsprep(t)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--rip", "10.0.0.11", "--vip", vip}, "has no port"},
		{[]string{"--rip", "10.0.0.11", "--vip", vip + ":80", "--encap-port", "6080"}, "--encap-port is for --encap gue only"},
		{[]string{"--rip", "10.0.0.11", "--vip", vip + ":80", "--encap", "gue"}, "needs --encap-port"},
		{[]string{"--rip", "10.0.0.11", "--vip", "[2001:db8::1]:80"}, "same family"},
		{[]string{"--rip", "10.0.0.300", "--vip", vip + ":80"}, "not an IP address"},
		{[]string{"--vip", vip + ":80"}, "--rip"},
		{[]string{"--rip", "10.0.0.11", "--vip", vip + ":80", "--encap", "vxlan"}, "want dr, ipip, gue or gre"},
		{[]string{"--rip", "10.0.0.11", "--vip", vip + ":80", "-o", "yaml"}, "--output"},
		{[]string{"--rip", "2001:db8::11", "--vip", vip + ":80", "--encap", "ipip", "--underlay", "ipv4"}, "not an ipv4 address"},
	} {
		out, err := exec.Command(bin, append([]string{"probe"}, c.args...)...).CombinedOutput()
		code := -1
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		if code != 2 || strings.Count(string(out), "\n") != 1 || !strings.HasPrefix(string(out), "rsprep: ") || !strings.Contains(string(out), c.want) {
			t.Errorf("rsprep probe %s: exit %d, want 2 and one line with %q:\n%s", strings.Join(c.args, " "), code, c.want, out)
		}
	}
	// Root without CAP_NET_RAW (dropped from the bounding set before exec).
	out, err := exec.Command("setpriv", "--bounding-set=-net_raw", "--inh-caps=-net_raw", "--",
		bin, "probe", "--rip", "10.0.0.11", "--vip", vip+":80").CombinedOutput()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 3 || !strings.Contains(string(out), "CAP_NET_RAW") {
		t.Fatalf("rsprep probe without CAP_NET_RAW: %v, want exit 3 naming CAP_NET_RAW:\n%s", err, out)
	}
}

// The same over IPv6: the frame to the RIP's MAC from the neighbour table
// (ND), the answer from the VIP, the MSS of an IPv6 path.
func TestProbeDRIPv6(t *testing.T) {
	const vip6 = "2001:db8::180"
	sw := nstest.New(t, "sw")
	sw.Sh(t, "ip link add br0 type bridge && ip link set br0 up")
	dir, rs1, rs2 := nstest.New(t, "dir"), nstest.New(t, "rs1"), nstest.New(t, "rs2")
	for i, m := range []struct {
		ns   *nstest.NS
		addr string
	}{{dir, "fd00::1"}, {rs1, "fd00::11"}, {rs2, "fd00::12"}} {
		port := "p" + strconv.Itoa(i)
		nstest.Veth(t, m.ns, "eth0", "", sw, port, "")
		sw.Must(t, "ip", "link", "set", port, "master", "br0")
		m.ns.Sh(t, "ip link set lo up && ip addr add "+m.addr+"/64 dev eth0 nodad")
	}
	dir.Must(t, "ip", "addr", "add", vip6+"/128", "dev", "eth0", "nodad")
	rs1.Serve(t, "rs1")
	probe := func(want int) string {
		t.Helper()
		r := dir.Rsprep(t, "probe", "--rip", "fd00::11,fd00::12", "--vip", "["+vip6+"]:80", "--timeout", "3s")
		if r.Code != want {
			t.Fatalf("rsprep probe: exit %d, want %d\n%s%s", r.Code, want, r.Stdout, r.Stderr)
		}
		var states []string
		for _, l := range strings.Split(strings.TrimSpace(r.Stdout), "\n") {
			f := strings.Fields(l)
			if len(f) < 4 {
				t.Fatalf("rsprep probe printed %q", r.Stdout)
			}
			s := f[3]
			for _, w := range f[4:] {
				if strings.HasPrefix(w, "mss=") || strings.HasPrefix(w, "icmp=") {
					s += " " + w
				}
			}
			states = append(states, s)
		}
		return strings.Join(states, ", ")
	}
	// Without the VIP, an IPv6 real server (forwarding off) answers a packet
	// for an address it does not have with ICMPv6 "no route" (1/0).
	if got := probe(1); got != "unreachable icmp=1/0, unreachable icmp=1/0" {
		t.Fatalf("before rsprep dr: %s, want unreachable icmp=1/0 from both", got)
	}
	mustRun(t, rs1, 0, "dr", "--vip", vip6)
	mustRun(t, rs2, 0, "dr", "--vip", vip6)
	if got := probe(1); got != "open mss=1440, closed" { // nothing listens on rs2
		t.Fatalf("after rsprep dr: %s, want open mss=1440, closed", got)
	}
	noHalfOpen(t, rs1, rs2)
}

// Every encapsulation, over both underlays and with both inner families,
// reaches the real server as a packet its kernel parses: the host kernel
// has no ipip, sit, ip6_tunnel, GRE or fou, so the real server answers
// each with the ICMP error that names what it lacks, quoting the probe —
// and rsprep finds the probe in the quote. (The VM lab shows the same
// packets answered by a real server with the tunnel up.)
func TestProbeEncapsulationsOnTheWire(t *testing.T) {
	sw := nstest.New(t, "sw")
	sw.Sh(t, "ip link add br0 type bridge && ip link set br0 up")
	dir, rs := nstest.New(t, "dir"), nstest.New(t, "rs")
	for i, m := range []struct {
		ns     *nstest.NS
		v4, v6 string
	}{{dir, "10.0.0.1/24", "fd00::1/64"}, {rs, "10.0.0.11/24", "fd00::11/64"}} {
		port := "p" + strconv.Itoa(i)
		nstest.Veth(t, m.ns, "eth0", m.v4, sw, port, "")
		sw.Must(t, "ip", "link", "set", port, "master", "br0")
		m.ns.Sh(t, "ip link set lo up && ip addr add "+m.v6+" dev eth0 nodad")
	}
	// Every probe draws an ICMP error: no rate limit may swallow one.
	rs.Must(t, "sysctl", "-qw", "net.ipv4.icmp_ratelimit=0", "net.ipv6.icmp.ratelimit=0")
	const vips = vip + ":80,[2001:db8::180]:80"
	for _, c := range []struct {
		encap []string
		want  map[string]string // "RIP VIP" → state and ICMP type/code
	}{
		{[]string{"--encap", "ipip"}, map[string]string{ // 3/2 protocol unreachable; 4/1 unrecognised next header
			"10.0.0.11 " + vip: "unreachable 3/2", "10.0.0.11 2001:db8::180": "unreachable 3/2",
			"fd00::11 " + vip: "unreachable 4/1", "fd00::11 2001:db8::180": "unreachable 4/1"}},
		{[]string{"--encap", "gre"}, map[string]string{
			"10.0.0.11 " + vip: "unreachable 3/2", "10.0.0.11 2001:db8::180": "unreachable 3/2",
			"fd00::11 " + vip: "unreachable 4/1", "fd00::11 2001:db8::180": "unreachable 4/1"}},
		{[]string{"--encap", "gue", "--encap-port", "6080"}, map[string]string{ // nothing on the fou port: port unreachable
			"10.0.0.11 " + vip: "unreachable 3/3", "10.0.0.11 2001:db8::180": "unreachable 3/3",
			"fd00::11 " + vip: "unreachable 1/4", "fd00::11 2001:db8::180": "unreachable 1/4"}},
	} {
		args := append([]string{"probe", "--rip", "10.0.0.11,fd00::11", "--vip", vips, "--timeout", "3s", "-o", "json"}, c.encap...)
		r := dir.Rsprep(t, args...)
		var out struct {
			Results []struct {
				RIP, VIP, State string
				ICMPFrom        string `json:"icmp_from"`
				ICMPType        int    `json:"icmp_type"`
				ICMPCode        int    `json:"icmp_code"`
			}
		}
		if err := json.Unmarshal([]byte(r.Stdout), &out); err != nil || r.Code != 1 {
			t.Fatalf("rsprep %s: exit %d, %v\n%s%s", strings.Join(args, " "), r.Code, err, r.Stdout, r.Stderr)
		}
		got := map[string]string{}
		for _, res := range out.Results {
			got[res.RIP+" "+res.VIP] = fmt.Sprintf("%s %d/%d", res.State, res.ICMPType, res.ICMPCode)
			if res.State == "unreachable" && res.ICMPFrom != res.RIP {
				t.Errorf("%s: the ICMP error about %s came from %s", c.encap, res.RIP, res.ICMPFrom)
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("%s:\n got %v\nwant %v", c.encap, got, c.want)
		}
	}
}
