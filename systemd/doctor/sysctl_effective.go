package doctor

import (
	"maps"
	"slices"
	"strconv"

	"github.com/rsprep/rsprep/realserver"
)

// effective simulates one EffectiveSysctl: the host as apply leaves it
// (Direct keys at Want, each interface converged), then sysctl.d on top,
// and blames each line that makes an effective value or a Direct key
// wrong.
func (d *doctor) effective(s realserver.EffectiveSysctl, blamed map[string]*blame) {
	e := effectiveSim{d: d, s: s, blamed: blamed}
	e.directKeys()
	for _, iface := range e.subjects() {
		e.existing(iface)
	}
	if s.UpARPCapable {
		e.later()
	}
}

// effectiveSim is one EffectiveSysctl's simulation and the lines it
// blames, by source and invariant.
type effectiveSim struct {
	d      *doctor
	s      realserver.EffectiveSysctl
	blamed map[string]*blame
}

// directKeys blames each line that sets a Direct key off Want: verify
// reports it, the interface's own key.
func (e effectiveSim) directKeys() {
	for _, iface := range e.s.Direct {
		if v, a := e.after(iface, e.s.Want); a != nil && v != e.s.Want {
			e.note(a, "conf/"+iface+" (verify reports it)", e.key(iface))
		}
	}
}

// subjects are the interfaces whose effective value the invariant holds:
// every up ARP-capable link when it says so, then its named interfaces.
func (e effectiveSim) subjects() []string {
	var subjects []string
	if e.s.UpARPCapable {
		for _, l := range e.d.facts.Links {
			if l.Up && l.ARPCapable {
				subjects = append(subjects, l.Name)
			}
		}
	}
	return append(subjects, e.s.Ifaces...)
}

// existing simulates an interface that exists now: all and its own key
// converged, then sysctl.d on both.
func (e effectiveSim) existing(iface string) {
	allC, ownC := e.s.Converge(e.live("all"), e.live(iface))
	allP, aAll := e.after("all", allC)
	ownP, aOwn := e.after(iface, ownC)
	e.blameWrong(max(allP, ownP), iface, map[string]*Assignment{e.key("all"): aAll, e.key(iface): aOwn})
}

// later simulates an interface created later: all as for the others, its
// own value from default (after sysctl.d), then, when udev runs, what
// systemd-sysctl applies for its name.
func (e effectiveSim) later() {
	allC, _ := e.s.Converge(e.live("all"), e.live("default"))
	allP, aAll := e.after("all", allC)
	defP, aDef := e.after("default", e.live("default"))
	ownP, aOwn := defP, (*Assignment)(nil)
	if e.d.facts.running(procUdev) {
		// udev's 99-systemd.rules runs systemd-sysctl --prefix for it.
		ownP, aOwn = e.after(laterIface, defP)
	}
	own := map[string]*Assignment{e.key("all"): aAll, e.key(laterIface): aOwn}
	if aOwn == nil {
		own = map[string]*Assignment{e.key("all"): aAll, e.key("default"): aDef}
	}
	e.blameWrong(max(allP, ownP), "interfaces created later", own)
}

// key is the invariant's IPv4 conf key of iface.
func (e effectiveSim) key(iface string) string { return confKey(4, iface, e.s.Name) }

// live is iface's value as apply leaves it: Want for a Direct key, else
// the live value; a device created later inherits default.
func (e effectiveSim) live(iface string) int {
	if slices.Contains(e.s.Direct, iface) {
		return e.s.Want
	}
	if v, ok := e.d.facts.sysctl(e.key(iface)); ok {
		return v
	}
	v, _ := e.d.facts.sysctl(e.key("default"))
	if slices.Contains(e.s.Direct, "default") {
		v = e.s.Want
	}
	return v
}

// after is iface's value once sysctl.d is applied over before, and the
// line that set it (nil when none does).
func (e effectiveSim) after(iface string, before int) (int, *Assignment) {
	a, ok := e.d.sd.Final(e.key(iface))
	if v, err := strconv.Atoi(a.Value); ok && err == nil {
		return v, &a
	}
	return before, nil
}

// note blames line a for subject; k is the key it breaks, kept for the
// fix when an explicit line can keep it (not an interface created later).
func (e effectiveSim) note(a *Assignment, subject, k string) {
	id := a.Source + "\x00" + e.s.ID
	b := e.blamed[id]
	if b == nil {
		b = &blame{a: *a, inv: e.s}
		e.blamed[id] = b
	}
	if !slices.Contains(b.subjects, subject) {
		b.subjects = append(b.subjects, subject)
	}
	if k != e.key(laterIface) && !slices.Contains(b.keys, k) {
		b.keys = append(b.keys, k)
	}
}

// blameWrong names every file line among set that keeps the effective
// value off Want: all those above it when it is too high (the effective
// value is their max, so fixing one alone leaves the next), those below
// it when too low.
func (e effectiveSim) blameWrong(eff int, subject string, set map[string]*Assignment) {
	if eff == e.s.Want {
		return
	}
	for _, k := range slices.Sorted(maps.Keys(set)) {
		a := set[k]
		if a == nil {
			continue
		}
		v, _ := strconv.Atoi(a.Value)
		if (eff > e.s.Want && v > e.s.Want) || (eff < e.s.Want && v < e.s.Want) {
			e.note(a, subject, k)
		}
	}
}
