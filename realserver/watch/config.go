package watch

import (
	"log/slog"
	"os"
	"time"

	"github.com/rsprep/rsprep/realserver"
)

// Target is the desired state being kept: a mode and its name.
type Target struct {
	Name string
	Mode realserver.Mode
}

// Config is one watcher's setup. Run takes it as given: the caller has
// validated the durations and counts.
type Config struct {
	Host     realserver.Host
	State    realserver.State // the namespace's record and lock
	Target   Target
	Log      *slog.Logger
	LockWait time.Duration // for each repair, as apply's --lock-wait

	Resync       time.Duration // full re-check period (most sysctls send no events)
	MaxRepairs   int           // repairs of one check within RepairWindow before it is damped
	RepairWindow time.Duration
	Report       bool // --on-drift report: log and count drift, change nothing

	// Debounce is how long a burst of events must stay quiet before the
	// re-check (MaxDelay bounds it while events keep coming): a
	// 10,000-address change is a few re-checks, not 10,000.
	Debounce, MaxDelay time.Duration

	// Signals delivers SIGTERM/SIGINT (stop, change nothing) and SIGHUP
	// (Reload). The caller registers them before Run, so a signal during
	// the first apply waits for it to finish rather than kill it half-way.
	Signals <-chan os.Signal
	// Reload re-reads the desired state (SIGHUP); nil when there is no
	// config file to re-read.
	Reload func() (Target, error)
	// Declared: the target is a config file's, the whole desired state.
	// The first apply and each SIGHUP's converge to it: they also undo
	// what rsprep owns here beyond it.
	Declared bool
	// Publish receives the status whenever it changes and at each resync
	// (the textfile); Notify sends one sd_notify message. Either may be nil.
	Publish func(Status) error
	Notify  func(state string)
	// Subscribe opens the kernel's events; nil: the netlink address, link,
	// route, neighbour, rule and netconf groups of this thread's network
	// namespace. It is
	// called again after events were lost (KindLost).
	Subscribe func() (Source, error)
	// Watchdog is systemd's WatchdogSec (0: none): WATCHDOG=1 goes out at
	// half of it. One shorter than WatchdogFor(LockWait) is raised to that
	// (sd_notify WATCHDOG_USEC=), so a repair that waits its whole
	// --lock-wait cannot trip it.
	Watchdog time.Duration
}

// Blocking bounds: the longest the loop is away from its select, beside
// a repair's --lock-wait, is resubscribing after lost events (tries, a gap
// between each), which also covers a repair itself with a silent gateway's
// or director's ARP probe (1.5s). blockSlack is derived from the retries,
// so more retries can never outlast the watchdog.
const (
	resubscribeTries = 5 // then watch exits 3 and systemd restarts it
	resubscribeGap   = time.Second
	blockSlack       = resubscribeTries * resubscribeGap
)

// WatchdogFor is the shortest WatchdogSec a watcher with this --lock-wait
// keeps: WATCHDOG=1 goes out at half of it, so the loop may be away for
// just under half (the unit's 30s: the default --lock-wait 10s).
func WatchdogFor(lockWait time.Duration) time.Duration {
	return 2 * (lockWait + blockSlack)
}

// Defaults for the debounce: short enough for a median reaction well
// under 100 ms, long enough to fold a burst.
const (
	DefaultDebounce = 10 * time.Millisecond
	DefaultMaxDelay = time.Second
)
