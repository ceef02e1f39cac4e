package watch

import (
	"io"
	"log/slog"
	"net/netip"
	"os"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/rsprep/rsprep/arp"
	"github.com/rsprep/rsprep/realserver"
	"github.com/rsprep/rsprep/realserver/fake"
	"github.com/rsprep/rsprep/realserver/persist"
)

// chanSource is a Source a test feeds.
type chanSource chan Event

func (c chanSource) Events() <-chan Event { return c }
func (chanSource) Close()                 {}

// loopRun is Run on a fake host, driven by synthetic events and signals;
// each status it publishes comes out on statuses.
type loopRun struct {
	h         *fake.Host
	state     realserver.State
	events    chanSource
	signals   chan os.Signal
	statuses  chan Status
	subscribe atomic.Int32 // Subscribe calls
	done      chan error
}

func startLoop(t *testing.T) *loopRun {
	t.Helper()
	r := &loopRun{h: fake.New(), events: make(chanSource, 16), signals: make(chan os.Signal, 1), statuses: make(chan Status, 64), done: make(chan error, 1)}
	r.h.SetLinkUp("lo", true)
	r.h.AddLink(realserver.Link{Name: "eth0", Type: "veth", Up: true})
	r.h.AddAddrRaw(realserver.Addr{Link: "eth0", Prefix: netip.MustParsePrefix("192.168.10.2/24")})
	r.state = realserver.State{Files: persist.Files{Dir: t.TempDir(), Netns: persist.Netns{Inode: 1}}}
	dr := &arp.DR{VIPs: []netip.Addr{netip.MustParseAddr("192.168.79.180")}}
	cfg := Config{
		Host: r.h, State: r.state, Target: Target{Name: "dr", Mode: dr},
		Log:      slog.New(slog.NewTextHandler(io.Discard, nil)),
		LockWait: time.Second, Resync: time.Hour, MaxRepairs: 3, RepairWindow: time.Minute,
		Signals:   r.signals,
		Subscribe: func() (Source, error) { r.subscribe.Add(1); return r.events, nil },
		Publish:   func(s Status) error { r.statuses <- s; return nil },
	}
	go func() { r.done <- Run(cfg) }()
	r.waitStatus(t, "the first apply", func(s Status) bool { return s.Summary() == "dr: all 11 checks hold; 0 repairs" })
	return r
}

// waitStatus waits (bounded: a hang, not a timing assertion) for a
// published status that satisfies cond.
func (r *loopRun) waitStatus(t *testing.T, what string, cond func(Status) bool) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		select {
		case s := <-r.statuses:
			if cond(s) {
				return
			}
			t.Logf("status: %s", s.Summary())
		case err := <-r.done:
			t.Fatalf("Run returned (%v) while waiting for %s", err, what)
		case <-deadline:
			t.Fatalf("no status with %s", what)
		}
	}
}

func (r *loopRun) stop(t *testing.T) error {
	t.Helper()
	r.signals <- syscall.SIGTERM
	select {
	case err := <-r.done:
		return err
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return after SIGTERM")
	}
	return nil
}

var loopVIP = realserver.VIPAddr(netip.MustParseAddr("192.168.79.180"), "lo")

// The loop repairs what a synthetic event says is gone, re-subscribes
// after lost events, and returns nil on SIGTERM.
func TestLoopRepairsFromAnEvent(t *testing.T) {
	r := startLoop(t)
	if err := r.h.DelAddr(loopVIP); err != nil {
		t.Fatal(err)
	}
	r.events <- Event{Kind: KindAddr, Gone: true, Link: "lo", Prefix: loopVIP.Prefix}
	r.waitStatus(t, "the VIP repaired", func(s Status) bool {
		return s.Repairs["vip.bound"] == 1 && s.Summary() == "dr: all 11 checks hold; 1 repairs"
	})
	r.events <- Event{Kind: KindLost, Err: "ENOBUFS"}
	for deadline := time.Now().Add(30 * time.Second); r.subscribe.Load() < 2; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no new subscription after lost events")
		}
	}
	if err := r.stop(t); err != nil {
		t.Fatalf("Run after SIGTERM: %v", err)
	}
	if !hasAddr(t, r.h, loopVIP) {
		t.Error("the VIP is not bound after the repair")
	}
}

// A down's intent stands the loop down: Run returns nil, and the VIP the
// down removed stays removed.
func TestLoopStandsDownForADown(t *testing.T) {
	r := startLoop(t)
	unlock, err := r.state.Lock(time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.state.AddStandDown(persist.StandDown{Mode: "dr", VIPs: []netip.Addr{loopVIP.Prefix.Addr()}, PID: 1, At: time.Now()}); err != nil {
		t.Fatal(err)
	}
	err = r.h.DelAddr(loopVIP)
	unlock()
	if err != nil {
		t.Fatal(err)
	}
	r.events <- Event{Kind: KindAddr, Gone: true, Link: "lo", Prefix: loopVIP.Prefix}
	select {
	case err := <-r.done:
		if err != nil {
			t.Fatalf("Run after a down: %v, want nil", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the loop did not stand down")
	}
	if hasAddr(t, r.h, loopVIP) {
		t.Error("the loop put back the VIP the down removed")
	}
}

func hasAddr(t *testing.T, h *fake.Host, a realserver.Addr) bool {
	t.Helper()
	as, err := h.Addrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range as {
		if b.Link == a.Link && b.Prefix == a.Prefix {
			return true
		}
	}
	return false
}
