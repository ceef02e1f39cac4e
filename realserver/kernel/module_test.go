package kernel

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// waitModuleLive returns once the module's initstate is no longer
// "coming" (another process's load has finished its init), at once when
// there is no initstate (a built-in module) or it is "live", and at the
// bound when the init never finishes.
func TestWaitModuleLiveWaitsOutAnotherLoadersInit(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "initstate")
	write := func(s string) {
		if err := os.WriteFile(state+".tmp", []byte(s+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(state+".tmp", state); err != nil {
			t.Fatal(err)
		}
	}

	write("coming")
	done := make(chan struct{})
	go func() { waitModuleLive(state, time.Minute); close(done) }()
	select {
	case <-done:
		t.Fatal("returned while the module was still coming")
	case <-time.After(100 * time.Millisecond):
	}
	write("live")
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("still waiting 30 s after the module went live")
	}

	for _, c := range []struct{ name, path string }{
		{"built in (no initstate)", filepath.Join(dir, "absent")},
		{"live", state},
	} {
		start := time.Now()
		waitModuleLive(c.path, time.Minute)
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("%s: waited %v, want no wait", c.name, d)
		}
	}

	write("coming")
	start := time.Now()
	waitModuleLive(state, 200*time.Millisecond)
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Errorf("a module coming forever: returned after %v, before the bound", d)
	}
}
