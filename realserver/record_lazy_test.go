package realserver

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/rsprep/rsprep/realserver/persist"
)

// applyOnce observes h as a writer does (the record read alongside) and
// applies invs; it returns the engine, to look at the record it used.
func applyOnce(t *testing.T, s State, h Host, invs ...Invariant) (*Engine, error) {
	t.Helper()
	v, err := s.Observe(h)
	if err != nil {
		t.Fatal(err)
	}
	eng, err := NewEngine(v, "dr", slog.New(slog.DiscardHandler))
	if err != nil {
		return nil, err
	}
	_, err = eng.Apply(invs, false)
	return eng, err
}

// A no-op apply never decodes the record's changes: it plans nothing, so
// owns nothing new. An apply that changes something decodes them and
// keeps every one in the record it saves.
func TestNoOpApplyDoesNotDecodeTheRecord(t *testing.T) {
	h := NewSim(nil)
	s := State{Files: persist.Files{Dir: t.TempDir(), Netns: persist.Netns{Cookie: 4096, Inode: 4026532177}}}
	two := []Invariant{wantSysctl("arp_ignore", 1), wantSysctl("arp_announce", 2)}
	if _, err := s.ApplyLocked(context.Background(), h, "dr", nil, two, slog.New(slog.DiscardHandler), time.Second); err != nil {
		t.Fatal(err)
	}

	eng, err := applyOnce(t, s, h, two...)
	if err != nil {
		t.Fatal(err)
	}
	if eng.Record.pending == nil || len(eng.Record.Changes) != 0 {
		t.Errorf("a no-op apply decoded the record: %d change(s) decoded, pending %t", len(eng.Record.Changes), eng.Record.pending != nil)
	}

	eng, err = applyOnce(t, s, h, append(two, wantSysctl("forwarding", 1))...)
	if err != nil {
		t.Fatal(err)
	}
	if eng.Record.pending != nil {
		t.Error("an apply that changed something left the record's changes undecoded")
	}
	rec, err := s.Load()
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Changes) != 3 {
		t.Errorf("the record saved after a change holds %+v, want the two earlier changes and the new one", rec.Changes)
	}
}

// A record whose changes are JSON but not changes is found when they are
// first needed: an apply that would change something stops there, before
// any change, naming the file, which it leaves as it was; so does down.
func TestUndecodableChangesStopARunThatNeedsThem(t *testing.T) {
	h := NewSim(nil)
	s := State{Files: persist.Files{Dir: t.TempDir(), Netns: persist.Netns{Cookie: 4096, Inode: 4026532177}}}
	bad := `{"version":1,"netns":"` + s.Netns.String() + `","changes":[` + "\n" + `{"kind":"sysctl","from":"one"}` + "\n]}\n"
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(s.RecordPath(), []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	before := h.Render()
	run := func(what string, do func() error) {
		t.Helper()
		var re *RecordError
		if err := do(); !errors.As(err, &re) || !strings.Contains(err.Error(), s.RecordPath()) {
			t.Errorf("%s with undecodable changes: %v, want a RecordError naming the file", what, err)
		}
		if after := h.Render(); after != before {
			t.Errorf("%s with undecodable changes changed the host:\n%s", what, after)
		}
		if got, _ := os.ReadFile(s.RecordPath()); string(got) != bad {
			t.Errorf("%s with undecodable changes rewrote the record: %q", what, got)
		}
	}
	run("apply", func() error {
		_, err := applyOnce(t, s, h, wantSysctl("arp_ignore", 1))
		return err
	})
	run("down", func() error {
		v, err := s.Observe(h)
		if err != nil {
			return err
		}
		eng, err := NewEngine(v, "dr", slog.New(slog.DiscardHandler))
		if err != nil {
			return err
		}
		_, err = eng.Down(nil, false)
		return err
	})
}

// Loading a record with its changes pending and decoding them later
// accepts exactly the records that decoding it whole with encoding/json
// accepted (loadRecord only tells a list from a non-list by its first
// byte), and yields the same record.
func FuzzPendingRecordDecodesAsAWhole(f *testing.F) {
	const netns = "net:[4026532177]"
	head := `{"version":1,"netns":"` + netns + `","changes":`
	for _, changes := range []string{"[]", " [ ] ", "null", "", `{"kind":"x"}`, `"x"`, "1", "true",
		"[\n" + `{"kind":"addr-add","mode":"dr","addr":{"link":"lo","prefix":"10.200.0.1/32"}}` + "\n]",
		`[{"kind":"sysctl","from":"one"}]`, `[{"kind":"addr-add","addr":{"prefix":"10.0.0.300/32"}}]`,
		`[{"kind":"sysctl","sysctl":{"iface":"all","name":"arp_ignore"},"from":0,"to":1}, null]`, `[1]`} {
		f.Add(head + changes + "}")
	}
	f.Add(`{"changes":[{"kind":"link-up","link":"lo"}],"version":1,"netns":"` + netns + `","changes":[]}`)
	f.Add(`{"Version":1,"NETNS":"` + netns + `","Changes":[{"kind":"link-up"}]}`)
	f.Fuzz(func(t *testing.T, data string) {
		path := filepath.Join(t.TempDir(), "record.json")
		if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		var whole Record
		wholeErr := json.Unmarshal([]byte(data), &whole)
		if wholeErr == nil && (whole.Version != 1 || whole.Netns != netns) {
			wholeErr = errors.New("version or netns")
		}
		rec, err := loadRecord(path, netns)
		if err == nil {
			err = rec.decode()
		}
		if (err == nil) != (wholeErr == nil) {
			t.Fatalf("%q: pending then decoded: %v; decoded whole: %v", data, err, wholeErr)
		}
		if err != nil {
			if !errors.As(err, new(*RecordError)) {
				t.Fatalf("%q: %T %v, want a RecordError", data, err, err)
			}
			return
		}
		if len(whole.Changes) == 0 {
			whole.Changes = nil // null and [] are the same empty record
		}
		if len(rec.Changes) == 0 {
			rec.Changes = nil
		}
		if !reflect.DeepEqual(rec.Changes, whole.Changes) || rec.pending != nil {
			t.Fatalf("%q: pending then decoded %+v, decoded whole %+v", data, rec.Changes, whole.Changes)
		}
	})
}
