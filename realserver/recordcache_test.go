package realserver

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/rsprep/rsprep/realserver/persist"
)

// wantSysctl is an invariant "all.NAME = v" whose fix writes it.
func wantSysctl(name string, v int) Invariant {
	k := SysctlKey{Iface: "all", Name: name}
	return CheckFunc(func(view *View) ([]Finding, error) {
		got, err := view.Sysctl(k)
		if err != nil {
			return nil, err
		}
		f := Finding{ID: name, Subject: "all", OK: got == v}
		if !f.OK {
			f.Fix = []Change{{Kind: KindSysctl, Sysctl: k, From: got, To: v}}
		}
		return []Finding{f}, nil
	})
}

// A watcher's repairs read the record only when somebody else wrote it:
// its own runs hand the record on, and a record another rsprep saved
// since is read again, so the watcher's next save keeps what that one
// added.
func TestRecordCacheReadsOnlyWhatSomebodyElseWrote(t *testing.T) {
	h := NewSim(nil)
	watcher := State{Files: persist.Files{Dir: t.TempDir(), Netns: persist.Netns{Cookie: 4096, Inode: 4026532177}}, Cache: &RecordCache{}}
	byHand := watcher
	byHand.Cache = nil
	apply := func(s State, invs ...Invariant) {
		t.Helper()
		if _, err := s.ApplyLocked(context.Background(), h, "dr", nil, invs, slog.New(slog.DiscardHandler), time.Second); err != nil {
			t.Fatal(err)
		}
	}
	apply(watcher, wantSysctl("arp_ignore", 1))
	first := watcher.Cache.rec
	if first == nil || len(first.Changes) != 1 {
		t.Fatalf("after the first run the cache holds %+v, want its record", first)
	}
	apply(watcher, wantSysctl("arp_ignore", 1)) // nothing to do: no read
	if watcher.Cache.rec != first {
		t.Error("a run after the watcher's own read the record again")
	}

	apply(byHand, wantSysctl("arp_announce", 2))
	apply(watcher, wantSysctl("rp_filter", 0), wantSysctl("forwarding", 1))
	rec, err := watcher.Load()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range rec.Changes {
		got = append(got, c.Sysctl.Name)
	}
	if len(got) != 3 {
		t.Errorf("record on disk owns %q, want arp_ignore, arp_announce (written by hand in between) and forwarding", got)
	}
	if watcher.Cache.rec == first {
		t.Error("the cache still holds the record from before the run by hand")
	}
}

// A run that fails is not kept: its record may not be what the file holds.
func TestRecordCacheForgetsAFailedRun(t *testing.T) {
	s := State{Files: persist.Files{Dir: t.TempDir(), Netns: persist.Netns{Cookie: 4096, Inode: 4026532177}}, Cache: &RecordCache{}}
	h := NewSim(nil)
	if _, err := s.ApplyLocked(context.Background(), h, "dr", nil, []Invariant{wantSysctl("arp_ignore", 1)}, slog.New(slog.DiscardHandler), time.Second); err != nil {
		t.Fatal(err)
	}
	never := CheckFunc(func(*View) ([]Finding, error) { return []Finding{{ID: "never", Subject: "x"}}, nil })
	if _, err := s.ApplyLocked(context.Background(), h, "dr", nil, []Invariant{never}, slog.New(slog.DiscardHandler), time.Second); err == nil {
		t.Fatal("an invariant that never holds converged")
	}
	if s.Cache.rec != nil {
		t.Error("the cache kept the record of a failed run")
	}
}
