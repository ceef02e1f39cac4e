package watch

import (
	"maps"
	"slices"
	"time"
)

// Damper stops a fight: when the same thing (a key: the watcher uses one
// check of one subject, "vip.bound 192.168.79.180") has been repaired Max
// times within Window, something keeps undoing it (keepalived's maintainers:
// blindly re-adding what someone removed is wrong without a policy), so it
// is left alone for one Window, then tried again. It is a plain value: the
// loop owns it, the tests drive it with their own clock.
type Damper struct {
	Max    int
	Window time.Duration
	checks map[string]*history
}

type history struct {
	repairs []time.Time // within the window
	until   time.Time   // damped until; zero: not damped
}

// Allow records a repair of check id at now and reports whether it may run.
// started is true for the one refusal that begins a fight, so the caller
// logs it once.
func (d *Damper) Allow(id string, now time.Time) (ok, started bool) {
	if d.checks == nil {
		d.checks = map[string]*history{}
	}
	h := d.checks[id]
	if h == nil {
		h = &history{}
		d.checks[id] = h
	}
	if !h.until.IsZero() {
		if now.Before(h.until) {
			return false, false
		}
		*h = history{} // the window has passed: try again, afresh
	}
	h.repairs = slices.DeleteFunc(h.repairs, func(t time.Time) bool { return now.Sub(t) >= d.Window })
	if len(h.repairs) >= d.Max {
		h.until = now.Add(d.Window)
		return false, true
	}
	h.repairs = append(h.repairs, now)
	return true, false
}

// Repairs is how many times id was repaired within the current window.
func (d *Damper) Repairs(id string) int {
	if h := d.checks[id]; h != nil {
		return len(h.repairs)
	}
	return 0
}

// Damped reports whether id is left alone at now.
func (d *Damper) Damped(id string, now time.Time) bool {
	h := d.checks[id]
	return h != nil && !h.until.IsZero() && now.Before(h.until)
}

// Until is when id's damping ends (zero when it is not damped).
func (d *Damper) Until(id string) time.Time {
	if h := d.checks[id]; h != nil {
		return h.until
	}
	return time.Time{}
}

// Fights lists the checks damped at now, sorted.
func (d *Damper) Fights(now time.Time) []string {
	var out []string
	for _, id := range slices.Sorted(maps.Keys(d.checks)) {
		if d.Damped(id, now) {
			out = append(out, id)
		}
	}
	return out
}

// NextEnd is the earliest end of a damping after now (zero: none), when
// the loop re-checks the damped checks.
func (d *Damper) NextEnd(now time.Time) time.Time {
	var next time.Time
	for _, h := range d.checks {
		if h.until.After(now) && (next.IsZero() || h.until.Before(next)) {
			next = h.until
		}
	}
	return next
}
