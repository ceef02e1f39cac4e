package main

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/rsprep/rsprep/cmd/rsprep/schema"
	"github.com/rsprep/rsprep/realserver/probe"
)

func probeResults() []probe.Result {
	vip := netip.MustParseAddrPort("192.168.79.180:80")
	return []probe.Result{
		{RIP: netip.MustParseAddr("10.0.0.11"), VIP: vip, Encap: probe.IPIP, State: probe.Open, RTT: 412 * time.Microsecond, MSS: 1460, Sent: 1, Answered: 1},
		{RIP: netip.MustParseAddr("10.0.0.12"), VIP: vip, Encap: probe.IPIP, State: probe.Unreachable, RTT: time.Millisecond,
			ICMPType: 3, ICMPCode: 3, ICMPFrom: netip.MustParseAddr("10.0.0.12"), Sent: 1, Answered: 1},
		{RIP: netip.MustParseAddr("10.0.0.13"), VIP: vip, Encap: probe.IPIP, State: probe.Closed, RTT: 2 * time.Millisecond, Sent: 2, Answered: 2},
		{RIP: netip.MustParseAddr("10.0.0.14"), VIP: vip, Encap: probe.IPIP, State: probe.Lost, Sent: 1},
	}
}

// renderProbe is writeProbe of probeResults in format.
func renderProbe(t *testing.T, format string) string {
	t.Helper()
	var b bytes.Buffer
	if err := writeProbe(&b, format, probeResults()); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestProbeText(t *testing.T) {
	want := `10.0.0.11 192.168.79.180:80 ipip open rtt=0.412ms mss=1460
10.0.0.12 192.168.79.180:80 ipip unreachable rtt=1.000ms icmp=3/3 (port unreachable) from=10.0.0.12
10.0.0.13 192.168.79.180:80 ipip closed rtt=2.000ms (RST: the path works, nothing listens on port 80) answered=2/2
10.0.0.14 192.168.79.180:80 ipip lost (no answer from the VIP)
`
	if got := renderProbe(t, "text"); got != want {
		t.Fatalf("got:\n%s\nwant:\n%s", got, want)
	}
}

func TestProbePrometheus(t *testing.T) {
	want := `# HELP rsprep_probe_up Whether VIP:port answered a SYN sent through the real server as IPVS would (1) or not (0), per rsprep probe.
# TYPE rsprep_probe_up gauge
rsprep_probe_up{rip="10.0.0.11",vip="192.168.79.180",port="80",encap="ipip"} 1
rsprep_probe_up{rip="10.0.0.12",vip="192.168.79.180",port="80",encap="ipip"} 0
rsprep_probe_up{rip="10.0.0.13",vip="192.168.79.180",port="80",encap="ipip"} 0
rsprep_probe_up{rip="10.0.0.14",vip="192.168.79.180",port="80",encap="ipip"} 0
# HELP rsprep_probe_rtt_seconds Round-trip time of the probe's answer (median over --count), for real servers that answered.
# TYPE rsprep_probe_rtt_seconds gauge
rsprep_probe_rtt_seconds{rip="10.0.0.11",vip="192.168.79.180",port="80",encap="ipip"} 0.000412
rsprep_probe_rtt_seconds{rip="10.0.0.12",vip="192.168.79.180",port="80",encap="ipip"} 0.001
rsprep_probe_rtt_seconds{rip="10.0.0.13",vip="192.168.79.180",port="80",encap="ipip"} 0.002
# HELP rsprep_probe_mss The TCP MSS the real server offered in its SYN-ACK, for open real servers.
# TYPE rsprep_probe_mss gauge
rsprep_probe_mss{rip="10.0.0.11",vip="192.168.79.180",port="80",encap="ipip"} 1460
`
	if got := renderProbe(t, "prometheus"); got != want {
		t.Fatalf("got:\n%s\nwant:\n%s", got, want)
	}
}

func TestProbeJSON(t *testing.T) {
	out := renderProbe(t, "json")
	var got struct {
		OK      bool
		Results []map[string]any
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	if err := schema.Validate([]byte(out)); err != nil {
		t.Errorf("probe -o json departs from rsprep.schema.json: %v\n%s", err, out)
	}
	if got.OK || len(got.Results) != 4 {
		t.Fatalf("ok %v, %d results:\n%s", got.OK, len(got.Results), out)
	}
	open, unreach, lost := got.Results[0], got.Results[1], got.Results[3]
	if open["state"] != "open" || open["mss"] != 1460.0 || open["rtt_seconds"] != 0.000412 || open["port"] != 80.0 {
		t.Errorf("open: %v", open)
	}
	if unreach["icmp_type"] != 3.0 || unreach["icmp_code"] != 3.0 || unreach["icmp"] != "port unreachable" || unreach["icmp_from"] != "10.0.0.12" {
		t.Errorf("unreachable: %v", unreach)
	}
	if _, has := lost["rtt_seconds"]; has || lost["state"] != "lost" {
		t.Errorf("lost: %v", lost)
	}
}

// Bad input: exit 2, one line, before any socket is opened (so this runs
// unprivileged).
func TestProbeBadInput(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--rip", "10.0.0.11", "--vip", "192.168.79.180"}, "has no port"},
		{[]string{"--rip", "10.0.0.11", "--vip", "[2001:db8::1]"}, "has no port"},
		{[]string{"--rip", "10.0.0.11", "--vip", "192.168.79.180:0"}, "port 0"},
		{[]string{"--rip", "10.0.0.11", "--vip", "192.168.79.180:80", "--encap-port", "6080"}, "for --encap gue only"},
		{[]string{"--rip", "10.0.0.11", "--vip", "192.168.79.180:80", "--encap", "gue", "--encap-port", "0"}, "--encap-port 0"},
		{[]string{"--rip", "10.0.0.11", "--vip", "192.168.79.180:80", "--count", "0"}, "--count 0"},
		{[]string{"--rip", "10.0.0.11", "--vip", "192.168.79.180:80", "--timeout", "-1s"}, "--timeout"},
		{[]string{"--rip", "224.0.0.1", "--vip", "192.168.79.180:80"}, "RIP 224.0.0.1"},
		{[]string{"--rip", "10.0.0.11", "--vip", "192.168.79.180:80", "--interface", ""}, "--interface"},
		{[]string{"--rip", "10.0.0.11", "--vip", "192.168.79.180:80", "extra"}, "unexpected argument"},
		{[]string{"--rip", "10.0.0.11"}, "--vip VIP:PORT"},
	} {
		var stdout, stderr bytes.Buffer
		code := run(append([]string{"probe"}, c.args...), &stdout, &stderr)
		if code != exitUsage || strings.Count(stderr.String(), "\n") != 1 || !strings.Contains(stderr.String(), c.want) || stdout.Len() != 0 {
			t.Errorf("probe %s: exit %d, stderr %q; want 2 and one line with %q", strings.Join(c.args, " "), code, stderr.String(), c.want)
		}
	}
}
