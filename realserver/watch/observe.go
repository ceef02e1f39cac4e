package watch

import (
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/rsprep/rsprep/realserver"
)

// all is every invariant's index.
func (w *watcher) all() []int {
	idx := make([]int, len(w.invs))
	for i := range idx {
		idx[i] = i
	}
	return idx
}

// selectInvs is the invariants a scope covers, in the mode's order.
func (w *watcher) selectInvs(s Scope) []int {
	if s.Full {
		return w.all()
	}
	return slices.Sorted(maps.Keys(s.Invs))
}

// causeKeys is what noteCause files an event under: the check IDs the
// scope's invariants last reported, or "*" for everything.
func (w *watcher) causeKeys(s Scope) []string {
	if s.Full {
		return []string{"*"}
	}
	var keys []string
	for i := range s.Invs {
		for id := range w.ids[i] {
			keys = append(keys, id)
		}
	}
	return keys
}

// observe checks the invariants idx on one fresh view and keeps their
// findings, without the lock, like verify. When the tables keep changing
// under every dump (another rsprep writing a large set), it waits for its
// turn as verify does, holding the lock shared, and observes again.
func (w *watcher) observe(s Scope) error {
	err := w.observeOn(w.cfg.State.NewView(w.cfg.Host), s)
	if !errors.Is(err, realserver.ErrKeepsChanging) {
		return err
	}
	unlock, lerr := w.cfg.State.RLock(w.cfg.LockWait)
	if lerr != nil {
		return fmt.Errorf("%w (and waiting for the writer: %v)", err, lerr)
	}
	defer unlock()
	return w.observeOn(w.cfg.State.NewView(w.cfg.Host), s)
}

func (w *watcher) observeOn(v *realserver.View, s Scope) error {
	for _, i := range w.selectInvs(s) {
		inv, some := w.invFor(i, s)
		fs, err := v.Verify([]realserver.Invariant{inv})
		if err != nil {
			return err
		}
		w.keep(i, fs, some)
	}
	if s.Full { // a full look: refresh the interface names too
		if links, err := v.Links(); err == nil {
			clear(w.names)
			for _, l := range links {
				w.names[l.Index] = l.Name
			}
		}
	}
	return nil
}

// invFor is invariant i as the scope re-checks it: the whole of it, or
// only the VIPs its events named (some).
func (w *watcher) invFor(i int, s Scope) (inv realserver.Invariant, some bool) {
	if ips := s.narrowed(i); ips != nil {
		if n, ok := w.invs[i].(realserver.Narrowable); ok {
			return n.Narrow(ips), true
		}
	}
	return w.invs[i], false
}

// keep records invariant i's latest findings and the check IDs they name;
// with some, fs are the findings of some of its subjects, which replace
// those subjects' findings.
func (w *watcher) keep(i int, fs []realserver.Finding, some bool) {
	if some {
		w.merge(i, fs)
		return
	}
	w.results[i] = fs
	w.at[i] = nil
	ids := make(map[string]bool, 1)
	audit := realserver.IsAudit(w.invs[i])
	for _, f := range fs {
		ids[f.ID] = true
		if audit {
			w.audits[f.ID] = true
		}
	}
	w.ids[i] = ids
}

// merge replaces the findings of fs's subjects in invariant i's findings
// (one each: a Narrowable's), adding those it had none for.
func (w *watcher) merge(i int, fs []realserver.Finding) {
	if w.at[i] == nil {
		w.at[i] = make(map[string]int, len(w.results[i]))
		for n, f := range w.results[i] {
			w.at[i][f.Subject] = n
		}
	}
	for _, f := range fs {
		if n, ok := w.at[i][f.Subject]; ok {
			w.results[i][n] = f
			continue
		}
		w.at[i][f.Subject] = len(w.results[i])
		w.results[i] = append(w.results[i], f)
		w.ids[i][f.ID] = true
	}
}
