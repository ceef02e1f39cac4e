package realserver

import (
	"fmt"
	"strconv"
)

// EffectiveSysctl checks a sysctl whose value the kernel takes as
// max(conf/all, conf/IFACE) (arp_ignore, arp_announce, rp_filter): checking
// one key is wrong, the effective value per interface is what counts.
type EffectiveSysctl struct {
	ID   string
	Name string // arp_ignore
	Want int
	// Direct keys are set to Want exactly: all, and default so that an
	// interface created later inherits it.
	Direct []string
	// The interfaces whose effective value is checked: every up,
	// ARP-capable one when UpARPCapable, and Ifaces (tunl0) always. Data,
	// not a function, so that doctor can ask which interfaces a mode needs.
	UpARPCapable bool
	Ifaces       []string
	// RaiseIface: when the effective value is too low, raise the interface's
	// own key rather than all (the minimal change when all is left alone).
	RaiseIface bool
}

// Check implements Invariant.
func (s EffectiveSysctl) Check(v *View) ([]Finding, error) {
	var out []Finding
	for _, iface := range s.Direct {
		k := SysctlKey{Iface: iface, Name: s.Name}
		got, err := v.Sysctl(k)
		if err != nil {
			return nil, err
		}
		f := Finding{ID: s.ID, Subject: iface, Want: strconv.Itoa(s.Want), Got: strconv.Itoa(got), OK: got == s.Want}
		if !f.OK {
			f.Fix = []Change{{Kind: KindSysctl, Sysctl: k, From: got, To: s.Want}}
		}
		out = append(out, f)
	}
	subjects, err := s.subjects(v)
	if err != nil {
		return nil, err
	}
	allKey := SysctlKey{Iface: "all", Name: s.Name}
	for _, iface := range subjects {
		if _, exists, err := v.Link(iface); err != nil {
			return nil, err
		} else if !exists {
			// A device that does not exist yet (tunl0 before ipip is
			// loaded) has no value to read: that is drift another fix
			// resolves first, not a host that cannot be observed.
			out = append(out, Finding{ID: s.ID, Subject: iface, Want: strconv.Itoa(s.Want), Got: "absent", Detail: iface + " does not exist yet"})
			continue
		}
		all, err := v.Sysctl(allKey)
		if err != nil {
			return nil, err
		}
		k := SysctlKey{Iface: iface, Name: s.Name}
		own, err := v.Sysctl(k)
		if err != nil {
			return nil, err
		}
		eff := max(all, own)
		f := Finding{
			ID: s.ID, Subject: iface, Want: strconv.Itoa(s.Want), Got: strconv.Itoa(eff), OK: eff == s.Want,
			Detail: fmt.Sprintf("conf/all=%d conf/%s=%d", all, iface, own),
		}
		if !f.OK {
			f.Fix = s.fix(allKey, all, k, own)
		}
		out = append(out, f)
	}
	return out, nil
}

func (s EffectiveSysctl) subjects(v *View) ([]string, error) {
	var names []string
	if s.UpARPCapable {
		var err error
		if names, err = UpARPCapable(v); err != nil {
			return nil, err
		}
	}
	return append(names, s.Ifaces...), nil
}

// fix plans the fewest writes that make max(all, own) == Want.
func (s EffectiveSysctl) fix(allKey SysctlKey, all int, k SysctlKey, own int) []Change {
	var cs []Change
	toAll, toOwn := s.Converge(all, own)
	if toAll != all {
		cs = append(cs, Change{Kind: KindSysctl, Sysctl: allKey, From: all, To: toAll})
	}
	if toOwn != own {
		cs = append(cs, Change{Kind: KindSysctl, Sysctl: k, From: own, To: toOwn})
	}
	return cs
}

// Converge is the values of conf/all and conf/IFACE after apply's fix:
// whatever is above Want is lowered, and if the maximum is then below
// Want, all (or with RaiseIface the interface) is raised. Doctor uses it
// to know the host rsprep leaves before other agents act on it.
func (s EffectiveSysctl) Converge(all, own int) (int, int) {
	if max(all, own) == s.Want {
		return all, own
	}
	all, own = min(all, s.Want), min(own, s.Want)
	if max(all, own) < s.Want {
		if s.RaiseIface {
			own = s.Want
		} else {
			all = s.Want
		}
	}
	return all, own
}
