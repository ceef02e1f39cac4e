package watch

import (
	"testing"
	"time"
)

func TestDamperStopsAFightAndRetriesAfterTheWindow(t *testing.T) {
	d := Damper{Max: 3, Window: time.Minute}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	now := t0
	for i := 1; i <= 3; i++ {
		if ok, started := d.Allow("vip.bound", now); !ok || started {
			t.Fatalf("repair %d refused (started=%v)", i, started)
		}
		now = now.Add(time.Second)
	}
	ok, started := d.Allow("vip.bound", now)
	if ok || !started {
		t.Fatalf("4th repair within the window: ok=%v started=%v, want refused, fight started", ok, started)
	}
	if !d.Damped("vip.bound", now) || d.Repairs("vip.bound") != 3 {
		t.Fatalf("damped=%v repairs=%d", d.Damped("vip.bound", now), d.Repairs("vip.bound"))
	}
	// Refused again while it lasts, and the fight is announced once only.
	for i := 0; i < 100; i++ {
		now = now.Add(200 * time.Millisecond)
		if ok, started := d.Allow("vip.bound", now); ok || started {
			t.Fatalf("during the fight: ok=%v started=%v", ok, started)
		}
	}
	// Other checks are still repaired.
	if ok, _ := d.Allow("arp.ignore", now); !ok {
		t.Fatal("a fight over vip.bound damped arp.ignore")
	}
	if got := d.Fights(now); len(got) != 1 || got[0] != "vip.bound" {
		t.Fatalf("Fights = %v", got)
	}
	end := d.Until("vip.bound")
	if want := t0.Add(3 * time.Second).Add(time.Minute); !end.Equal(want) || !d.NextEnd(now).Equal(want) {
		t.Fatalf("until %v, NextEnd %v, want %v", end, d.NextEnd(now), want)
	}
	// Once the window has passed it is tried again, afresh.
	if ok, started := d.Allow("vip.bound", end); !ok || started {
		t.Fatalf("after the window: ok=%v started=%v", ok, started)
	}
	if d.Damped("vip.bound", end) || d.Repairs("vip.bound") != 1 || !d.NextEnd(end).IsZero() {
		t.Fatalf("after the window: damped=%v repairs=%d next=%v", d.Damped("vip.bound", end), d.Repairs("vip.bound"), d.NextEnd(end))
	}
}

// Repairs spread wider than the window never add up to a fight.
func TestDamperForgetsOldRepairs(t *testing.T) {
	d := Damper{Max: 2, Window: 10 * time.Second}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < 20; i++ {
		if ok, _ := d.Allow("arp.ignore", now); !ok {
			t.Fatalf("repair %d, %v apart, refused", i, 6*time.Second)
		}
		now = now.Add(6 * time.Second)
	}
}
