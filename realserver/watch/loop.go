package watch

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"

	"github.com/rsprep/rsprep/realserver"
)

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
		time.Sleep(resubscribeGap)
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
