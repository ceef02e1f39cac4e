package realserver_test

import (
	"context"
	"log/slog"
	"maps"
	"testing"
	"time"

	"github.com/rsprep/rsprep/arp"
	"github.com/rsprep/rsprep/realserver"
	"github.com/rsprep/rsprep/realserver/fake"
	"github.com/rsprep/rsprep/realserver/persist"
)

// A writer's observation, taken before the lock (for its preflight), is
// the one its run starts from when no other rsprep had a turn before it
// got the lock: one link dump and one address dump. When another rsprep
// wrote in between, the host and the record are observed again under the
// lock: the run starts from the other's VIP and from its record.
func TestBeginWriteObservesAgainOnlyAfterAnotherWritersTurn(t *testing.T) {
	s, h := lockedDRHost(t)
	log := slog.New(slog.DiscardHandler)
	mine, other := arp.DR{VIPs: vips("10.208.1.1")}, arp.DR{VIPs: vips("10.208.1.2")}
	otherVIP := realserver.VIPAddr(other.VIPs[0], "lo")
	if _, err := s.ApplyLocked(context.Background(), h, "dr", nil, mine.Invariants(), log, time.Second); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		between func(t *testing.T) // after the observation, before the lock
		dumps   map[string]int     // the run's own, before its engine starts
		other   bool               // the other writer's VIP is on the host
	}{
		{"alone", func(*testing.T) {}, map[string]int{"link": 1, "address": 1}, false},
		{"after another writer", func(t *testing.T) {
			if _, err := s.ApplyLocked(context.Background(), h, "dr", nil, other.Invariants(), log, time.Second); err != nil {
				t.Fatal(err)
			}
		}, map[string]int{"link": 2, "address": 2}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := h.Dumps()
			var betweens map[string]int
			preflight := func(v *realserver.View) error {
				if err := mine.Preflight(v); err != nil {
					return err
				}
				b := h.Dumps()
				tc.between(t)
				betweens = subtract(h.Dumps(), b)
				return nil
			}
			v, unlock, err := s.BeginWrite(h, preflight, time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer unlock()
			if got := subtract(subtract(h.Dumps(), before), betweens); !maps.Equal(got, tc.dumps) {
				t.Errorf("dumps %v, want %v", got, tc.dumps)
			}
			present, err := v.AddrsOf(otherVIP.Prefix.Addr())
			if err != nil {
				t.Fatal(err)
			}
			recorded := false
			changes, err := v.Recorded()
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range changes {
				recorded = recorded || (c.Kind == realserver.KindAddrAdd && c.Addr.Prefix == otherVIP.Prefix)
			}
			if seen := len(present) > 0; seen != tc.other || recorded != tc.other {
				t.Errorf("the run starts from an observation with %s present %v, recorded %v; want %v (the host and record under the lock)", otherVIP.Prefix, seen, recorded, tc.other)
			}
		})
	}
}

// subtract is a-b by key, without the keys that come to 0.
func subtract(a, b map[string]int) map[string]int {
	out := map[string]int{}
	for k, n := range a {
		if n -= b[k]; n != 0 {
			out[k] = n
		}
	}
	return out
}

// lockedDRHost is a state directory of its own for a made-up namespace and
// a fake host with one Ethernet link, as the runs under the lock see them.
func lockedDRHost(t *testing.T) (realserver.State, *fake.Host) {
	h := fake.New()
	h.AddLink(realserver.Link{Name: "eth0", Type: "veth", Up: true})
	return realserver.State{Files: persist.Files{Dir: t.TempDir(), Netns: persist.Netns{Cookie: 4096, Inode: 4026532177}}}, h
}
