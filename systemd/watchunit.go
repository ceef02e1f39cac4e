package systemd

import (
	"path"
	"strings"

	"github.com/coreos/go-systemd/v22/unit"
)

// WatchdogSec is the watch unit's watchdog: rsprep watch sends WATCHDOG=1
// at half of it from its event loop, so a loop stuck longer than this is
// restarted. It is watch.WatchdogFor the default --lock-wait (10s): a
// repair may wait that long for the lock, plus 5s for the repair, an ARP
// probe or resubscribing. A watcher given a longer --lock-wait raises
// its own watchdog at start (sd_notify WATCHDOG_USEC=).
const WatchdogSec = "30s"

// watchService is the [Service] of the watch unit: rsprep watch runs for
// as long as the unit does, says READY=1 once its first apply did what it
// could (so Before= units start after the VIPs are bound, as with the
// oneshot; a director not up yet is a degraded STATUS=, not a failure),
// and STATUS= a one-line summary.
//
// Stopping: ExecStop first sends SIGTERM (a repair in flight stops at a
// safe point and rolls back, and watch exits 0), then runs down. down
// waits for the lock a repair holds and records, under it, what it takes
// down; a watcher still running honours that before any repair, so the
// two never fight, whatever their order (persist.StandDown). A failure
// (crash, watchdog) restarts the watcher without down: the host keeps its
// VIPs meanwhile.
func (u UnitSpec) watchService() []*unit.UnitOption {
	watch := u.Binary + " watch --config " + u.Config
	if len(u.WatchFlags) > 0 {
		watch += " " + strings.Join(u.WatchFlags, " ")
	}
	opts := []*unit.UnitOption{
		unit.NewUnitOption("Service", "Type", "notify"),
		unit.NewUnitOption("Service", "NotifyAccess", "main"),
		unit.NewUnitOption("Service", "ExecStart", watch),
		// reload: SIGHUP re-reads the config and converges to it; a bad
		// one is refused, logged, and the old one kept.
		unit.NewUnitOption("Service", "ExecReload", "/bin/kill -HUP $MAINPID"),
		unit.NewUnitOption("Service", "ExecStop", "-/bin/kill -TERM $MAINPID"),
		unit.NewUnitOption("Service", "ExecStop", u.downAll()),
		unit.NewUnitOption("Service", "Restart", "on-failure"),
		unit.NewUnitOption("Service", "RestartSec", "5s"),
		unit.NewUnitOption("Service", "WatchdogSec", WatchdogSec),
	}
	// The textfile's directory stays writable under a hardened unit
	// (ProtectSystem=strict); "-": a directory missing at start is no error.
	for i, f := range u.WatchFlags {
		if f == "--textfile" && i+1 < len(u.WatchFlags) {
			opts = append(opts, unit.NewUnitOption("Service", "ReadWritePaths", "-"+path.Dir(u.WatchFlags[i+1])))
		}
	}
	return opts
}
