package main

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/pflag"

	"github.com/rsprep/rsprep/realserver/input"
	"github.com/rsprep/rsprep/systemd"
)

// A config file's entries are the mode's own flags: each is set on the
// mode's flag set, after the same checks the command line gets, and each
// complaint names the entry's line.

// addConfigFlag gives a mode command its --config flag.
func addConfigFlag(fs *pflag.FlagSet) *string {
	return fs.String("config", "", "read the mode's desired state from this file (rsprep install writes "+systemd.ConfigPath+"); no mode flags then")
}

// applyConfigFlag loads the file named by --config, if given, into fs,
// the flag set of mode name.
func applyConfigFlag(fs *pflag.FlagSet, path, name string, def modeDef) error {
	if !fs.Changed("config") {
		return nil
	}
	c, err := readModeConfig(path)
	if err != nil {
		return err
	}
	if c.mode != name {
		return input.Errorf("%s:%d: mode = %s, but the command is for %s", c.path, c.modeLine, c.mode, name)
	}
	return c.applyTo(fs, def)
}

// applyTo checks every entry against the mode's own flags, refuses a
// desired-state flag also given on the command line, and sets the entries
// on fs. A value the mode rejects is reported at its line.
func (c *modeConfig) applyTo(fs *pflag.FlagSet, def modeDef) error {
	own := ownFlags(def, &options{})
	var clash error
	own.VisitAll(func(f *pflag.Flag) {
		if clash == nil && fs.Changed(f.Name) {
			clash = c.clash(f.Name)
		}
	})
	if clash != nil {
		return clash
	}
	if err := c.check(def, own); err != nil {
		return err
	}
	if err := setEntries(fs, c.entries); err != nil {
		return fmt.Errorf("%s: %w", c.path, err) // check passed the same entries
	}
	return nil
}

func (c *modeConfig) clash(name string) error {
	for _, e := range c.entries {
		if e.Key == name {
			return input.Errorf("--%s is given both in %s:%d and on the command line: with --config the file is the desired state; edit it, or drop --config", name, c.path, e.Line)
		}
	}
	return input.Errorf("--%s is not in %s: with --config the file is the desired state (so that boot and audit agree); add it there, or drop --config", name, c.path)
}

// ownFlags is a flag set holding only the mode's own (desired-state) flags.
func ownFlags(def modeDef, o *options) *pflag.FlagSet {
	fs := pflag.NewFlagSet("config", pflag.ContinueOnError)
	fs.SortFlags = false
	fs.SetOutput(io.Discard)
	def.flags(fs, o)
	return fs
}

// check validates the entries as the mode would, on a scratch flag set. A
// mode's validation sees all values at once and its message carries no
// line, so a failure is pinned on the last line whose removal changes the
// verdict (a bad VIP, the second of two equal VIPs); when no single line
// does (a missing key), the message names the file alone.
func (c *modeConfig) check(def modeDef, own *pflag.FlagSet) error {
	keys := []string{}
	own.VisitAll(func(f *pflag.Flag) { keys = append(keys, f.Name) })
	first := map[string]int{}
	for _, e := range c.entries {
		f := own.Lookup(e.Key)
		if f == nil {
			return input.Errorf("%s:%d: unknown key %q for mode %s (keys: mode, %s)", c.path, e.Line, e.Key, c.mode, strings.Join(keys, ", "))
		}
		if line, seen := first[e.Key]; seen && !isList(f) {
			return input.Errorf("%s:%d: %s is given twice (first at line %d); only list keys repeat", c.path, e.Line, e.Key, line)
		}
		if _, seen := first[e.Key]; !seen {
			first[e.Key] = e.Line
		}
	}
	err := validateEntries(def, c.entries)
	var le *lineError
	var in *input.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &le):
		return input.Errorf("%s:%d: %s", c.path, le.line, le.msg)
	case !errors.As(err, &in):
		return err
	}
	for i := len(c.entries) - 1; i >= 0; i-- {
		rest := slices.Delete(slices.Clone(c.entries), i, i+1)
		if other := validateEntries(def, rest); other == nil || other.Error() != err.Error() {
			return input.Errorf("%s:%d: %s", c.path, c.entries[i].Line, in.Msg)
		}
	}
	return input.Errorf("%s: %s", c.path, in.Msg)
}

// lineError is an entry that Set itself refused: its line is known.
type lineError struct {
	line int
	msg  string
}

func (e *lineError) Error() string { return e.msg }

// validateEntries sets entries on a fresh flag set, then builds and
// validates the mode from it, as runMode will.
func validateEntries(def modeDef, entries []systemd.Entry) error {
	var o options
	if err := setEntries(ownFlags(def, &o), entries); err != nil {
		return err
	}
	_, err := def.mode(&o)
	return err
}

// setEntries sets each entry on fs. systemd's booleans (yes/no, on/off)
// are accepted for boolean flags.
func setEntries(fs *pflag.FlagSet, entries []systemd.Entry) error {
	for _, e := range entries {
		v := e.Value
		if f := fs.Lookup(e.Key); f != nil && f.Value.Type() == "bool" {
			switch strings.ToLower(v) {
			case "yes", "on":
				v = "true"
			case "no", "off":
				v = "false"
			}
		}
		if v == "" {
			return &lineError{line: e.Line, msg: e.Key + " has no value"}
		}
		if err := fs.Set(e.Key, v); err != nil {
			return &lineError{line: e.Line, msg: fmt.Sprintf("%s = %s: %v", e.Key, e.Value, err)}
		}
	}
	return nil
}

// isList reports whether a flag takes repeated values.
func isList(f *pflag.Flag) bool {
	_, ok := f.Value.(pflag.SliceValue)
	return ok
}
