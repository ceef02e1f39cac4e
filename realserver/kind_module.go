package realserver

import "fmt"

// KindModule loads a kernel module. It is never undone (other users may
// need the module), nor recorded.
const KindModule Kind = "module"

func init() {
	RegisterKind(KindDef{
		Kind:   KindModule,
		Phase:  0, // first: loading a module creates devices
		Run:    func(h Host, c Change) error { return h.LoadModule(c.Module) },
		Say:    func(c Change) string { return "modprobe " + c.Module },
		Record: func(Change) (Change, bool) { return Change{}, false },
		Failed: func(c Change, err error) string {
			// Not a failed write but a kernel without the feature: say so.
			what := fmt.Sprintf("the kernel cannot provide %s (%v)", c.Module, err)
			if c.Mode != "" {
				what += fmt.Sprintf(": %s needs the %s module", c.Mode, c.Module)
			}
			return what
		},
	})
}
