package main

import (
	"errors"
	"log/slog"
	"net/netip"
	"strings"
	"testing"

	"github.com/rsprep/rsprep/arp"
	"github.com/rsprep/rsprep/realserver"
	"github.com/rsprep/rsprep/realserver/fake"
	"github.com/rsprep/rsprep/realserver/input"
	"github.com/rsprep/rsprep/realserver/persist"
)

// When the host cannot be read (a netlink dump interrupted too often),
// verify, apply and down exit 3 saying "cannot observe", never 1 (drift)
// or 0: the engine's errors, as the CLI maps them.
func TestCannotObserveExits3(t *testing.T) {
	interrupted := errors.New("the link dump was interrupted 6 times in a row (the table keeps changing)")
	vips := []netip.Addr{netip.MustParseAddr("192.168.79.180")}
	invs := arp.DR{VIPs: vips}.Invariants()
	h := fake.New()
	h.FailReads(interrupted)
	eng := &realserver.Engine{Host: h, Record: &realserver.Record{Version: 1}, Mode: "dr", Log: slog.New(slog.DiscardHandler)}
	_, verifyErr := realserver.Verify(h, invs)
	_, applyErr := eng.Apply(invs, false)
	_, dryErr := eng.Apply(invs, true)
	_, downErr := eng.Down(vips, false)
	for name, err := range map[string]error{"verify": verifyErr, "apply": applyErr, "apply --dry-run": dryErr, "down": downErr} {
		if code := exitCode(err); code != exitHost || !strings.Contains(oneLine(err), "cannot observe the host: ") {
			t.Errorf("%s with unreadable host: exit %d, %q; want exit 3 and cannot observe", name, code, oneLine(err))
		}
	}
}

// Each kind of failure has its exit code.
func TestExitCodes(t *testing.T) {
	for _, c := range []struct {
		err  error
		want int
	}{
		{input.Errorf("VIP x is not an IP address"), exitUsage},
		{&realserver.NotConvergedError{Failing: []realserver.Finding{{ID: "vip.bound"}}}, exitDrift},
		{&realserver.ObserveError{Err: errors.New("x")}, exitHost},
		{&realserver.ChangeError{Change: realserver.Change{Kind: realserver.KindAddrAdd}, Err: errors.New("x")}, exitHost},
		{&realserver.RecordError{Path: "/run/rsprep/net-1.json", Err: errors.New("x")}, exitHost},
		{&persist.LockError{Path: "/run/rsprep/net-1.lock", PID: 42}, exitHost},
	} {
		if got := exitCode(c.err); got != c.want {
			t.Errorf("%T: exit %d, want %d", c.err, got, c.want)
		}
	}
}
