package main

import (
	"slices"
	"testing"

	"github.com/spf13/pflag"
)

// --vip reads its values exactly as pflag's StringSlice does: the same
// lists, the same errors, the same type, repeated flags appending; and
// --help shows it as it showed pflag's.
func TestListFlagReadsLikePflagStringSlice(t *testing.T) {
	mine, theirs := pflag.NewFlagSet("mine", pflag.ContinueOnError), pflag.NewFlagSet("theirs", pflag.ContinueOnError)
	listVar(mine, new([]string), "vip", "virtual IP")
	theirs.StringSliceVar(new([]string), "vip", nil, "virtual IP")
	if a, b := mine.FlagUsages(), theirs.FlagUsages(); a != b {
		t.Errorf("--help shows %q, for pflag's %q", a, b)
	}
	for _, vals := range [][]string{
		{"192.168.79.180"},
		{"10.0.0.1,10.0.0.2", "10.0.0.3"},
		{"a, b ,c", ",x,,"},
		{`"10.0.0.1,10.0.0.2",10.0.0.3`},
		{"a\nb,c"},
		{`bad"quote`},
		{""},
	} {
		mine, theirs := pflag.NewFlagSet("mine", pflag.ContinueOnError), pflag.NewFlagSet("theirs", pflag.ContinueOnError)
		var m, th []string
		listVar(mine, &m, "vip", "")
		theirs.StringSliceVar(&th, "vip", nil, "")
		for _, v := range vals {
			errM, errT := mine.Set("vip", v), theirs.Set("vip", v)
			if (errM == nil) != (errT == nil) {
				t.Errorf("%q: error %v, pflag's %v", v, errM, errT)
			}
		}
		if !slices.Equal(m, th) {
			t.Errorf("%q: read %q, pflag read %q", vals, m, th)
		}
		fm, ft := mine.Lookup("vip"), theirs.Lookup("vip")
		if fm.Value.String() != ft.Value.String() || fm.Value.Type() != ft.Value.Type() {
			t.Errorf("%q: String %q Type %q, pflag's %q %q", vals, fm.Value.String(), fm.Value.Type(), ft.Value.String(), ft.Value.Type())
		}
	}
}
