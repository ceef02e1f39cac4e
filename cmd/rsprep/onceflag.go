package main

import (
	"fmt"

	"github.com/spf13/pflag"
)

// onceValue refuses a second value for a flag that holds one (--dip,
// --netns, -o): taking the last silently would act on what the operator
// may not have meant. Lists (--vip) repeat; a boolean given twice says
// the same thing twice.
type onceValue struct {
	pflag.Value
	first string
	set   bool
}

func (o *onceValue) Set(v string) error {
	if o.set {
		return fmt.Errorf("given twice (first %q): give it once", o.first)
	}
	if err := o.Value.Set(v); err != nil {
		return err
	}
	o.first, o.set = v, true
	return nil
}

// parseOnce parses args into fs with every single-valued flag refusing a
// second value, then gives the flags their own values back (a config file
// sets its entries on the same flags later).
func parseOnce(fs *pflag.FlagSet, args []string) error {
	var wrapped []*pflag.Flag
	fs.VisitAll(func(f *pflag.Flag) {
		if isList(f) || f.Value.Type() == "bool" {
			return
		}
		f.Value = &onceValue{Value: f.Value}
		wrapped = append(wrapped, f)
	})
	defer func() {
		for _, f := range wrapped {
			f.Value = f.Value.(*onceValue).Value
		}
	}()
	return fs.Parse(args)
}
