package bench

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netns"

	"github.com/rsprep/rsprep/arp"
	"github.com/rsprep/rsprep/realserver"
	"github.com/rsprep/rsprep/realserver/kernel"
	"github.com/rsprep/rsprep/realserver/persist"
	"github.com/rsprep/rsprep/test/nstest"
)

var sizesFlag = flag.String("vips", "1,100,1000,10000", "VIP counts to benchmark, comma-separated")

// sizes parses -vips.
func sizes(b *testing.B) []int {
	var out []int
	for _, f := range strings.Split(*sizesFlag, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > 60000 {
			b.Fatalf("-vips %q: want VIP counts between 1 and 60000", *sizesFlag)
		}
		out = append(out, n)
	}
	return out
}

// vips returns n lab-only addresses from 10.200.0.0/16 upwards.
func vips(n int) []netip.Addr {
	out := make([]netip.Addr, n)
	for i := range out {
		out[i] = netip.AddrFrom4([4]byte{10, byte(200 + i/(250*250)), byte(i / 250 % 250), byte(i%250 + 1)})
	}
	return out
}

// lab is a fresh network namespace that the benchmark's goroutine, locked
// to its thread, has entered, with the kernel host and a state directory
// of its own.
type lab struct {
	b        *testing.B
	orig, ns netns.NsHandle
	host     *kernel.Host
	state    realserver.State
	mode     arp.DR
	log      *slog.Logger
	n        int
}

// enter creates the namespace (lo up, as on any host) and moves the
// calling thread into it; leave must be deferred on the same goroutine.
func enter(b *testing.B, n int) *lab {
	b.Helper()
	nstest.NeedRoot(b)
	runtime.LockOSThread()
	l := &lab{b: b, n: n, mode: arp.DR{VIPs: vips(n)}}
	var err error
	if l.orig, err = netns.Get(); err != nil {
		runtime.UnlockOSThread()
		b.Fatal(err)
	}
	if l.ns, err = netns.New(); err != nil {
		l.orig.Close()
		runtime.UnlockOSThread()
		b.Fatal(err)
	}
	if l.host, err = kernel.New(); err != nil {
		l.leave()
		b.Fatal(err)
	}
	if err := l.host.SetLinkUp("lo", true); err != nil {
		l.leave()
		b.Fatal(err)
	}
	id, err := persist.CurrentNetns()
	if err != nil {
		l.leave()
		b.Fatal(err)
	}
	l.state = realserver.State{Files: persist.Files{Dir: b.TempDir(), Netns: id}}
	// The engine's log lines are formatted as the CLI does, then dropped.
	l.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	return l
}

// leave returns the thread to its namespace; the benchmark's namespace,
// referenced by nothing any more, goes away with everything in it.
func (l *lab) leave() {
	if l.host != nil {
		l.host.Close()
	}
	if err := netns.Set(l.orig); err != nil {
		panic(fmt.Sprintf("cannot return to the original network namespace: %v", err)) // never unlock a thread left inside
	}
	l.ns.Close()
	l.orig.Close()
	runtime.UnlockOSThread()
}

// engine does what cmd/rsprep does before apply or down: observe (the
// record decoded alongside the dumps), preflight, lock. The caller unlocks.
func (l *lab) engine() (*realserver.Engine, func()) {
	l.b.Helper()
	view, unlock, err := l.state.BeginWrite(l.host, l.mode.Preflight, time.Second)
	if err != nil {
		l.b.Fatal(err)
	}
	eng, err := realserver.NewEngine(view, l.mode.Name(), l.log)
	if err != nil {
		unlock()
		l.b.Fatal(err)
	}
	return eng, unlock
}

// apply runs rsprep dr and returns how many changes it made.
func (l *lab) apply() int {
	l.b.Helper()
	e, unlock := l.engine()
	defer unlock()
	res, err := e.Apply(l.mode.Invariants(), false)
	if err != nil || !res.OK {
		l.b.Fatalf("apply: ok=%v: %v", res.OK, err)
	}
	return len(res.Changes)
}

// verify runs rsprep verify dr.
func (l *lab) verify() {
	l.b.Helper()
	v, err := realserver.Observe(l.host, realserver.Records{}) // as cmd/rsprep: one view for both
	if err != nil {
		l.b.Fatal(err)
	}
	if err := l.mode.Preflight(v); err != nil {
		l.b.Fatal(err)
	}
	fs, err := v.Verify(l.mode.Invariants())
	if err != nil || !realserver.AllOK(fs) {
		l.b.Fatalf("verify: ok=%v: %v", realserver.AllOK(fs), err)
	}
}

// down runs rsprep down dr and returns how many changes it made.
func (l *lab) down() int {
	l.b.Helper()
	e, unlock := l.engine()
	defer unlock()
	res, err := e.Down(l.mode.VIPList(), false)
	if err != nil {
		l.b.Fatalf("down: %v", err)
	}
	return len(res.Changes)
}

// perVIP reports the time per VIP, which stays flat if the cost is linear.
func perVIP(b *testing.B, n int) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/vip")
}

// forSizes runs one sub-benchmark per VIP count, each in its own namespace.
func forSizes(b *testing.B, body func(b *testing.B, l *lab)) {
	for _, n := range sizes(b) {
		b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) {
			l := enter(b, n)
			defer l.leave()
			b.ReportAllocs()
			b.ResetTimer()
			body(b, l)
			perVIP(b, n)
		})
	}
}

// sysctlChanges is what a cold apply writes besides the VIPs: arp_ignore
// and arp_announce on all, default and lo.
const sysctlChanges = 6

func BenchmarkApply(b *testing.B) {
	forSizes(b, func(b *testing.B, l *lab) {
		for range b.N {
			if got := l.apply(); got != l.n+sysctlChanges {
				b.Fatalf("cold apply made %d changes, want %d", got, l.n+sysctlChanges)
			}
			b.StopTimer()
			l.down()
			b.StartTimer()
		}
	})
}

// afterApply benchmarks body on a namespace rsprep has prepared.
func afterApply(b *testing.B, body func(l *lab)) {
	forSizes(b, func(b *testing.B, l *lab) {
		b.StopTimer()
		l.apply()
		b.StartTimer()
		for range b.N {
			body(l)
		}
	})
}

func BenchmarkReapply(b *testing.B) {
	afterApply(b, func(l *lab) {
		if got := l.apply(); got != 0 {
			l.b.Fatalf("a second apply made %d changes, want none", got)
		}
	})
}

func BenchmarkVerify(b *testing.B) { afterApply(b, (*lab).verify) }

func BenchmarkDown(b *testing.B) {
	forSizes(b, func(b *testing.B, l *lab) {
		for range b.N {
			b.StopTimer()
			l.apply()
			b.StartTimer()
			if got := l.down(); got != l.n+sysctlChanges {
				b.Fatalf("down made %d changes, want %d", got, l.n+sysctlChanges)
			}
		}
	})
}
