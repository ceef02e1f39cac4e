package watch

import (
	"context"
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
// a repair's --lock-wait: the repair itself and a silent gateway's or
// director's ARP probe (1.5s), or resubscribing after lost events.
const (
	blockSlack       = 5 * time.Second
	resubscribeTries = 5 // one a second; then watch exits 3 and systemd restarts it
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

// Run applies the target once (with Report it only checks it), then keeps
// it true (Report: logs and counts its drift) until SIGTERM or SIGINT
// (then it returns nil: a repair in flight stops at a safe point and rolls
// back what it changed, and nothing is changed after it), or until a down
// in this namespace makes it stand down (nil too, see
// realserver.StoodDownError). A first apply that cannot make everything
// hold (the director not up yet) is no reason to stop: it says READY with
// the failing checks in STATUS and keeps trying. It returns an error only
// when it cannot start: no netlink subscription, or a first apply that
// fails or is interrupted (exit codes as apply's).
func Run(cfg Config) error {
	if cfg.Debounce <= 0 {
		cfg.Debounce = DefaultDebounce
	}
	if cfg.MaxDelay <= 0 {
		cfg.MaxDelay = DefaultMaxDelay
	}
	if cfg.Subscribe == nil {
		ns, err := netns.Get() // the namespace of this (locked) thread: --netns was entered already
		if err != nil {
			return fmt.Errorf("opening this network namespace: %w", err)
		}
		defer ns.Close()
		cfg.Subscribe = func() (Source, error) { return subscribe(ns) }
	}
	// Subscribe before the first apply, so that nothing undone between the
	// apply and the subscription goes unseen.
	sub, err := cfg.Subscribe()
	if err != nil {
		return fmt.Errorf("subscribing to netlink events: %w", err)
	}
	w := newWatcher(cfg)
	defer func() { w.sub.Close() }()
	w.sub = sub
	// A stop signal cancels the repair in flight (it rolls back at its
	// next safe point) and then reaches the loop, which returns.
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	w.ctx = ctx
	w.signals = relaySignals(cfg.Signals, cancel)
	if err := w.apply(); err != nil {
		var nc *realserver.NotConvergedError
		if !errors.As(err, &nc) {
			return err
		}
		w.cfg.Log.Warn("not every check holds yet (a director not up yet?): watching anyway, repairing what can be repaired", "mode", w.target.Name, "failing", len(nc.Failing))
	}
	w.notify("READY=1")
	if cfg.Watchdog > 0 {
		if need := WatchdogFor(cfg.LockWait); cfg.Watchdog < need {
			w.notify(fmt.Sprintf("WATCHDOG_USEC=%d", need.Microseconds()))
			cfg.Log.Info("raised the watchdog: a repair may wait --lock-wait for the lock", "watchdog", cfg.Watchdog.String(), "now", need.String(), "lock-wait", cfg.LockWait.String())
			w.cfg.Watchdog = need
		}
		w.notify("WATCHDOG=1")
	}
	err = w.loop()
	var sd *realserver.StoodDownError
	if errors.As(err, &sd) {
		w.cfg.Log.Info("standing down: " + sd.Down.String() + "; watch repairs nothing after it (a new watch or an apply keeps it again)")
		w.notify("STOPPING=1")
		return nil
	}
	return err
}

// Source is a stream of kernel events: the namespace's netlink groups, or
// a test's synthetic ones. After a KindLost event the loop closes it and
// subscribes afresh.
type Source interface {
	Events() <-chan Event
	Close()
}

// closed is a Source that was closed already.
type closed struct{}

func (closed) Events() <-chan Event { return nil }
func (closed) Close()               {}

// relaySignals passes every signal on, and cancels the run with a stop
// signal as its cause first.
func relaySignals(in <-chan os.Signal, cancel context.CancelCauseFunc) <-chan os.Signal {
	out := make(chan os.Signal, 4)
	go func() {
		for sig := range in {
			if sig != syscall.SIGHUP {
				cancel(realserver.SignalError{Signal: sig})
			}
			out <- sig
		}
	}()
	return out
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
	at      []map[string]int // per invariant: subject → index in results, for merge (nil until needed)
	audits  map[string]bool  // check IDs of audits: reported, never repaired
	echoes  map[echoKey]bool // addresses the last repair added, whose events are its own (see echo)
	damper  Damper
	repairs map[string]int
	drift   map[string]int
	causes  map[string][]string // per check ID: the events that last undid it
	names   map[int]string      // ifindex → name, for the logs
	resync  time.Time
	sub     Source
	ctx     context.Context  // cancelled by a stop signal
	signals <-chan os.Signal // Config.Signals, relayed (see relaySignals)
	stood   error            // a *realserver.StoodDownError once a down was seen

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
		echoes:  map[echoKey]bool{},
		ctx:     context.Background(),
		signals: cfg.Signals,
	}
	w.setTarget(cfg.Target)
	return w
}

func (w *watcher) setTarget(t Target) {
	w.target = t
	w.invs = t.Mode.Invariants()
	w.results = make([][]realserver.Finding, len(w.invs))
	w.at = make([]map[string]int, len(w.invs))
	w.audits = map[string]bool{}
	w.ids = make([]map[string]bool, len(w.invs))
}

// apply makes the target true through the engine, then observes every
// check: the first apply, and after a SIGHUP. A first apply that cannot
// make everything hold returns its *NotConvergedError once it has
// observed: the caller goes on watching.
func (w *watcher) apply() error {
	if w.cfg.Report {
		return w.start() // --on-drift report changes nothing, at the start neither
	}
	var res realserver.Result
	var err error
	if w.cfg.Declared {
		d := realserver.Declared{Mode: w.target.Name, VIPs: w.target.Mode.VIPList(), Invs: w.invs}
		res, err = w.cfg.State.ConvergeLocked(w.ctx, w.cfg.Host, d, w.cfg.Log, w.cfg.LockWait)
	} else {
		res, err = w.cfg.State.ApplyLocked(w.ctx, w.cfg.Host, w.target.Name, w.target.Mode.VIPList(), w.invs, w.cfg.Log, w.cfg.LockWait)
	}
	var nc *realserver.NotConvergedError
	if errors.As(err, &nc) {
		for _, f := range nc.Failing {
			w.cfg.Log.Warn("still failing", "mode", w.target.Name, "invariant", f.ID, "subject", f.Subject, "want", f.Want, "got", f.Got)
		}
	} else if err != nil {
		return err
	}
	w.cfg.Log.Debug("applied", "mode", w.target.Name, "changes", len(res.Changes))
	if serr := w.start(); serr != nil {
		return serr
	}
	return err
}

// start observes every check: the state the loop keeps from here on.
// With --on-drift report it is the first reading, and the drift it finds
// is logged and counted as drift found later is.
func (w *watcher) start() error {
	if err := w.observe(FullScope()); err != nil {
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

func (w *watcher) loop() error {
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
		case sig := <-w.signals:
			if w.signal(sig) {
				return nil
			}
			continue
		default:
		}
		if w.stood != nil {
			return w.stood
		}
		select {
		case sig := <-w.signals:
			if w.signal(sig) {
				return nil
			}
		case ev := <-w.sub.Events():
			if ev.Kind == KindLost {
				w.cfg.Log.Warn("netlink events lost: re-subscribing and re-checking everything", "why", ev.Err)
				if err := w.resubscribe(); err != nil {
					return err
				}
			}
			w.name(&ev)
			if w.echo(ev) {
				continue
			}
			s := Affects(ev, w.invs, w.results)
			if s.Empty() {
				continue
			}
			noteCause(causes, w.causeKeys(s), ev)
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

func (w *watcher) resubscribe() error {
	w.sub.Close()
	var err error
	for try := 1; ; try++ {
		var sub Source
		if sub, err = w.cfg.Subscribe(); err == nil {
			w.sub = sub
			return nil
		}
		w.cfg.Log.Error("subscribing to netlink events again", "err", err.Error(), "try", try)
		if try == resubscribeTries { // rare (out of memory, fds): let systemd start afresh
			w.sub = closed{} // Run closes it once more
			return fmt.Errorf("subscribing to netlink events again, %d times: %w", try, err)
		}
		time.Sleep(time.Second)
	}
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

// noteCause remembers e as a cause of the checks keys ("*": all).
func noteCause(causes map[string][]string, keys []string, e Event) {
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
