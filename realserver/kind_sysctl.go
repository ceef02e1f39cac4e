package realserver

import (
	"fmt"
	"log/slog"
)

// KindSysctl writes Sysctl From → To. Down restores From while the value
// is still To, and only once no VIP needs the ARP suppression.
const KindSysctl Kind = "sysctl"

func init() {
	RegisterKind(KindDef{
		Kind:      KindSysctl,
		Phase:     1, // before any address: no ARP answered for a VIP in between
		DownPhase: 5, // last: the VIPs have gone
		Run:       func(h Host, c Change) error { return h.SetSysctl(c.Sysctl, c.To) },
		Say:       func(c Change) string { return fmt.Sprintf("sysctl -w %s=%d", c.Sysctl.Dotted(), c.To) },
		Inverse: func(c Change) Change {
			c.From, c.To = c.To, c.From
			return c
		},
		Identity:  sysctlKey,
		OwnerKey:  sysctlKey,
		Update:    UpdateTo,
		StillOurs: sysctlStillOurs,
		Shared:    true,
		Evidence:  true,
		Report:    reportSysctl,
		Subject:   func(c Change) string { return c.Sysctl.Dotted() },
		LogAttrs: func(c Change) []slog.Attr {
			return []slog.Attr{slog.String("sysctl", c.Sysctl.Dotted()), slog.Int("before", c.From), slog.Int("after", c.To)}
		},
	})
}

func sysctlKey(c Change) string { return "sysctl " + c.Sysctl.Path() }

// UpdateTo is the Update of a kind that writes From → To: rsprep's new
// value, the one it first replaced kept.
func UpdateTo(old, c Change) (Change, bool) {
	differs := old.To != c.To
	old.To = c.To
	return old, differs
}

func sysctlStillOurs(v *View, c, undo Change) (*Change, string, error) {
	if c.Sysctl.PerInterface() {
		if _, exists, err := v.Link(c.Sysctl.Iface); err != nil {
			return nil, "", err
		} else if !exists {
			return nil, "", nil // the interface is gone, and its setting with it
		}
	}
	cur, err := v.Sysctl(c.Sysctl)
	if err != nil {
		return nil, "", err
	}
	switch cur {
	case c.To:
		return &undo, "", nil
	case c.From:
		return nil, "", nil // already back where it was
	}
	return nil, fmt.Sprintf("left %s=%d alone: rsprep wrote %d, it has been changed since (it was %d before rsprep)",
		c.Sysctl.Dotted(), cur, c.To, c.From), nil
}

// reportSysctl lists a sysctl with the value it replaced, rsprep's, and
// the value now (none: the interface is gone).
func reportSysctl(v *View, c Change, m *ModeOwned) (string, error) {
	s := OwnedSysctl{Key: c.Sysctl.Dotted(), Replaced: c.From, Wrote: c.To}
	exists := true
	if c.Sysctl.PerInterface() {
		var err error
		if _, exists, err = v.Link(c.Sysctl.Iface); err != nil {
			return "", err
		}
	}
	if exists {
		now, err := v.Sysctl(c.Sysctl)
		if err != nil {
			return "", err
		}
		s.Now = &now
	}
	m.Sysctls = append(m.Sysctls, s)
	return "", nil
}
