package tunnel

import (
	"slices"

	"github.com/rsprep/rsprep/realserver"
)

// KindRuleAdd adds the policy rule Rule (--mss: a VIP's replies look up
// rsprep's table), KindRuleDel removes it.
const (
	KindRuleAdd realserver.Kind = "rule-add"
	KindRuleDel realserver.Kind = "rule-del"
)

func init() {
	realserver.RegisterKind(realserver.KindDef{
		Kind:      KindRuleAdd,
		Phase:     7,
		Run:       func(h realserver.Host, c realserver.Change) error { return h.AddRule(c.Rule) },
		Say:       func(c realserver.Change) string { return sayRule("add", c) },
		Inverse:   realserver.WithKind(KindRuleDel),
		OwnerKey:  func(c realserver.Change) string { return "rule " + c.Rule.String() },
		StillOurs: ruleStillThere,
	})
	realserver.RegisterKind(realserver.KindDef{
		Kind:      KindRuleDel,
		Phase:     7,
		DownPhase: 1,
		Run:       func(h realserver.Host, c realserver.Change) error { return h.DelRule(c.Rule) },
		Say:       func(c realserver.Change) string { return sayRule("del", c) },
		Inverse:   realserver.WithKind(KindRuleAdd),
	})
}

func sayRule(verb string, c realserver.Change) string {
	return realserver.IPCommand(c.Rule.Src.Addr()) + "rule " + verb + " " + c.Rule.String()
}

// ruleStillThere removes the rule while it is there.
func ruleStillThere(v *realserver.View, c, undo realserver.Change) (*realserver.Change, string, error) {
	rules, err := v.Rules()
	if err != nil || !slices.Contains(rules, c.Rule) {
		return nil, "", err
	}
	return &undo, "", nil
}
