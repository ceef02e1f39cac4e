package realserver

import (
	"fmt"
	"log/slog"
	"time"
)

// The address kinds: KindAddrAdd adds Addr (a VIP), KindAddrDel removes
// one (never recorded: a shorter prefix of a VIP is removed for good, it
// made a whole subnet local), KindAddrTake removes a VIP held on an
// ARP-capable interface (--take-vip-from-arp-interface): recorded, and
// down gives it back as it was.
const (
	KindAddrAdd  Kind = "addr-add"
	KindAddrDel  Kind = "addr-del"
	KindAddrTake Kind = "addr-take"
)

func init() {
	RegisterKind(KindDef{
		Kind:  KindAddrAdd,
		Phase: 4, // after the sysctls and after the removals
		Run:   func(h Host, c Change) error { return h.AddAddr(c.Addr) },
		Say: func(c Change) string {
			return sayAddr("add", c) + c.Addr.addOptions()
		},
		Inverse:   WithKind(KindAddrDel),
		OwnerKey:  func(c Change) string { return "addr " + c.Addr.Link + " " + c.Addr.Prefix.String() },
		StillOurs: addrStillBound,
		Evidence:  true,
		Report:    reportVIP,
		Subject:   func(c Change) string { return c.Addr.Prefix.String() + " on " + c.Addr.Link },
		LogAttrs:  addrAttrs,
	})
	RegisterKind(KindDef{
		Kind:     KindAddrDel,
		Phase:    3,
		Run:      func(h Host, c Change) error { return h.DelAddr(c.Addr) },
		Say:      func(c Change) string { return sayAddr("del", c) },
		Inverse:  WithKind(KindAddrAdd),
		Record:   func(Change) (Change, bool) { return Change{}, false },
		LogAttrs: addrAttrs,
	})
	RegisterKind(KindDef{
		Kind:      KindAddrTake,
		Phase:     3,
		Run:       func(h Host, c Change) error { return h.DelAddr(c.Addr) },
		Say:       func(c Change) string { return sayAddr("del", c) },
		Inverse:   WithKind(KindAddrAdd),
		OwnerKey:  func(c Change) string { return "taken " + c.Addr.Link + " " + c.Addr.Prefix.String() },
		StillOurs: takenStillAway,
		Report: func(_ *View, c Change, _ *ModeOwned) (string, error) {
			return fmt.Sprintf("%s took %s from %s (--take-vip-from-arp-interface): down gives it back", c.Mode, c.Addr.Prefix, c.Addr.Link), nil
		},
		LogAttrs: addrAttrs,
	})
}

// sayAddr is ip addr VERB for c's address, with its label.
func sayAddr(verb string, c Change) string {
	s := fmt.Sprintf("ip addr %s %s dev %s", verb, c.Addr.Prefix, c.Addr.Link)
	if c.Addr.Label != "" {
		s += " label " + c.Addr.Label
	}
	return s
}

func addrAttrs(c Change) []slog.Attr {
	return []slog.Attr{slog.String("addr", c.Addr.Prefix.String()), slog.String("link", c.Addr.Link)}
}

// boundAs is the present address at c's link and prefix, if any.
func boundAs(v *View, c Change) (*Addr, error) {
	present, err := v.AddrsOf(c.Addr.Prefix.Addr())
	if err != nil {
		return nil, err
	}
	for i, a := range present {
		if a.Link == c.Addr.Link && a.Prefix == c.Addr.Prefix {
			return &present[i], nil
		}
	}
	return nil, nil
}

// addrStillBound undoes an address while it is bound. Whether it still
// carries rsprep's mark is down's and Converge's to judge (addrOwners,
// addrUndo); here it is evidence that a record is this namespace's.
func addrStillBound(v *View, c, undo Change) (*Change, string, error) {
	a, err := boundAs(v, c)
	if err != nil || a == nil {
		return nil, "", err
	}
	return &undo, "", nil
}

// takenStillAway gives a taken VIP back as it was (label, scope, flags,
// and what is left of its lifetimes) while it is not back already and its
// interface is there. One that would have expired meanwhile is not.
func takenStillAway(v *View, c, undo Change) (*Change, string, error) {
	if c.Addr.expired(time.Now()) {
		return nil, fmt.Sprintf("did not give %s back to %s: its valid lifetime ran out while rsprep held it", c.Addr.Prefix, c.Addr.Link), nil
	}
	if _, exists, err := v.Link(c.Addr.Link); err != nil || !exists {
		if err == nil {
			return nil, fmt.Sprintf("did not give %s back to %s: the interface is gone", c.Addr.Prefix, c.Addr.Link), nil
		}
		return nil, "", err
	}
	a, err := boundAs(v, c)
	if err != nil || a != nil {
		return nil, "", err // a != nil: somebody put it back already
	}
	return &undo, "", nil
}

// reportVIP lists an address the record says rsprep added, whether it is
// present, and the marks it carries.
func reportVIP(v *View, c Change, m *ModeOwned) (string, error) {
	vip := OwnedVIP{VIP: c.Addr.Prefix.Addr().String(), Device: c.Addr.Link, By: []string{"record"}}
	a, err := boundAs(v, c)
	if err != nil {
		return "", err
	}
	if a != nil {
		vip.Present = true
		vip.By = append(vip.By, marks(*a)...)
	}
	m.VIPs = append(m.VIPs, vip)
	return "", nil
}
