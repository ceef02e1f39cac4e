package watch

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/rsprep/rsprep/realserver"
)

// logFinding logs one drifted check with its subject, old value and cause,
// as journald fields (INVARIANT=, SUBJECT=, GOT=, CAUSE=).
func (w *watcher) logFinding(level slog.Level, msg string, f realserver.Finding, causes map[string][]string) {
	w.cfg.Log.LogAttrs(context.Background(), level, msg,
		slog.String("mode", w.target.Name), slog.String("invariant", f.ID), slog.String("subject", f.Subject),
		slog.String("want", f.Want), slog.String("got", f.Got), slog.String("cause", strings.Join(causeOf(causes, f.ID), "; ")))
}

// logFight is the one error that names a fight: which check (and
// subjects), how often, what keeps undoing it as far as the events show.
func (w *watcher) logFight(id string, subjects []string) {
	what := "nothing the netlink events show (a sysctl, seen at a resync)"
	if c := w.causes[id]; len(c) > 0 {
		what = strings.Join(c, "; ")
	}
	first := id + " " + subjects[0]
	subject := subjects[0]
	if len(subjects) > 1 {
		subject += fmt.Sprintf(" and %d more", len(subjects)-1)
	}
	n := w.damper.Repairs(first)
	w.cfg.Log.Error(fmt.Sprintf("something keeps undoing %s %s: repaired %d times within %v, undone again each time by: %s; not repairing it until %s (everything else is still kept)",
		id, subject, n, w.cfg.RepairWindow, what, w.damper.Until(first).Format(time.TimeOnly)),
		"mode", w.target.Name, "invariant", id, "subject", subject, "repairs", n, "window", w.cfg.RepairWindow.String(), "cause", what)
}

// causeOf is the events behind a check's re-check.
func causeOf(causes map[string][]string, id string) []string {
	if c := causes[id]; len(c) > 0 {
		return c
	}
	return causes["*"]
}

// status is the watcher's state for the textfile.
func (w *watcher) status() Status {
	s := Status{Mode: w.target.Name, Repairs: map[string]int{}, Drift: map[string]int{}, Fights: w.fights(time.Now()), LastResync: w.resync}
	n := 0
	for _, fs := range w.results {
		n += len(fs)
	}
	s.Checks = make([]realserver.Finding, 0, n) // one allocation: 20,000 findings at 10,000 VIPs
	for i, fs := range w.results {
		s.Checks = append(s.Checks, fs...)
		for id := range w.ids[i] {
			s.Repairs[id], s.Drift[id] = w.repairs[id], w.drift[id]
			if !s.Fights[id] {
				s.Fights[id] = false
			}
		}
	}
	// Checks of an earlier config keep their counters: a counter never
	// goes back.
	for id, n := range w.repairs {
		s.Repairs[id] = n
	}
	for id, n := range w.drift {
		s.Drift[id] = n
		if _, ok := s.Repairs[id]; !ok {
			s.Repairs[id] = 0
		}
	}
	for id := range s.Repairs {
		if _, ok := s.Drift[id]; !ok {
			s.Drift[id] = 0
		}
	}
	return s
}

// fights is the check IDs with a subject damped at now.
func (w *watcher) fights(now time.Time) map[string]bool {
	out := map[string]bool{}
	for _, k := range w.damper.Fights(now) {
		id, _, _ := strings.Cut(k, " ") // fightKey: ID, space, subject
		out[id] = true
	}
	return out
}

// publish hands the status on when it changed, or always with force (a
// resync refreshes the textfile's timestamp), and STATUS= when its line
// changed. Both are worked out from the failing findings alone: at 10,000
// VIPs a copy of every finding at every re-check would be most of a
// repair's time.
func (w *watcher) publish(force bool) {
	var key strings.Builder
	total, failing, first := 0, 0, ""
	for _, fs := range w.results {
		total += len(fs)
		for _, f := range fs {
			if f.OK {
				continue
			}
			if failing == 0 {
				first = f.ID + " " + f.Subject
			}
			failing++
			key.WriteString(f.ID + " " + f.Subject + "\n")
		}
	}
	repairs := 0
	for _, n := range w.repairs {
		repairs += n
	}
	fights := w.fights(time.Now())
	fmt.Fprintf(&key, "%d %v %v %v", total, w.repairs, w.drift, fights)
	if k := key.String(); force || k != w.lastKey {
		w.lastKey = k
		if w.cfg.Publish != nil {
			if err := w.cfg.Publish(w.status()); err != nil {
				w.cfg.Log.Warn("writing the status", "err", oneLine(err))
			}
		}
	}
	if sum := summary(w.target.Name, total, failing, first, repairs, slices.Sorted(maps.Keys(fights))); sum != w.lastSummary {
		w.lastSummary = sum
		w.notify("STATUS=" + sum)
	}
}

func oneLine(err error) string { return strings.Join(strings.Fields(err.Error()), " ") }
