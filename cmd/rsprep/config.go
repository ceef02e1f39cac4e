package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/rsprep/rsprep/realserver/input"
	"github.com/rsprep/rsprep/systemd"
)

// The config file is the desired state that boot applies and an audit
// checks: one [rsprep] section whose keys are the long flags of the mode's
// command (mode = dr, vip = 192.168.79.180, one line per list value). Each
// key is applied with Set on the mode's own flag set, so a value means in
// the file exactly what it means on the command line.
//
// Flags and config never disagree silently: with --config, a flag that
// describes the desired state (vip, dip, …) is an error, exit 2, whether or
// not the file has it too. Flags about the run (-o, --dry-run, --netns,
// --lock-wait, -v) are allowed.
//
// The syntax (systemd's INI, with line numbers) is package systemd's: it
// writes the file at install (RenderConfig) and reads it (ParseConfig),
// and its fuzz test holds the two to each other. What the entries mean is
// here: the file's one section and mode line (this file), and its other
// keys as the mode's flags (config_flags.go).

// configSection is the one section a config file has.
const configSection = "rsprep"

// modeConfig is a parsed config file: its mode and the other entries.
type modeConfig struct {
	path     string
	mode     string
	modeLine int
	entries  []systemd.Entry
}

// readModeConfig reads and parses path. Every complaint is bad input
// (exit 2) and names path:line, except a file that exists but cannot be
// read (exit 3).
func readModeConfig(path string) (*modeConfig, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, input.Errorf("%s: no such config file (rsprep install MODE writes it; or give the mode and its flags)", path)
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	if err := checkConfigOwner(path); err != nil {
		return nil, err
	}
	return parseModeConfig(path, data)
}

func parseModeConfig(path string, data []byte) (*modeConfig, error) {
	entries, err := systemd.ParseConfig(path, data)
	if err != nil {
		return nil, err
	}
	c := &modeConfig{path: path}
	for _, e := range entries {
		switch {
		case e.Section != configSection:
			return nil, input.Errorf("%s:%d: section [%s]: want [%s]", path, e.Line, e.Section, configSection)
		case e.Key != "mode":
			c.entries = append(c.entries, e)
		case c.mode != "":
			return nil, input.Errorf("%s:%d: a second mode (%s; line %d says %s): one host runs one mode", path, e.Line, e.Value, c.modeLine, c.mode)
		default:
			c.mode, c.modeLine = e.Value, e.Line
		}
	}
	if c.mode == "" {
		return nil, input.Errorf("%s: no mode = dr|tun|nat line", path)
	}
	if _, ok := modeDefs()[c.mode]; !ok {
		return nil, input.Errorf("%s:%d: unknown mode %q (want one of %s)", path, c.modeLine, c.mode, strings.Join(modeNames(), ", "))
	}
	return c, nil
}

func modeNames() []string {
	var names []string
	for n := range modeDefs() {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// configPathArg finds --config in args before they are parsed: the mode
// the flags belong to comes from the file. It returns the default path
// when none is given.
func configPathArg(args []string) (path string, given bool) {
	for i, a := range args {
		switch {
		case a == "--":
			return systemd.ConfigPath, false
		case a == "--config" && i+1 < len(args):
			return args[i+1], true
		case strings.HasPrefix(a, "--config="):
			return strings.TrimPrefix(a, "--config="), true
		}
	}
	return systemd.ConfigPath, false
}

// runFromConfig runs apply, verify or down with the mode named by the
// config file (--config FILE, by default the one install writes).
func runFromConfig(act action, args []string, stdout, stderr io.Writer) int {
	if slices.Contains(args, "-h") || slices.Contains(args, "--help") {
		fs, _ := modeFlagSet(act, "", &options{})
		fs.SetOutput(stdout)
		fs.Usage()
		return exitOK
	}
	path, given := configPathArg(args)
	if f := modeFlagIn(args); f != "" && !given {
		fmt.Fprintf(stderr, "rsprep: %s: the mode is missing: %s is a mode's flag, so name the mode first: rsprep %s dr|tun|nat %s …\n", act, f, act, f)
		return exitUsage
	}
	c, err := readModeConfig(path)
	if err != nil {
		fmt.Fprintf(stderr, "rsprep: %s\n", oneLine(err))
		return exitCode(err)
	}
	if !given {
		args = append(slices.Clone(args), "--config", path)
	}
	return runMode(act, c.mode, args, stdout, stderr)
}

// modeFlagIn is the first of args that is a mode's own flag (--vip,
// --dip, …), or "": given without a mode, they mean the mode was forgotten.
func modeFlagIn(args []string) string {
	for _, a := range args {
		if a == "--" {
			return ""
		}
		name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "--") {
			continue
		}
		for _, m := range modeNames() {
			if ownFlags(modeDefs()[m], &options{}).Lookup(name) != nil {
				return "--" + name
			}
		}
	}
	return ""
}
