package main

import (
	"testing"
	"time"

	"github.com/rsprep/rsprep/realserver/watch"
	"github.com/rsprep/rsprep/systemd"
)

// The watch unit's WatchdogSec is what watch needs at watch's default
// --lock-wait (watch.WatchdogFor): a repair that waits its whole
// --lock-wait for the lock cannot trip it, and the watcher the unit runs
// need not raise it. A longer --lock-wait raising it is
// TestWatchStartsBeforeTheDirector's (test/), with systemd as PID 1 the
// boot test's watch scenario (watchdog-30s-not-raised).
func TestWatchUnitWatchdogFitsDefaultLockWait(t *testing.T) {
	fs, _ := watchFlagSet("", modeDefs()[""], &options{}, &watchOptions{})
	lockWait, err := fs.GetDuration("lock-wait")
	if err != nil {
		t.Fatal(err)
	}
	sec, err := time.ParseDuration(systemd.WatchdogSec)
	if err != nil {
		t.Fatal(err)
	}
	if want := watch.WatchdogFor(lockWait); sec != want {
		t.Errorf("WatchdogSec=%s, but watch with --lock-wait %s needs %s", systemd.WatchdogSec, lockWait, want)
	}
}
