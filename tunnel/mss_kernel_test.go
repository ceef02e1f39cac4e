package tunnel

import (
	"log/slog"
	"net/netip"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vishvananda/netns"

	"github.com/rsprep/rsprep/realserver"
	"github.com/rsprep/rsprep/realserver/kernel"
	"github.com/rsprep/rsprep/realserver/persist"
	"github.com/rsprep/rsprep/realserver/watch"
	"github.com/rsprep/rsprep/test/nstest"
)

// inNetns runs f with a kernel Host opened in namespace ns, on a thread
// of its own, which goes back to the test's namespace afterwards. (A
// thread left in ns could be the process's main one, which Go never ends:
// the namespace's cleanup would then find the test process in it and
// kill it.)
func inNetns(t *testing.T, ns *nstest.NS, f func(h *kernel.Host)) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread()
		home, err := netns.Get()
		if err != nil {
			t.Error(err)
			return
		}
		defer home.Close()
		handle, err := netns.GetFromName(ns.Name)
		if err != nil {
			t.Error(err)
			return
		}
		defer handle.Close()
		if err := netns.Set(handle); err != nil {
			t.Error(err)
			return
		}
		defer func() {
			if netns.Set(home) == nil {
				runtime.UnlockOSThread()
			} // else the thread stays locked, and Go ends it with the goroutine
		}()
		h, err := kernel.New()
		if err != nil {
			t.Error(err)
			return
		}
		defer h.Close()
		f(h)
	}()
	<-done
}

// The clamp on this host's kernel, which has no tunnel modules: the mss
// invariant alone (rules, table routes, both families, over netlink) on a
// real server whose VIPs sit on lo, reached straight over a veth. A
// client's socket sees the clamped MSS through each VIP and the plain one
// to the real server's own addresses; down leaves no rule and no table.
func TestMSSClampOnThisKernel(t *testing.T) {
	rs, c := nstest.New(t, "rs"), nstest.New(t, "c")
	nstest.Veth(t, rs, "eth0", "", c, "eth0", "")
	rs.Sh(t, `ip link set lo up
ip addr add 10.77.0.2/24 dev eth0
ip addr add fd00:77::2/64 dev eth0 nodad
ip addr add 10.77.1.100/32 dev lo
ip addr add fd00:77:1::100/128 dev lo
ip route add default via 10.77.0.1
ip -6 route add default via fd00:77::1 dev eth0`)
	c.Sh(t, `ip addr add 10.77.0.1/24 dev eth0
ip addr add fd00:77::1/64 dev eth0 nodad
ip route add 10.77.1.100/32 via 10.77.0.2
ip -6 route add fd00:77:1::100/128 via fd00:77::2`)
	rs.Serve(t, "rs")
	tcpmss := nstest.Build(t, "test/tools/tcpmss")
	mss := func(addr string) int {
		t.Helper()
		out, err := c.Exec(tcpmss, addr)
		n, convErr := strconv.Atoi(strings.TrimSpace(out))
		if err != nil || convErr != nil {
			t.Fatalf("tcpmss %s: %v %s", addr, err, out)
		}
		return n
	}
	// MTU 1500, timestamps on: 1448 over IPv4, 1428 over IPv6 unclamped.
	if got := mss("[fd00:77:1::100]:80"); got != 1428 {
		t.Fatalf("before the clamp, snd_mss through the IPv6 VIP is %d, want 1428", got)
	}

	spec := TUN{VIPs: []netip.Addr{netip.MustParseAddr("10.77.1.100"), netip.MustParseAddr("fd00:77:1::100")}, MSS: 1400}
	invs := []realserver.Invariant{spec.mssClamp()}
	var eng *realserver.Engine
	inNetns(t, rs, func(h *kernel.Host) {
		eng = &realserver.Engine{Host: h, Record: &realserver.Record{Version: 1}, Mode: "tun", Log: slog.New(slog.DiscardHandler)}
		if _, err := eng.Apply(invs, false); err != nil {
			t.Errorf("apply: %v", err)
			return
		}
		again, err := eng.Apply(invs, false)
		if err != nil || len(again.Changes) != 0 {
			t.Errorf("second apply: changes %v, err %v; want none", again.Changes, err)
		}
	})
	if t.Failed() {
		t.FailNow()
	}
	for _, want := range []string{"from fd00:77:1::100 lookup 7301"} {
		if out := rs.Must(t, "ip", "-6", "rule"); !strings.Contains(out, want) {
			t.Errorf("ip -6 rule has no %q:\n%s", want, out)
		}
	}
	for _, want := range []string{"default via fd00:77::1 dev eth0", "fd00:77::/64 dev eth0", "advmss 1400"} {
		if out := rs.Must(t, "ip", "-6", "route", "show", "table", "7301"); !strings.Contains(out, want) {
			t.Errorf("ip -6 route show table 7301 has no %q:\n%s", want, out)
		}
	}
	for addr, want := range map[string]int{
		"[fd00:77:1::100]:80": 1388, "10.77.1.100:80": 1388, // through the VIPs: 1400 less 12 of timestamps
		"[fd00:77::2]:80": 1428, "10.77.0.2:80": 1448, // the real server's own addresses: untouched
	} {
		if got := mss(addr); got != want {
			t.Errorf("client snd_mss to %s is %d, want %d", addr, got, want)
		}
	}

	before := rs.Must(t, "ip", "-6", "route", "show", "table", "main")
	inNetns(t, rs, func(h *kernel.Host) {
		eng.Host = h
		if _, err := eng.Down(spec.VIPList(), false); err != nil {
			t.Errorf("down: %v", err)
		}
	})
	for _, fam := range []string{"-4", "-6"} {
		if out := rs.Must(t, "ip", fam, "rule"); strings.Contains(out, "7301") {
			t.Errorf("after down, ip %s rule:\n%s", fam, out)
		}
		// An emptied IPv6 table is gone ("FIB table does not exist").
		if out, _ := rs.Exec("ip", fam, "route", "show", "table", "7301"); strings.TrimSpace(out) != "" && !strings.Contains(out, "does not exist") {
			t.Errorf("after down, ip %s route show table 7301:\n%s", fam, out)
		}
	}
	if after := rs.Must(t, "ip", "-6", "route", "show", "table", "main"); after != before {
		t.Errorf("down changed main's IPv6 routes:\n%s\nwere\n%s", after, before)
	}
	if got := mss("[fd00:77:1::100]:80"); got != 1428 {
		t.Errorf("after down, snd_mss through the IPv6 VIP is %d, want 1428", got)
	}
}

// mssOnly is TUN with the clamp alone, for a kernel without tunnel modules.
type mssOnly struct{ TUN }

func (m mssOnly) Invariants() []realserver.Invariant { return []realserver.Invariant{m.mssClamp()} }
func (mssOnly) Modules() []string                    { return nil }
func (m mssOnly) ForDown() realserver.Mode           { return m }
func (mssOnly) Preflight(*realserver.View) error     { return nil }

// --mss's copy of main follows main: a client off the subnet reaches a VIP
// only if the reply takes main's default route. The gateway rsprep copied
// (.9) is dead and main moves to a live one (.1): without watch the copy
// is stale, verify names it, and the VIP's replies are cut off; under
// watch the route event brings the copy in step and the client is
// answered. The clamp's rule, deleted, is back from its rule event.
func TestMSSCopyFollowsMainsDefaultRoute(t *testing.T) {
	rs, gw, far := nstest.New(t, "rs"), nstest.New(t, "gw"), nstest.New(t, "far")
	nstest.Veth(t, rs, "eth0", "10.77.0.2/24", gw, "eth0", "10.77.0.1/24")
	nstest.Veth(t, far, "eth0", "10.88.0.2/24", gw, "eth1", "10.88.0.1/24")
	rs.Sh(t, `ip link set lo up
ip addr add 10.77.1.100/32 dev lo
ip route add default via 10.77.0.9`)
	gw.Sh(t, `sysctl -qw net.ipv4.ip_forward=1
ip route add 10.77.1.100/32 via 10.77.0.2`)
	far.Must(t, "ip", "route", "add", "default", "via", "10.88.0.1")
	rs.Serve(t, "rs")
	answered := func() bool { return far.Get(t, "http://10.77.1.100/", 1)[0] == "rs" }
	copyOf := func() string { return rs.Must(t, "ip", "route", "show", "table", "7301", "default") }

	mode := mssOnly{TUN{VIPs: []netip.Addr{netip.MustParseAddr("10.77.1.100")}, MSS: 1400}}
	invs := mode.Invariants()
	inNetns(t, rs, func(h *kernel.Host) {
		eng := &realserver.Engine{Host: h, Record: &realserver.Record{Version: 1}, Mode: "tun", Log: slog.New(slog.DiscardHandler)}
		if _, err := eng.Apply(invs, false); err != nil {
			t.Errorf("apply: %v", err)
		}
	})
	rs.Must(t, "ip", "route", "replace", "default", "via", "10.77.0.1")
	inNetns(t, rs, func(h *kernel.Host) {
		fs, err := realserver.Verify(h, invs)
		if err != nil {
			t.Errorf("verify: %v", err)
			return
		}
		for _, f := range fs {
			if f.Subject == "table 7301" && (f.OK || !strings.Contains(f.Got, "stale copy: default via 10.77.0.9 dev eth0 table 7301 advmss 1400")) {
				t.Errorf("verify of the stale copy: %+v, want it failing and naming the copy via 10.77.0.9", f)
			}
		}
	})
	if answered() {
		t.Fatalf("the VIP answered through a stale copy (table 7301: %q): this test proves nothing", copyOf())
	}

	rs.Must(t, "ip", "route", "replace", "default", "via", "10.77.0.9")
	sigs := make(chan os.Signal, 1)
	ready, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		inNetns(t, rs, func(h *kernel.Host) {
			err := watch.Run(watch.Config{
				Host: h, State: realserver.State{Files: persist.Files{Dir: t.TempDir(), Netns: persist.Netns{Inode: 1}}},
				Target: watch.Target{Name: "tun", Mode: mode}, Log: slog.New(slog.DiscardHandler), LockWait: 10 * time.Second,
				Resync: time.Hour, MaxRepairs: 5, RepairWindow: time.Minute, Signals: sigs,
				Notify: func(s string) {
					if s == "READY=1" {
						close(ready)
					}
				},
			})
			if err != nil {
				t.Errorf("watch: %v", err)
			}
		})
	}()
	defer func() { sigs <- syscall.SIGTERM; <-done }()
	select {
	case <-ready:
	case <-done:
		t.FailNow()
	}
	moved := time.Now()
	rs.Must(t, "ip", "route", "replace", "default", "via", "10.77.0.1")
	for deadline := time.Now().Add(20 * time.Second); !strings.Contains(copyOf(), "via 10.77.0.1 "); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("under watch, table 7301's default route is still %q after main's moved to 10.77.0.1", copyOf())
		}
	}
	t.Logf("the copy followed main %v after the change", time.Since(moved).Round(time.Millisecond))
	if !answered() {
		t.Errorf("under watch, the VIP is not answered once main's default route is live (table 7301: %q)", copyOf())
	}
	// The clamp's rule deleted by hand: its rule event (the resync is an
	// hour away) brings it back.
	rule := func() string { return rs.Must(t, "ip", "rule", "show", "pref", "7301") }
	rs.Must(t, "ip", "rule", "del", "pref", "7301")
	for deadline := time.Now().Add(20 * time.Second); !strings.Contains(rule(), "from 10.77.1.100 lookup 7301"); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("under watch, the clamp's rule is still gone 20s after it was deleted (ip rule show pref 7301: %q)", rule())
		}
	}
}
