package test

import (
	"bufio"
	"encoding/json"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/rsprep/rsprep/test/nstest"
)

// A busy director: while a client floods its addresses (the VIP and its
// own) with TCP, 100 real servers are probed 10 rounds in one run. Every
// round of every real server answers open, the capture socket drops
// nothing, and what passes its filter is the probes' answers only — not
// the flood, which outnumbers them many times over on the director's link.
// The client is probed too, as a real server without the VIP: lost, so
// every round lasts its whole timeout under the flood.
func TestProbeUnderATCPFlood(t *testing.T) {
	c := newProbeCluster(t)
	all := append(append([]string(nil), c.rips1...), c.rips2...)
	mustRun(t, c.rs1, 0, "dr", "--vip", vip)
	mustRun(t, c.rs2, 0, "dr", "--vip", vip)

	client := nstest.New(t, "cli")
	nstest.Veth(t, client, "eth0", "10.0.0.50/24", c.sw, "pc", "")
	c.sw.Must(t, "ip", "link", "set", "pc", "master", "br0")
	client.Must(t, "ip", "route", "add", vip+"/32", "via", "10.0.0.1")

	rxBefore := c.rxPackets(t)
	flood := exec.Command("ip", "netns", "exec", client.Name, nstest.Build(t, "test/tools/tcpflood"),
		"80000", vip+":80", vip+":443", "10.0.0.1:22", "10.0.0.1:80")
	out, err := flood.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := flood.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { flood.Process.Kill(); flood.Wait() })
	lines := bufio.NewScanner(out)
	if !lines.Scan() || lines.Text() != "flooding" {
		t.Fatalf("tcpflood did not start: %q", lines.Text())
	}

	const rounds, lost = 10, "10.0.0.50"
	r := c.director.Rsprep(t, "probe", "--rip", strings.Join(append(all, lost), ","), "--vip", vip+":80",
		"--count", strconv.Itoa(rounds), "--timeout", "1s", "-o", "json", "-v")
	rx := c.rxPackets(t) - rxBefore
	if r.Code != 1 {
		t.Fatalf("probe under a flood: exit %d, want 1 (%s lost)\n%s\n%s", r.Code, lost, r.Stdout, r.Stderr)
	}
	var res struct {
		Results []struct {
			RIP, State     string
			Sent, Answered int
		}
	}
	if err := json.Unmarshal([]byte(r.Stdout), &res); err != nil || len(res.Results) != len(all)+1 {
		t.Fatalf("probe -o json (%v): %d results, want %d\n%s", err, len(res.Results), len(all)+1, r.Stdout)
	}
	for _, p := range res.Results {
		if p.RIP == lost {
			if p.State != "lost" || p.Answered != 0 {
				t.Errorf("%s (no VIP): %s, %d answers; want lost", p.RIP, p.State, p.Answered)
			}
			continue
		}
		if p.State != "open" || p.Sent != rounds || p.Answered != rounds {
			t.Errorf("%s: %s, %d of %d rounds answered; want open every round", p.RIP, p.State, p.Answered, p.Sent)
		}
	}
	m := regexp.MustCompile(`msg=capture received=(\d+) dropped=(\d+)`).FindStringSubmatch(r.Stderr)
	if m == nil {
		t.Fatalf("no capture counters in probe -v's log:\n%s", r.Stderr)
	}
	received, _ := strconv.Atoi(m[1])
	dropped, _ := strconv.Atoi(m[2])
	answers := rounds * len(all)
	t.Logf("director's eth0 took %d packets during the probe; the capture %d (dropped %d) for %d answers", rx, received, dropped, answers)
	if dropped != 0 {
		t.Errorf("the capture socket dropped %d packets", dropped)
	}
	if received < answers || received > 2*answers {
		t.Errorf("the capture took %d packets for %d answers: the filter lets other traffic in", received, answers)
	}
	if rx < 10*int64(answers) {
		t.Errorf("the flood did not outnumber the answers tenfold (%d packets on the director's link): the test proves nothing", rx)
	}
}

// rxPackets is the director's eth0 received-packet counter.
func (c probeCluster) rxPackets(t *testing.T) int64 {
	t.Helper()
	n, err := strconv.ParseInt(strings.TrimSpace(c.director.Must(t, "cat", "/sys/class/net/eth0/statistics/rx_packets")), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
