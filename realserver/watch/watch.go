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
