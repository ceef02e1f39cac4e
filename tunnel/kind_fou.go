package tunnel

import (
	"errors"
	"fmt"

	"github.com/rsprep/rsprep/realserver"
)

// KindFouAdd opens the fou receive port Fou (GUE), KindFouDel closes it.
const (
	KindFouAdd realserver.Kind = "fou-add"
	KindFouDel realserver.Kind = "fou-del"
)

func init() {
	realserver.RegisterKind(realserver.KindDef{
		Kind:      KindFouAdd,
		Phase:     2, // with the devices, before the addresses
		Run:       func(h realserver.Host, c realserver.Change) error { return h.AddFouPort(c.Fou) },
		Say:       func(c realserver.Change) string { return "ip fou add " + c.Fou.String() },
		Inverse:   realserver.WithKind(KindFouDel),
		OwnerKey:  func(c realserver.Change) string { return fmt.Sprintf("fou %d %d", c.Fou.Family, c.Fou.Port) },
		StillOurs: fouStillOurs,
	})
	realserver.RegisterKind(realserver.KindDef{
		Kind:      KindFouDel,
		Phase:     10,
		DownPhase: 4,
		Run:       func(h realserver.Host, c realserver.Change) error { return h.DelFouPort(c.Fou) },
		Say:       func(c realserver.Change) string { return "ip fou del " + c.Fou.String() },
		Inverse:   realserver.WithKind(KindFouAdd),
	})
}

// fouStillOurs closes the port rsprep opened while it still decapsulates
// GUE; fou unloaded took it away already.
func fouStillOurs(v *realserver.View, c, undo realserver.Change) (*realserver.Change, string, error) {
	ports, err := v.FouPorts()
	if errors.Is(err, realserver.ErrNoFou) {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", err
	}
	for _, p := range ports {
		if p.Family == c.Fou.Family && p.Port == c.Fou.Port {
			if p.GUE {
				return &undo, "", nil
			}
			return nil, fmt.Sprintf("left fou %s alone: rsprep opened it for GUE, it is %s now", c.Fou, p), nil
		}
	}
	return nil, "", nil
}
