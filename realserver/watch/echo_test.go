package watch

import (
	"fmt"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"github.com/rsprep/rsprep/realserver"
)

// The kernel's event for an address a repair added is the repair's own
// echo: the watcher drops it once (no re-check, no address dump for it),
// and an add that follows it, or a removal, is someone else's.
func TestWatchDropsTheEchoOfItsOwnRepairOnce(t *testing.T) {
	w, h, _ := pinnedDRWatcher(t)
	vip := realserver.VIPAddr(netip.MustParseAddr("192.168.79.180"), "lo")
	if err := h.DelAddr(vip); err != nil {
		t.Fatal(err)
	}
	gone := Event{Kind: KindAddr, Gone: true, Link: "lo", Prefix: vip.Prefix}
	added := Event{Kind: KindAddr, Link: "lo", Prefix: vip.Prefix}
	if w.echo(gone) {
		t.Fatal("a removal nobody asked for was taken for an echo")
	}
	w.recheck(Affects(gone, w.invs, w.results), map[string][]string{"vip.bound": {gone.String()}}, false)
	if n := w.repairs["vip.bound"]; n != 1 {
		t.Fatalf("%d repairs of vip.bound after one removal, want 1", n)
	}
	if !w.echo(added) {
		t.Error("the kernel's event for the repair's own add was not taken for its echo")
	}
	if w.echo(added) {
		t.Error("a second add of the same address was taken for the echo too: only the first is the repair's")
	}
	other := Event{Kind: KindAddr, Link: "lo", Prefix: netip.MustParsePrefix("2001:db8::80/128")}
	if w.echo(other) {
		t.Error("the add of an address the repair did not add was taken for its echo")
	}
}

// One repair per break: N removals, each announced by its event and
// followed by the echo of its repair (as the kernel sends them), are N
// repairs, and a full re-check afterwards (SIGHUP) repairs nothing more:
// the watcher does not feed on its own changes.
func TestLoopRepairsOncePerBreak(t *testing.T) {
	r := startLoop(t)
	const n = 3 // startLoop damps a 4th repair of one VIP within its window (a fight)
	for i := 1; i <= n; i++ {
		if err := r.h.DelAddr(loopVIP); err != nil {
			t.Fatal(err)
		}
		r.events <- Event{Kind: KindAddr, Gone: true, Link: "lo", Prefix: loopVIP.Prefix}
		want := fmt.Sprintf("dr: all 11 checks hold; %d repairs", i)
		r.waitStatus(t, want, func(s Status) bool { return s.Summary() == want })
		r.events <- Event{Kind: KindAddr, Link: "lo", Prefix: loopVIP.Prefix} // the repair's echo
	}
	since := time.Now()
	r.signals <- syscall.SIGHUP // no Reload: a full re-check
	var after Status
	r.waitStatus(t, "the SIGHUP's full re-check", func(s Status) bool { after = s; return s.LastResync.After(since) })
	if got := after.Repairs["vip.bound"]; got != n || after.Summary() != fmt.Sprintf("dr: all 11 checks hold; %d repairs", n) {
		t.Errorf("after %d removals and a full re-check: %d repairs of vip.bound (%s), want %d", n, got, after.Summary(), n)
	}
	if err := r.stop(t); err != nil {
		t.Fatalf("Run after SIGTERM: %v", err)
	}
}
