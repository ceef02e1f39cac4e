package watch

import (
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/rsprep/rsprep/arp"
	"github.com/rsprep/rsprep/realserver"
	"github.com/rsprep/rsprep/realserver/kernel"
	"github.com/rsprep/rsprep/realserver/persist"
	"github.com/rsprep/rsprep/test/nstest"
)

// BenchmarkRepairOneVIP is the repair path of one removed VIP's event, on
// this kernel, with RSPREP_BENCH_VIPS VIPs (default 10,000) watched:
// remove it, re-check what its event scopes, repair. For a profile:
//
//	go test -run '^$' -bench RepairOneVIP -cpuprofile cpu.out ./realserver/watch/
func BenchmarkRepairOneVIP(b *testing.B) {
	n := 10000
	if s := os.Getenv("RSPREP_BENCH_VIPS"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	ns := nstest.New(b, "bench")
	ns.Sh(b, "ip link set lo up")
	vips := make([]netip.Addr, n)
	for i := range vips {
		vips[i] = netip.AddrFrom4([4]byte{10, byte(200 + i/62500), byte(i / 250 % 250), byte(i%250 + 1)})
	}
	err := ns.In(func() error { // a kernel Host of the namespace, on a thread inside it
		host, err := kernel.New()
		if err != nil {
			return err
		}
		defer host.Close()
		w := newWatcher(Config{
			Host: host, State: realserver.State{Files: persist.Files{Dir: b.TempDir(), Netns: persist.Netns{Inode: 1}}},
			Target: Target{Name: "dr", Mode: &arp.DR{VIPs: vips}}, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
			LockWait: time.Minute, Resync: time.Hour, MaxRepairs: 1 << 30, RepairWindow: time.Second,
		})
		if err := w.apply(); err != nil {
			return err
		}
		b.ResetTimer()
		for i := range b.N {
			a := realserver.VIPAddr(vips[i%n], "lo")
			if err := host.DelAddr(a); err != nil {
				return err
			}
			gone := Event{Kind: KindAddr, Gone: true, Link: "lo", Prefix: a.Prefix}
			w.recheck(Affects(gone, w.invs, w.results), map[string][]string{}, false)
		}
		b.StopTimer()
		if w.repairs["vip.bound"] != b.N {
			return fmt.Errorf("%d repairs for %d removals", w.repairs["vip.bound"], b.N)
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}
