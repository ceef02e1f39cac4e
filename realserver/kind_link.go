package realserver

// KindLinkUp sets Link administratively up, KindLinkDown down.
const (
	KindLinkUp   Kind = "link-up"
	KindLinkDown Kind = "link-down"
)

func init() {
	RegisterKind(KindDef{
		Kind:    KindLinkUp,
		Phase:   2,
		Run:     func(h Host, c Change) error { return h.SetLinkUp(c.Link, true) },
		Say:     func(c Change) string { return "ip link set dev " + c.Link + " up" },
		Inverse: WithKind(KindLinkDown),
		// Bringing lo up is not recorded: lo was up when rsprep came, and a
		// down lo cuts off every local service. Re-applying repairs
		// somebody's change; it takes nothing over.
		Record:    func(c Change) (Change, bool) { return c, c.Link != "lo" },
		OwnerKey:  func(c Change) string { return "link " + c.Link },
		StillOurs: linkStillUp,
		Report: func(_ *View, c Change, m *ModeOwned) (string, error) {
			m.Links = append(m.Links, c.Link)
			return "", nil
		},
		Subject: func(c Change) string { return "link " + c.Link + " up" },
	})
	RegisterKind(KindDef{
		Kind:      KindLinkDown,
		Phase:     10,
		DownPhase: 4,
		Run:       func(h Host, c Change) error { return h.SetLinkUp(c.Link, false) },
		Say:       func(c Change) string { return "ip link set dev " + c.Link + " down" },
		Inverse:   WithKind(KindLinkUp),
	})
}

// linkStillUp undoes a link-up while the link is up.
func linkStillUp(v *View, c, undo Change) (*Change, string, error) {
	l, exists, err := v.Link(c.Link)
	if err != nil || !exists || !l.Up {
		return nil, "", err
	}
	return &undo, "", nil
}

// WithKind is the Inverse of a kind undone by the same change of kind k
// (add ↔ del).
func WithKind(k Kind) func(Change) Change {
	return func(c Change) Change {
		c.Kind = k
		return c
	}
}
