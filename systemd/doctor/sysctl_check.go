package doctor

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/rsprep/rsprep/realserver"
)

// laterIface stands for an interface created after rsprep ran: it inherits
// conf/default, then udev runs systemd-sysctl with its prefix, which
// applies every glob whose interface part matches any name. No real
// interface is named with a control character, so only wildcard patterns
// (*, ?) match it.
const laterIface = "\x01"

// sysctls reads sysctl.d and reports each assignment that, re-applied,
// breaks one of the mode's effective values.
func (d *doctor) sysctls() {
	d.sd = readSysctlD(d.t)
	blamed := map[string]*blame{}
	for _, s := range d.in.Footprint.Sysctls {
		d.effective(s, blamed)
	}
	for _, b := range sortedBlames(blamed) {
		d.add(b.finding())
	}
	d.forwarding()
	d.acceptRA()
}

// blame is one sysctl.d line and what it breaks.
type blame struct {
	a        Assignment
	inv      realserver.EffectiveSysctl
	subjects []string
	keys     []string // the keys it breaks that an explicit line can keep
}

func (b *blame) finding() Finding {
	want := strconv.Itoa(b.inv.Want)
	fix := fmt.Sprintf("change it to %s or remove it", want)
	if b.a.glob() {
		fix = "remove it, or narrow it"
		if len(b.keys) > 0 {
			var lines []string
			for _, k := range b.keys {
				lines = append(lines, dotted(k)+" = "+want)
			}
			keep := " keeps that key"
			if len(lines) > 1 {
				keep = " keep those keys"
			}
			fix += "; an explicit key beats any glob, so " + strings.Join(lines, " and ") + " in /etc/sysctl.d/" + keep
		}
	}
	if b.inv.ID == "rp.filter" && b.inv.Want == 0 && b.a.Value == "2" {
		fix += "; or keep it and run tun with --rp-filter loose (2 lets decapsulated packets in, as long as no line sets 1)"
	}
	return Finding{
		ID:      "sysctl.override",
		Source:  b.a.Source,
		Subject: dotted(b.a.Key),
		What: fmt.Sprintf("sysctl --system (and udev, for a new interface) writes %s = %s: %s (effective value max(all, interface)) becomes wrong on %s; %s wants %s",
			dotted(b.a.Key), b.a.Value, b.inv.Name, strings.Join(b.subjects, ", "), b.inv.ID, want),
		Fix: fix,
	}
}

func sortedBlames(m map[string]*blame) []*blame {
	var out []*blame
	for _, b := range m {
		out = append(out, b)
	}
	slices.SortFunc(out, func(x, y *blame) int { return strings.Compare(x.a.Source+x.inv.ID, y.a.Source+y.inv.ID) })
	return out
}

// effective simulates one EffectiveSysctl: the host as apply leaves it
// (Direct keys at Want, each interface converged), then sysctl.d on top,
// and blames each line that makes an effective value or a Direct key
// wrong.
func (d *doctor) effective(s realserver.EffectiveSysctl, blamed map[string]*blame) {
	key := func(iface string) string { return confKey(4, iface, s.Name) }
	live := func(iface string) int {
		if slices.Contains(s.Direct, iface) {
			return s.Want
		}
		if v, ok := d.facts.sysctl(key(iface)); ok {
			return v
		}
		v, _ := d.facts.sysctl(key("default")) // a device created later inherits default
		if slices.Contains(s.Direct, "default") {
			v = s.Want
		}
		return v
	}
	after := func(iface string, before int) (int, *Assignment) {
		a, ok := d.sd.Final(key(iface))
		if v, err := strconv.Atoi(a.Value); ok && err == nil {
			return v, &a
		}
		return before, nil
	}
	note := func(a *Assignment, subject, k string) {
		id := a.Source + "\x00" + s.ID
		b := blamed[id]
		if b == nil {
			b = &blame{a: *a, inv: s}
			blamed[id] = b
		}
		if !slices.Contains(b.subjects, subject) {
			b.subjects = append(b.subjects, subject)
		}
		if k != key(laterIface) && !slices.Contains(b.keys, k) {
			b.keys = append(b.keys, k)
		}
	}
	// blameWrong names every file line among set that keeps the effective
	// value off Want: all those above it when it is too high (the
	// effective value is their max, so fixing one alone leaves the next),
	// those below it when too low.
	blameWrong := func(eff int, subject string, set map[string]*Assignment) {
		if eff == s.Want {
			return
		}
		for _, k := range slices.Sorted(maps.Keys(set)) {
			a := set[k]
			if a == nil {
				continue
			}
			v, _ := strconv.Atoi(a.Value)
			if (eff > s.Want && v > s.Want) || (eff < s.Want && v < s.Want) {
				note(a, subject, k)
			}
		}
	}

	for _, iface := range s.Direct {
		if v, a := after(iface, s.Want); a != nil && v != s.Want {
			note(a, "conf/"+iface+" (verify reports it)", key(iface))
		}
	}
	var subjects []string
	if s.UpARPCapable {
		for _, l := range d.facts.Links {
			if l.Up && l.ARPCapable {
				subjects = append(subjects, l.Name)
			}
		}
	}
	subjects = append(subjects, s.Ifaces...)
	for _, iface := range subjects {
		allC, ownC := s.Converge(live("all"), live(iface))
		allP, aAll := after("all", allC)
		ownP, aOwn := after(iface, ownC)
		blameWrong(max(allP, ownP), iface, map[string]*Assignment{key("all"): aAll, key(iface): aOwn})
	}
	if s.UpARPCapable {
		// An interface created later: all as above, its own value from
		// default (after sysctl.d), then, when udev runs, what
		// systemd-sysctl applies for its name.
		allC, _ := s.Converge(live("all"), live("default"))
		allP, aAll := after("all", allC)
		defP, aDef := after("default", live("default"))
		ownP, aOwn := defP, (*Assignment)(nil)
		if d.facts.running(procUdev) {
			// udev's 99-systemd.rules runs systemd-sysctl --prefix for it.
			ownP, aOwn = after(laterIface, defP)
		}
		own := map[string]*Assignment{key("all"): aAll, key(laterIface): aOwn}
		if aOwn == nil {
			own = map[string]*Assignment{key("all"): aAll, key("default"): aDef}
		}
		blameWrong(max(allP, ownP), "interfaces created later", own)
	}
}

// value is a key's value after sysctl --system: the line that sets it, or
// the live value (source names it).
func (d *doctor) value(key string) (v int, source string, ok bool) {
	if a, set := d.sd.Final(key); set {
		if v, err := strconv.Atoi(a.Value); err == nil {
			return v, a.Source, true
		}
	}
	v, ok = d.facts.sysctl(key)
	return v, "live sysctl " + dotted(key), ok
}
