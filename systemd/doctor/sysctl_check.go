package doctor

import (
	"fmt"
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
