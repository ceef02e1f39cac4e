package test

import (
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rsprep/rsprep/test/nstest"
)

// drainLAN is one DR segment: a director-like namespace at 10.0.0.1 that
// holds the VIP (the probe's answers are martians to it, as on a real
// director), a real server rs1 at 10.0.0.11 answering HTTP, and a client
// at 10.0.0.50 whose route to the VIP goes to rs1's MAC: the frames IPVS-DR
// would forward, from an address that is not the director's.
type drainLAN struct {
	sw, director, rs1, client *nstest.NS
}

func newDrainLAN(t *testing.T) drainLAN {
	sw := nstest.New(t, "sw")
	sw.Sh(t, "ip link add br0 type bridge && ip link set br0 up")
	l := drainLAN{sw: sw, director: nstest.New(t, "dir"), rs1: nstest.New(t, "rs1"), client: nstest.New(t, "cli")}
	for i, m := range []struct {
		ns   *nstest.NS
		addr string
	}{{l.director, "10.0.0.1/24"}, {l.rs1, "10.0.0.11/24"}, {l.client, "10.0.0.50/24"}} {
		port := "p" + string(rune('0'+i))
		nstest.Veth(t, m.ns, "eth0", m.addr, sw, port, "")
		sw.Must(t, "ip", "link", "set", port, "master", "br0")
		m.ns.Must(t, "ip", "link", "set", "lo", "up")
	}
	l.director.Must(t, "ip", "addr", "add", vip+"/32", "dev", "eth0")
	l.client.Must(t, "ip", "route", "add", vip+"/32", "via", "10.0.0.11")
	l.rs1.Serve(t, "rs1")
	return l
}

// probe is the director's check: rsprep probe's exit code.
func (l drainLAN) probe(t *testing.T) int {
	t.Helper()
	return probeFrom(t, l.director, "10.0.0.11", vip+":80")
}

// probeFrom is rsprep probe of rs1 (at rip) from dir, for the VIP:port vp.
func probeFrom(t *testing.T, dir *nstest.NS, rip, vp string) int {
	t.Helper()
	return dir.Rsprep(t, "probe", "--rip", rip, "--vip", vp, "--timeout", "2s").Code
}

// get is one client request to the VIP: "rs1", or "ERR …".
func (l drainLAN) get(t *testing.T) string {
	t.Helper()
	return l.client.Get(t, "http://"+vip+"/", 1)[0]
}

// drainRules are rs1's drain rules as ip and ip -6 show them.
func (l drainLAN) drainRules(t *testing.T) string {
	t.Helper()
	var out []string
	for _, line := range strings.Split(l.rs1.Must(t, "ip", "rule", "show")+l.rs1.Must(t, "ip", "-6", "rule", "show"), "\n") {
		if strings.HasPrefix(line, "7300:") {
			out = append(out, strings.Join(strings.Fields(line), " "))
		}
	}
	return strings.Join(out, "\n")
}

// dialFrom opens a TCP connection from inside ns, which stays open until
// the test closes it or ends.
func dialFrom(t *testing.T, ns *nstest.NS, addr string) net.Conn {
	t.Helper()
	var c net.Conn
	err := ns.In(func() (err error) { c, err = net.DialTimeout("tcp", addr, 10*time.Second); return err })
	if err != nil {
		t.Fatalf("connecting to %s from %s: %v", addr, ns.Name, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// rsprep drain fails exactly the director's probe: the client's requests
// are still answered; verify passes and reports the drain; a second drain
// returns at once; undrain brings the probe back, and so does down's end
// of the drain.
func TestDrainFailsOnlyTheProbe(t *testing.T) {
	l := newDrainLAN(t)
	mustRun(t, l.rs1, 0, "dr", "--vip", vip)
	if code := l.probe(t); code != 0 {
		t.Fatalf("probe before the drain: exit %d, want 0", code)
	}
	r := mustRun(t, l.rs1, 0, "drain", "dr", "--vip", vip, "--dip", "10.0.0.1", "--quiet", "1s", "--timeout", "60s")
	if !strings.HasPrefix(r.Stdout, "drained in ") {
		t.Fatalf("drain's output: %q", r.Stdout)
	}
	want := "7300: from " + vip + " to 10.0.0.1 ipproto tcp unreachable proto 114"
	if got := l.drainRules(t); got != want {
		t.Fatalf("rules after drain:\n%s\nwant\n%s", got, want)
	}
	if code := l.probe(t); code != 1 {
		t.Fatalf("probe while drained: exit %d, want 1", code)
	}
	for i := range 3 {
		if got := l.get(t); got != "rs1" {
			t.Fatalf("client request %d while drained: %q, want rs1", i, got)
		}
	}
	v := mustRun(t, l.rs1, 0, "verify", "dr", "--vip", vip)
	if !strings.Contains(v.Stdout, "drain.active") || !strings.Contains(v.Stdout, "drained") {
		t.Fatalf("verify does not report the drain:\n%s", v.Stdout)
	}
	st := mustRun(t, l.rs1, 0, "status")
	if !strings.Contains(st.Stdout, "drained: "+vip+" (the director's probes from 10.0.0.1 fail") {
		t.Fatalf("status does not report the drain:\n%s", st.Stdout)
	}
	if st = mustRun(t, l.rs1, 0, "status", "-o", "json"); !strings.Contains(st.Stdout, `"drained": [`) {
		t.Fatalf("status -o json does not report the drain:\n%s", st.Stdout)
	}
	// apply again (what watch does) leaves the drain alone
	mustRun(t, l.rs1, 0, "dr", "--vip", vip)
	if got := l.drainRules(t); got != want {
		t.Fatalf("rules after apply:\n%s", got)
	}
	r = mustRun(t, l.rs1, 0, "drain", "dr", "--vip", vip, "--dip", "10.0.0.1", "--quiet", "1h", "--timeout", "60s")
	if !strings.HasPrefix(r.Stdout, "already drained") {
		t.Fatalf("a second drain (with --quiet 1h) did not return at once: %q", r.Stdout)
	}

	r = mustRun(t, l.rs1, 0, "undrain", "dr", "--vip", vip)
	if got := l.drainRules(t); got != "" || !strings.HasPrefix(r.Stdout, "undrained "+vip) {
		t.Fatalf("after undrain: rules %q, output %q", got, r.Stdout)
	}
	if code := l.probe(t); code != 0 {
		t.Fatalf("probe after undrain: exit %d, want 0", code)
	}
	r = mustRun(t, l.rs1, 0, "undrain", "dr", "--vip", vip)
	if r.Stdout != "" {
		t.Fatalf("undrain when not drained said %q", r.Stdout)
	}

	before := l.rs1.Snapshot(t)
	mustRun(t, l.rs1, 0, "drain", "dr", "--vip", vip, "--dip", "10.0.0.1", "--quiet", "1s")
	mustRun(t, l.rs1, 0, "down", "dr", "--vip", vip)
	if got := l.drainRules(t); got != "" {
		t.Fatalf("down left the drain rules:\n%s", got)
	}
	mustRun(t, l.rs1, 0, "dr", "--vip", vip)
	if after := l.rs1.Snapshot(t); after != before {
		t.Fatalf("drain, down, dr left the host different:\n%s\nwant\n%s", after, before)
	}
	if code := l.probe(t); code != 0 {
		t.Fatalf("probe after down and dr: exit %d, want 0", code)
	}
}

// A drain waits for an established connection to end; with --timeout it
// gives up, names it, and the host stays drained. New connections that
// keep coming (the director still sends them) keep it waiting too.
func TestDrainWaitsForConnections(t *testing.T) {
	l := newDrainLAN(t)
	mustRun(t, l.rs1, 0, "dr", "--vip", vip)
	conn := dialFrom(t, l.client, vip+":80")
	local := conn.LocalAddr().String()

	r := mustRun(t, l.rs1, 1, "drain", "dr", "--vip", vip, "--dip", "10.0.0.1", "--quiet", "1s", "--timeout", "10s")
	if !strings.Contains(r.Stderr, "1 connections to the VIPs still open: "+vip+":80 from "+local+" (ESTABLISHED)") {
		t.Fatalf("drain's timeout does not name the open connection %s:\n%s", local, r.Stderr)
	}
	if l.drainRules(t) == "" || l.probe(t) != 1 {
		t.Fatalf("the host is no longer drained after the timeout")
	}

	// The connection ends while a drain waits: the drain finishes.
	bin := nstest.Rsprep(t)
	cmd := exec.Command(bin, "drain", "dr", "--vip", vip, "--dip", "10.0.0.1", "--quiet", "1s", "--timeout", "2m", "--netns", l.rs1.Name)
	cmd.Env = append(cmd.Environ(), "RSPREP_STATE_DIR="+l.rs1.StateDir)
	done := make(chan error, 1)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() { cmd.Process.Kill(); <-done })
	select {
	case err := <-done:
		t.Fatalf("drain finished while a connection was open: %v\n%s", err, out.String())
	case <-time.After(2 * time.Second):
	}
	// A second drain meanwhile waits its turn, then returns at once (its
	// --quiet of an hour would otherwise keep it).
	second := exec.Command(bin, "drain", "dr", "--vip", vip, "--dip", "10.0.0.1", "--quiet", "1h", "--timeout", "2m", "--netns", l.rs1.Name)
	second.Env = cmd.Env
	var out2 strings.Builder
	second.Stdout, second.Stderr = &out2, &out2
	if err := second.Start(); err != nil {
		t.Fatal(err)
	}
	done2 := make(chan error, 1)
	go func() { done2 <- second.Wait() }()
	t.Cleanup(func() { second.Process.Kill(); <-done2 })
	conn.Close()
	for i, w := range []struct {
		ch  chan error
		out *strings.Builder
	}{{done, &out}, {done2, &out2}} {
		select {
		case err := <-w.ch:
			w.ch <- err
			if err != nil {
				t.Fatalf("drain %d after the connection closed: %v\n%s", i+1, err, w.out.String())
			}
		case <-time.After(90 * time.Second):
			t.Fatalf("drain %d did not finish within 90s of the last connection closing:\n%s", i+1, w.out.String())
		}
	}
	if !strings.Contains(out.String(), "drained in ") || !strings.Contains(out2.String(), "already drained") {
		t.Fatalf("first drain:\n%s\nsecond drain:\n%s", out.String(), out2.String())
	}

	// Requests keep coming to rs1 (the client's route stands for a
	// director that has not stopped): the drain waits for them to stop.
	mustRun(t, l.rs1, 0, "undrain", "dr", "--vip", vip)
	stop := make(chan struct{})
	loadDone := make(chan struct{})
	go func() {
		defer close(loadDone)
		for {
			select {
			case <-stop:
				return
			default:
			}
			l.client.Exec(nstest.Build(t, "test/tools/nsweb"), "get", "http://"+vip+"/", "5", "5s")
		}
	}()
	t.Cleanup(func() { close(stop); <-loadDone })
	// --quiet longer than --timeout: the verdict is "still sends" as long
	// as one new connection was seen, however slow this machine is.
	r = mustRun(t, l.rs1, 1, "drain", "dr", "--vip", vip, "--dip", "10.0.0.1", "--quiet", "1m", "--timeout", "8s")
	if !strings.Contains(r.Stderr, "the director still sends new connections") || !strings.Contains(r.Stderr, vip+":80 from 10.0.0.50:") {
		t.Fatalf("drain under continuing load:\n%s", r.Stderr)
	}
}

// Bad input exits 2 and changes nothing; a host rsprep has not prepared
// exits 1.
func TestDrainBadInput(t *testing.T) {
	l := newDrainLAN(t)
	before := l.rs1.Snapshot(t)
	for _, c := range []struct {
		code int
		args []string
		want string
	}{
		{2, []string{"drain", "dr", "--vip", vip}, "drain needs --dip"},
		{2, []string{"drain", "nat", "--dip", "10.0.0.1"}, "drain is for dr and tun"},
		{2, []string{"drain", "dr", "--vip", vip, "--dip", "10.0.0.1", "--probe-from", "10.0.0.x"}, `--probe-from "10.0.0.x" is not an IP address`},
		{2, []string{"drain", "dr", "--vip", vip, "--dip", "10.0.0.1", "--timeout", "-1s"}, "--timeout -1s"},
		{2, []string{"drain", "dr", "--vip", vip, "--dip", "10.0.0.1", "--quiet", "0s"}, "--quiet 0s"},
		{2, []string{"drain", "dr", "--vip", vip, "--dip", "10.0.0.1", "-o", "json"}, "prints text only"},
		{1, []string{"drain", "dr", "--vip", vip, "--dip", "10.0.0.1"}, "not prepared for dr"},
		{0, []string{"undrain", "dr", "--vip", vip}, ""},
	} {
		r := l.rs1.Rsprep(t, c.args...)
		if r.Code != c.code || !strings.Contains(r.Stderr, c.want) || c.code != 0 && strings.Count(strings.TrimSpace(r.Stderr), "\n") != 0 {
			t.Errorf("rsprep %s: exit %d, want %d with %q:\n%s", strings.Join(c.args, " "), r.Code, c.code, c.want, r.Stderr)
		}
	}
	if l.drainRules(t) != "" {
		t.Fatalf("bad input left drain rules")
	}
	if after := l.rs1.Snapshot(t); after != before {
		t.Fatalf("bad input changed the host:\n%s\nwant\n%s", after, before)
	}
}

// drain and undrain read the mode and its flags from the config file,
// like apply, verify and down.
func TestDrainFromConfig(t *testing.T) {
	l := newDrainLAN(t)
	conf := t.TempDir() + "/rsprep.conf"
	if err := os.WriteFile(conf, []byte("[rsprep]\nmode = dr\nvip = "+vip+"\ndip = 10.0.0.1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	mustRun(t, l.rs1, 0, "apply", "--config", conf)
	mustRun(t, l.rs1, 0, "drain", "--config", conf, "--quiet", "1s")
	if l.drainRules(t) == "" || l.probe(t) != 1 {
		t.Fatalf("drain --config did not drain")
	}
	mustRun(t, l.rs1, 2, "drain", "--config", conf, "--vip", "192.168.79.181")
	mustRun(t, l.rs1, 0, "undrain", "--config", conf)
	if l.drainRules(t) != "" || l.probe(t) != 0 {
		t.Fatalf("undrain --config did not undrain")
	}
}

// Two directors (a VRRP pair, each probing from its own address) and an
// IPv6 VIP probed from the director's IPv6 address: --probe-from names
// the other sources; every one of them fails while drained, and a VIP
// with no source of its family is bad input.
func TestDrainProbeFrom(t *testing.T) {
	const vip6 = "2001:db8::180"
	l := newDrainLAN(t)
	dir2 := nstest.New(t, "dir2")
	nstest.Veth(t, dir2, "eth0", "10.0.0.2/24", l.sw, "p9", "")
	l.sw.Must(t, "ip", "link", "set", "p9", "master", "br0")
	dir2.Sh(t, "ip link set lo up && ip addr add "+vip+"/32 dev eth0")
	l.director.Sh(t, "ip addr add fd00::1/64 dev eth0 nodad && ip addr add "+vip6+"/128 dev eth0 nodad")
	l.rs1.Must(t, "ip", "addr", "add", "fd00::11/64", "dev", "eth0", "nodad")
	mustRun(t, l.rs1, 0, "dr", "--vip", vip, "--vip", vip6)
	v6 := "[" + vip6 + "]:80"
	paths := []struct {
		dir     *nstest.NS
		rip, vp string
	}{{l.director, "10.0.0.11", vip + ":80"}, {dir2, "10.0.0.11", vip + ":80"}, {l.director, "fd00::11", v6}}
	for _, c := range paths {
		if code := probeFrom(t, c.dir, c.rip, c.vp); code != 0 {
			t.Fatalf("probe of %s from %s before the drain: exit %d", c.vp, c.dir.Name, code)
		}
	}
	r := mustRun(t, l.rs1, 2, "drain", "dr", "--vip", vip, "--vip", vip6, "--dip", "10.0.0.1", "--probe-from", "10.0.0.2")
	if !strings.Contains(r.Stderr, "VIP "+vip6+": no director address of its family") {
		t.Fatalf("an IPv6 VIP without an IPv6 source: %s", r.Stderr)
	}
	r = mustRun(t, l.rs1, 0, "drain", "dr", "--vip", vip, "--vip", vip6, "--dip", "10.0.0.1", "--probe-from", "10.0.0.2,fd00::1", "--quiet", "1s")
	if !strings.Contains(r.Stdout, "probes from 10.0.0.1, 10.0.0.2, fd00::1 fail") || strings.Count(l.drainRules(t), "\n") != 2 ||
		!strings.Contains(l.drainRules(t), "7300: from "+vip6+" to fd00::1 ipproto tcp unreachable proto 114") {
		t.Fatalf("drain: %s\nrules:\n%s", r.Stdout, l.drainRules(t))
	}
	for _, c := range paths {
		if code := probeFrom(t, c.dir, c.rip, c.vp); code != 1 {
			t.Fatalf("probe of %s from %s while drained: exit %d, want 1", c.vp, c.dir.Name, code)
		}
	}
	if got := l.get(t); got != "rs1" {
		t.Fatalf("client request while drained: %q", got)
	}
	mustRun(t, l.rs1, 0, "undrain", "dr", "--vip", vip, "--vip", vip6)
	if code := probeFrom(t, l.director, "fd00::11", v6); code != 0 || l.drainRules(t) != "" {
		t.Fatalf("after undrain: probe exit %d, rules %q", code, l.drainRules(t))
	}
}

// A running watch leaves a drain alone: it resyncs and repairs drift
// while the host stays drained, and drain does not wait for it.
func TestDrainSurvivesWatch(t *testing.T) {
	l := newDrainLAN(t)
	w := startWatch(t, l.rs1, "dr", "--vip", vip, "--resync", "1s")
	mustRun(t, l.rs1, 0, "drain", "dr", "--vip", vip, "--dip", "10.0.0.1", "--quiet", "1s")
	rules := l.drainRules(t)
	drained := float64(time.Now().Unix())
	w.waitFor(t, "two resyncs after the drain", 60*time.Second, func() bool {
		return w.metric(t, "rsprep_last_resync_timestamp_seconds") > drained+1
	})
	l.rs1.Must(t, "ip", "addr", "del", vip+"/32", "dev", "lo")
	w.waitFor(t, "the VIP repaired", 60*time.Second, func() bool { return hasVIP(t, l.rs1, vip) })
	if got := l.drainRules(t); got != rules || got == "" {
		t.Fatalf("drain rules after watch's resyncs and repair: %q, want %q", got, rules)
	}
	if code := l.probe(t); code != 1 {
		t.Fatalf("probe while drained under watch: exit %d, want 1", code)
	}
	if got := l.get(t); got != "rs1" {
		t.Fatalf("client request: %q", got)
	}
	mustRun(t, l.rs1, 0, "verify", "dr", "--vip", vip)
	if code := w.stop(t, syscall.SIGTERM); code != 0 {
		t.Fatalf("watch exit %d", code)
	}
}

// The drain rule comes before --mss's rule (from each VIP to rsprep's
// table 7301, priority 7301), which would otherwise route the probe's
// SYN-ACK through that table: here a rule and table like it, by hand
// (the host kernel has no tunl0 for rsprep tun --mss).
func TestDrainBeforeMSSRules(t *testing.T) {
	l := newDrainLAN(t)
	mustRun(t, l.rs1, 0, "dr", "--vip", vip)
	l.rs1.Sh(t, "ip route add 10.0.0.0/24 dev eth0 table 7301 advmss 1300 && ip rule add from "+vip+" lookup 7301 priority 7301")
	if code := l.probe(t); code != 0 {
		t.Fatalf("probe with the MSS table before the drain: exit %d", code)
	}
	mustRun(t, l.rs1, 0, "drain", "dr", "--vip", vip, "--dip", "10.0.0.1", "--quiet", "1s")
	if code := l.probe(t); code != 1 {
		t.Fatalf("probe while drained, with the MSS table: exit %d, want 1", code)
	}
	if got := l.get(t); got != "rs1" {
		t.Fatalf("client request while drained: %q", got)
	}
}
