package watch

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"syscall"
	"time"

	"github.com/vishvananda/netns"

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

	Resync       time.Duration // full re-check period (sysctls send no events)
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
	// Publish receives the status whenever it changes and at each resync
	// (the textfile); Notify sends one sd_notify message. Either may be nil.
	Publish func(Status) error
	Notify  func(state string)
	// Watchdog is systemd's WatchdogSec (0: none): WATCHDOG=1 goes out at
	// half of it.
	Watchdog time.Duration
}

// Defaults for the debounce: short enough for a median reaction well
// under 100 ms, long enough to fold a burst.
const (
	DefaultDebounce = 10 * time.Millisecond
	DefaultMaxDelay = time.Second
)

// Run applies the target once (with Report it only checks it), then keeps
// it true (Report: logs and counts its drift) until SIGTERM or SIGINT
// (then it returns nil and has changed nothing since its last repair). It
// returns an error only when it cannot start: no netlink subscription, or
// a first apply that fails (exit codes as apply's).
func Run(cfg Config) error {
	if cfg.Debounce <= 0 {
		cfg.Debounce = DefaultDebounce
	}
	if cfg.MaxDelay <= 0 {
		cfg.MaxDelay = DefaultMaxDelay
	}
	ns, err := netns.Get() // the namespace of this (locked) thread: --netns was entered already
	if err != nil {
		return fmt.Errorf("opening this network namespace: %w", err)
	}
	defer ns.Close()
	// Subscribe before the first apply, so that nothing undone between the
	// apply and the subscription goes unseen.
	sub, err := subscribe(ns)
	if err != nil {
		return fmt.Errorf("subscribing to netlink events: %w", err)
	}
	w := newWatcher(cfg)
	defer func() { w.sub.close() }()
	w.sub = sub
	if err := w.apply(); err != nil {
		return err
	}
	w.notify("READY=1")
	return w.loop(ns)
}

// watcher is the loop's state. Only the loop's goroutine touches it.
type watcher struct {
	cfg    Config
	target Target
	invs   []realserver.Invariant
	// results[i] is invariant i's latest findings; ids[i] the check IDs it
	// reported, which is how an event's scope selects invariants.
	results [][]realserver.Finding
	ids     []map[string]bool
	damper  Damper
	repairs map[string]int
	drift   map[string]int
	causes  map[string][]string // per check ID: the events that last undid it
	names   map[int]string      // ifindex → name, for the logs
	resync  time.Time
	sub     *subscription

	lastKey, lastSummary string
}

func newWatcher(cfg Config) *watcher {
	if cfg.State.Cache == nil {
		// Every repair takes the lock and reads the record: only the
		// first, and the first after another rsprep wrote it, decode it.
		cfg.State.Cache = &realserver.RecordCache{}
	}
	if cfg.State.Answers == nil {
		// The gateway's ARP answer is asked at the first apply and at
		// each resync (a swapped router sends no event), and reused by
		// the re-checks events start in between: any neighbour's change
		// re-checks gw.pinned, and a probe each time would flood the
		// gateway, or wait out its bound each time if it is silent.
		cfg.State.Answers = map[realserver.Question]realserver.Answer{}
	}
	w := &watcher{
		cfg:     cfg,
		damper:  Damper{Max: cfg.MaxRepairs, Window: cfg.RepairWindow},
		repairs: map[string]int{},
		drift:   map[string]int{},
		causes:  map[string][]string{},
		names:   map[int]string{},
	}
	w.setTarget(cfg.Target)
	return w
}

func (w *watcher) setTarget(t Target) {
	w.target = t
	w.invs = t.Mode.Invariants()
	w.results = make([][]realserver.Finding, len(w.invs))
	w.ids = make([]map[string]bool, len(w.invs))
}

// apply makes the target true through the engine, then observes every
// check: the first apply, and after a SIGHUP.
func (w *watcher) apply() error {
	if w.cfg.Report {
		return w.start() // --on-drift report changes nothing, at the start neither
	}
	res, err := w.cfg.State.ApplyLocked(w.cfg.Host, w.target.Name, w.invs, w.cfg.Log, w.cfg.LockWait)
	if err != nil {
		var nc *realserver.NotConvergedError
		if errors.As(err, &nc) {
			for _, f := range nc.Failing {
				w.cfg.Log.Warn("still failing", "mode", w.target.Name, "invariant", f.ID, "subject", f.Subject, "want", f.Want, "got", f.Got)
			}
		}
		return err
	}
	w.cfg.Log.Debug("applied", "mode", w.target.Name, "changes", len(res.Changes))
	return w.start()
}

// start observes every check: the state the loop keeps from here on.
// With --on-drift report it is the first reading, and the drift it finds
// is logged and counted as drift found later is.
func (w *watcher) start() error {
	if err := w.observe(w.all()); err != nil {
		return err
	}
	if w.cfg.Report {
		for _, f := range w.failing(w.all()) {
			w.drift[f.ID]++
			w.logFinding(slog.LevelWarn, "drift (--on-drift report: not repairing)", f, map[string][]string{"*": {"found at start"}})
		}
	}
	w.resync = time.Now()
	w.publish(true)
	return nil
}

func (w *watcher) loop(ns netns.NsHandle) error {
	resync := time.NewTicker(w.cfg.Resync)
	defer resync.Stop()
	var watchdog <-chan time.Time
	if w.cfg.Watchdog > 0 {
		t := time.NewTicker(w.cfg.Watchdog / 2)
		defer t.Stop()
		watchdog = t.C
	}
	debounce := time.NewTimer(time.Hour)
	debounce.Stop()
	undamp := time.NewTimer(time.Hour)
	undamp.Stop()
	var burst Scope
	var burstStart time.Time
	causes := map[string][]string{}
	for {
		// A pending signal goes first: after SIGTERM nothing more is
		// repaired, even with events waiting (systemd's ExecStop runs
		// down right after it).
		select {
		case sig := <-w.cfg.Signals:
			if w.signal(sig) {
				return nil
			}
			continue
		default:
		}
		select {
		case sig := <-w.cfg.Signals:
			if w.signal(sig) {
				return nil
			}
		case ev := <-w.sub.events:
			if ev.Kind == KindLost {
				w.cfg.Log.Warn("netlink events lost: re-subscribing and re-checking everything", "why", ev.Err)
				w.resubscribe(ns)
			}
			w.name(&ev)
			s := Affects(ev)
			if s.Empty() {
				continue
			}
			noteCause(causes, s, ev)
			now := time.Now()
			if burst.Empty() {
				burstStart = now
			}
			burst.Add(s)
			debounce.Reset(min(w.cfg.Debounce, burstStart.Add(w.cfg.MaxDelay).Sub(now)))
		case <-debounce.C:
			s, c := burst, causes
			burst, causes = Scope{}, map[string][]string{}
			w.recheck(s, c, false)
		case <-resync.C:
			w.recheck(FullScope(), map[string][]string{"*": {"resync"}}, true)
		case <-undamp.C:
			w.recheck(FullScope(), map[string][]string{"*": {"end of a fight's repair window"}}, false)
		case <-watchdog:
			w.notify("WATCHDOG=1")
		}
		if next := w.damper.NextEnd(time.Now()); !next.IsZero() {
			undamp.Reset(time.Until(next))
		}
	}
}

// signal handles one signal and reports whether to stop.
func (w *watcher) signal(sig os.Signal) bool {
	if sig != syscall.SIGHUP {
		w.cfg.Log.Info("stopping: leaving the host as it is", "signal", sig.String())
		w.notify("STOPPING=1")
		return true
	}
	if w.cfg.Reload == nil {
		w.cfg.Log.Info("SIGHUP: no config file to re-read (started with the mode's flags); re-checking everything")
		w.recheck(FullScope(), map[string][]string{"*": {"SIGHUP"}}, true)
		return false
	}
	t, err := w.cfg.Reload()
	if err == nil {
		clear(w.cfg.State.Answers) // a new config: ask the network afresh
		err = w.preflight(t.Mode)
	}
	if err != nil {
		w.cfg.Log.Error("SIGHUP: keeping the current desired state: the config is not usable", "err", err.Error())
		return false
	}
	w.notify("RELOADING=1")
	w.setTarget(t)
	w.cfg.Log.Info("SIGHUP: config re-read, applying it", "mode", t.Name)
	if err := w.apply(); err != nil {
		w.cfg.Log.Error("SIGHUP: applying the new config failed; watching it anyway", "err", err.Error())
	}
	w.notify("READY=1")
	return false
}

// preflight rejects a new config that contradicts the host, as apply
// does: unlocked, or under the lock when another rsprep's writing keeps
// the tables changing.
func (w *watcher) preflight(m realserver.Mode) error {
	err := m.Preflight(w.cfg.State.NewView(w.cfg.Host))
	if !errors.Is(err, realserver.ErrKeepsChanging) {
		return err
	}
	unlock, err := w.cfg.State.Lock(w.cfg.LockWait)
	if err != nil {
		return err
	}
	defer unlock()
	return m.Preflight(w.cfg.State.NewView(w.cfg.Host))
}

func (w *watcher) resubscribe(ns netns.NsHandle) {
	w.sub.close()
	sub, err := subscribe(ns)
	for err != nil { // rare (out of memory, fds): try again, never spin
		w.cfg.Log.Error("subscribing to netlink events again", "err", err.Error())
		time.Sleep(time.Second)
		sub, err = subscribe(ns)
	}
	w.sub = sub
}

// name fills in an event's interface name, and keeps the index → name map
// from link events.
func (w *watcher) name(e *Event) {
	if e.Kind == KindLink {
		if e.Gone {
			delete(w.names, e.LinkIndex)
		} else if e.Link != "" {
			w.names[e.LinkIndex] = e.Link
		}
		return
	}
	if e.Link == "" {
		e.Link = w.names[e.LinkIndex]
	}
}

// maxCauses bounds the events kept per check to name as a repair's cause.
const maxCauses = 3

// noteCause remembers e as a cause of the checks in s (key "*": all).
func noteCause(causes map[string][]string, s Scope, e Event) {
	keys := []string{"*"}
	if !s.Full {
		keys = keys[:0]
		for id := range s.IDs {
			keys = append(keys, id)
		}
	}
	for _, k := range keys {
		if len(causes[k]) >= maxCauses {
			continue
		}
		d := e.String()
		dup := false
		for _, c := range causes[k] {
			dup = dup || c == d
		}
		if !dup {
			causes[k] = append(causes[k], d)
		}
	}
}

func (w *watcher) notify(state string) {
	if w.cfg.Notify != nil {
		w.cfg.Notify(state)
	}
}
