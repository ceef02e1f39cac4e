package realserver_test

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rsprep/rsprep/realserver"
	"github.com/rsprep/rsprep/realserver/fake"
)

// kindRaise is a kind defined outside the engine, as tunnel defines its
// own: this file is all it takes.
const kindRaise realserver.Kind = "test-raise"

func init() {
	realserver.RegisterKind(realserver.KindDef{
		Kind:      kindRaise,
		Phase:     2,
		Run:       func(h realserver.Host, c realserver.Change) error { return h.SetLinkUp(c.Link, true) },
		Say:       func(c realserver.Change) string { return "raise " + c.Link },
		Inverse:   realserver.WithKind(realserver.KindLinkDown),
		OwnerKey:  func(c realserver.Change) string { return "raised " + c.Link },
		StillOurs: stillRaised,
	})
}

func stillRaised(v *realserver.View, c, undo realserver.Change) (*realserver.Change, string, error) {
	l, ok, err := v.Link(c.Link)
	if err != nil || !ok {
		return nil, "", err
	}
	if !l.Up {
		return nil, "left " + c.Link + " alone: it is down already", nil
	}
	return &undo, "", nil
}

// raised is an invariant whose fix is a change of kindRaise.
func raised(link string) realserver.Invariant {
	return realserver.CheckFunc(func(v *realserver.View) ([]realserver.Finding, error) {
		l, _, err := v.Link(link)
		f := realserver.Finding{ID: "test.raised", Subject: link, Want: "up", Got: "down", OK: l.Up}
		if !f.OK {
			f.Fix = []realserver.Change{{Kind: kindRaise, Link: link}}
		}
		return []realserver.Finding{f}, err
	})
}

// A kind registered from another package goes through the whole engine
// without the engine knowing it: planned and said by --dry-run, recorded
// before it runs, made on the host, and undone by down only while it is
// still as rsprep left it.
func TestAKindRegisteredOutsideTheEngineIsAppliedRecordedAndUndone(t *testing.T) {
	h := fake.New()
	h.AddLink(realserver.Link{Name: "dummy0", Type: "dummy"})
	path := filepath.Join(t.TempDir(), "record.json")
	invs := []realserver.Invariant{raised("dummy0")}

	dry, err := quietEngine(h, loadRecord(t, path), "test").Apply(invs, true)
	if err != nil || len(dry.Changes) != 1 || dry.Changes[0].String() != "raise dummy0" {
		t.Fatalf("dry run: %v, plan %v", err, dry.Changes)
	}
	if _, err := quietEngine(h, loadRecord(t, path), "test").Apply(invs, false); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(h.Render(), "link dummy0 type dummy up=true") {
		t.Fatalf("apply did not raise dummy0:\n%s", h.Render())
	}
	if rec := loadRecord(t, path); len(rec.Changes) != 1 || rec.Changes[0].Kind != kindRaise {
		t.Fatalf("record %+v, want the one change of the new kind", rec.Changes)
	}

	res, err := quietEngine(h, loadRecord(t, path), "test").Down(nil, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Changes) != 1 || res.Changes[0].String() != "ip link set dev dummy0 down" {
		t.Fatalf("down made %v, want dummy0 set down", res.Changes)
	}
	if !strings.Contains(h.Render(), "link dummy0 type dummy up=false") {
		t.Fatalf("down did not set dummy0 down:\n%s", h.Render())
	}
	if rec := loadRecord(t, path); len(rec.Changes) != 0 {
		t.Fatalf("after down the record still owns %+v", rec.Changes)
	}

	// Raised again, then set down by somebody: down leaves it, and says so.
	if _, err := quietEngine(h, loadRecord(t, path), "test").Apply(invs, false); err != nil {
		t.Fatal(err)
	}
	if err := h.SetLinkUp("dummy0", false); err != nil {
		t.Fatal(err)
	}
	res, err = quietEngine(h, loadRecord(t, path), "test").Down(nil, false)
	if err != nil || len(res.Changes) != 0 || !slices.Contains(res.Notes, "left dummy0 alone: it is down already") {
		t.Fatalf("down of a change undone by somebody: %v, changes %v, notes %q", err, res.Changes, res.Notes)
	}
}
