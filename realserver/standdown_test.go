package realserver_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rsprep/rsprep/arp"
	"github.com/rsprep/rsprep/realserver"
	"github.com/rsprep/rsprep/realserver/fake"
	"github.com/rsprep/rsprep/realserver/persist"
)

// A down's intent (persist.StandDown) is what keeps a watcher's repair from
// undoing it: a repair of a VIP a down took changes nothing under the lock
// and says why, even when it decided to repair before the down ran; a
// down of other VIPs is no reason to stand down; an apply clears it.
func TestRepairLockedHonoursADown(t *testing.T) {
	s, h := lockedDRHost(t)
	log := slog.New(slog.DiscardHandler)
	ctx := context.Background()
	dr := arp.DR{VIPs: vips("10.208.1.1")}
	vip := realserver.VIPAddr(dr.VIPs[0], "lo")
	if _, err := s.ApplyLocked(ctx, h, "dr", dr.VIPs, dr.Invariants(), log, time.Second); err != nil {
		t.Fatal(err)
	}
	if err := h.DelAddr(vip); err != nil { // what the down did (its record aside)
		t.Fatal(err)
	}
	all := func(*realserver.View) ([]realserver.Invariant, error) { return dr.Invariants(), nil }
	down := func(d persist.StandDown) {
		unlock, err := s.Lock(time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer unlock()
		if err := s.AddStandDown(d); err != nil {
			t.Fatal(err)
		}
	}
	down(persist.StandDown{Mode: "dr", VIPs: vips("10.208.1.9"), PID: 1, At: time.Now()})
	if _, err := s.RepairLocked(ctx, h, "dr", dr.VIPs, log, time.Second, all); err != nil {
		t.Fatalf("a down of another VIP stood the repair down: %v", err)
	}
	if err := h.DelAddr(vip); err != nil {
		t.Fatal(err)
	}
	down(persist.StandDown{Mode: "tun", VIPs: vips("10.208.1.1"), PID: 2, At: time.Now()})
	writes := h.Writes()
	_, err := s.RepairLocked(ctx, h, "dr", dr.VIPs, log, time.Second, all)
	var sd *realserver.StoodDownError
	if !errors.As(err, &sd) || sd.Down.PID != 2 {
		t.Fatalf("a repair after a down of its VIP: %v, want a *StoodDownError naming pid 2", err)
	}
	if h.Writes() != writes {
		t.Errorf("the stood-down repair wrote %d time(s)", h.Writes()-writes)
	}
	if _, err := s.ApplyLocked(ctx, h, "dr", dr.VIPs, dr.Invariants(), log, time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RepairLocked(ctx, h, "dr", dr.VIPs, log, time.Second, all); err != nil {
		t.Errorf("a repair after an apply: %v", err)
	}
	if d, ok := s.StandDownFor("dr", vips("10.208.1.9")); !ok || d.PID != 1 {
		t.Errorf("the apply of 10.208.1.1 cleared the down of 10.208.1.9 (%v %v)", d, ok)
	}
}

// cancelOnWrite is a fake host whose first sysctl write also cancels the
// run, as a Ctrl-C arriving right after it would.
type cancelOnWrite struct {
	*fake.Host
	cancel func()
}

func (h cancelOnWrite) SetSysctl(k realserver.SysctlKey, v int) error {
	h.cancel()
	return h.Host.SetSysctl(k, v)
}

// Ctrl-C half-way: the run stops at its next safe point, rolls back what
// it changed, and says the signal stopped it (exit 130).
func TestApplyInterruptedRollsBack(t *testing.T) {
	s, h := lockedDRHost(t)
	before := h.Render()
	dr := arp.DR{VIPs: vips("10.208.1.1", "10.208.1.2")}
	ctx, cancel := context.WithCancelCause(context.Background())
	host := cancelOnWrite{Host: h, cancel: func() { cancel(realserver.SignalError{Signal: syscall.SIGINT}) }}
	_, err := s.ApplyLocked(ctx, host, "dr", dr.VIPs, dr.Invariants(), slog.New(slog.DiscardHandler), time.Second)
	var sig realserver.SignalError
	var in *realserver.InterruptedError
	if !errors.As(err, &in) || !errors.As(err, &sig) || sig.ExitCode() != 130 {
		t.Fatalf("err %v, want an interruption by SIGINT (exit 130)", err)
	}
	if !strings.Contains(err.Error(), "interrupted (stopped by SIGINT); rolled back the 1 change(s)") {
		t.Errorf("err %q does not say what was rolled back", err)
	}
	if after := h.Render(); after != before {
		t.Errorf("the interrupted run left:\n%s\nwant:\n%s", after, before)
	}
}
