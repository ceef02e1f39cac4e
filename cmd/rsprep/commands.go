package main

import (
	"io"
	"strings"

	"github.com/spf13/pflag"
)

// The command table: one entry per command, which the top-level usage,
// each command's --help, rsprep(8) and the shell completions all read.
// The flags of an entry come from the same constructor its run parses
// with, so what the documents list is what the command accepts. A new
// command is one entry here (commandTable) and its run function.

// commandDef is one command of rsprep.
type commandDef struct {
	name     string
	synopsis []synopsisLine // without the leading "rsprep "
	summary  string         // what it does, one line, lower case
	// description is the paragraphs --help prints after the synopsis, and
	// the man page after the summary.
	description string
	examples    []string
	exitCodes   string // when they differ from the common ones
	modes       modeArg
	// modeWords: the modes are commands of their own ("rsprep dr" is
	// "rsprep apply dr").
	modeWords bool
	// extra are forms beyond the modes' (down --all), with their flags.
	extra func() []invocation
	// modeExampleArgs are added to a mode's example that lacks them
	// (drain needs --dip).
	modeExampleArgs string
	// flags builds the flag set the command parses for mode ("" without a
	// mode), with throw-away values: the documents read it. nil: no flags.
	flags  func(mode string) *pflag.FlagSet
	note   string // printed after the flags in --help
	run    func(args []string, stdout, stderr io.Writer) int
	hidden bool // for packaging: not in usage, the man page or completions
}

// synopsisLine is one line of a command's usage and what that form does.
type synopsisLine struct{ form, what string }

// modeArg says whether a forwarding mode follows the command's name.
type modeArg int

const (
	noMode       modeArg = iota
	modeRequired         // install dr|tun|nat
	modeOptional         // verify dr|tun|nat, or verify with the mode from --config
)

// commandTable is every command, in the order usage lists them.
func commandTable() []commandDef {
	return []commandDef{
		modeCommand(actApply, []synopsisLine{
			{"dr|tun|nat [flags]", "apply (idempotent: a second run changes nothing)"},
			{"apply [--config FILE] [flags]", "the same, with the mode and its flags from FILE (default /etc/rsprep/rsprep.conf)"},
		}),
		modeCommand(actVerify, []synopsisLine{
			{"verify dr|tun|nat [flags]", "audit every invariant; exit 0 = all hold, 1 = drift"},
			{"verify [--config FILE] [flags]", "the same, with the mode and its flags from FILE"},
		}),
		modeCommand(actDown, []synopsisLine{
			{"down dr|tun|nat [flags]", "undo what rsprep did, and only that"},
			{"down [--config FILE] [flags]", "the same, with the mode and its flags from FILE: all rsprep owns"},
			{"down --all [--netns NAME]", "undo everything rsprep owns in the namespace, any mode"},
		}),
		modeCommand(actDrain, []synopsisLine{
			{"drain dr|tun --dip DIP [flags]", "fail the director's probe of this host, wait until its connections have ended"},
			{"drain [--config FILE] [flags]", "the same, with the mode and its flags from FILE"},
		}),
		modeCommand(actUndrain, []synopsisLine{
			{"undrain dr|tun [flags]", "put a drained real server back in the director's rotation"},
			{"undrain [--config FILE] [flags]", "the same, with the mode and its flags from FILE"},
		}),
		installCommand(),
		uninstallCommand(),
		watchCommand(),
		statusCommand(),
		doctorCommand(),
		probeCommand(),
		{
			name:     "version",
			synopsis: []synopsisLine{{"version", "the version and the Go it was built with"}},
			summary:  "print the version (a source build: the VCS revision) and the Go it was built with",
			run:      runVersion,
		},
		{name: "man", hidden: true, synopsis: []synopsisLine{{"man [rsprep.conf]", ""}}, summary: "print rsprep(8), or rsprep.conf(5), as roff", run: runMan},
		{name: "completion", hidden: true, synopsis: []synopsisLine{{"completion bash|zsh|fish", ""}}, summary: "print a shell completion script", run: runCompletion},
	}
}

// topExamples are the examples of the top-level usage.
var topExamples = []string{
	"rsprep dr --vip 192.168.79.180",
	"rsprep verify dr --vip 192.168.79.180 -o json",
	"rsprep down dr --vip 192.168.79.180",
	"rsprep install dr --vip 192.168.79.180",
	"rsprep verify -o prometheus",
}

// envDocs are the environment variables rsprep reads.
var envDocs = [][2]string{
	{"RSPREP_STATE_DIR", "keep the records and locks in this directory instead of /run/rsprep (the demo and the tests use it, to leave the host's own alone). Every rsprep that acts on one network namespace must use the same."},
	{"GOMEMLIMIT, GOGC", "Go's garbage collector settings; when unset, rsprep sets a soft memory limit of 28 MiB."},
}

// lookupCommand finds the visible or hidden command called name.
func lookupCommand(name string) (commandDef, bool) {
	for _, c := range commandTable() {
		if c.name == name {
			return c, true
		}
	}
	return commandDef{}, false
}

// visibleCommands are the commands users see.
func visibleCommands() []commandDef {
	var out []commandDef
	for _, c := range commandTable() {
		if !c.hidden {
			out = append(out, c)
		}
	}
	return out
}

// commandWords are the words that may follow rsprep: the modes, then the
// visible commands.
func commandWords() []string {
	words := modeNames()
	for _, c := range visibleCommands() {
		words = append(words, c.name)
	}
	return words
}

// invocation is one command with a mode (or none) and its flags.
type invocation struct {
	args  []string // "verify", "dr"
	flags *pflag.FlagSet
}

func (i invocation) name() string { return strings.Join(i.args, " ") }

// form is how the man page names the invocation among its command's: the
// mode, "without a mode", or an extra form's flag (--all).
func (i invocation) form() string {
	if i.byFlag() {
		return strings.Join(i.args, " ")
	}
	if len(i.args) > 1 {
		return i.args[1]
	}
	return "without a mode"
}

// byFlag reports whether the invocation is a form named by a flag (down
// --all): the completions add its flags to the command's own path.
func (i invocation) byFlag() bool { return strings.HasPrefix(i.args[len(i.args)-1], "-") }

// invocations are the command's forms: with each mode, and alone (when it
// runs without a mode).
func (c commandDef) invocations() []invocation {
	var out []invocation
	if c.modes != noMode {
		for _, m := range modeNames() {
			out = append(out, invocation{[]string{c.name, m}, c.flagSet(m)})
		}
	}
	if c.modes != modeRequired {
		out = append(out, invocation{[]string{c.name}, c.flagSet("")})
	}
	if c.extra != nil {
		out = append(out, c.extra()...)
	}
	return out
}

func (c commandDef) flagSet(mode string) *pflag.FlagSet {
	if c.flags == nil {
		return nil
	}
	return c.flags(mode)
}

// visibleFlags are the flags a command documents, in its own order.
func visibleFlags(fs *pflag.FlagSet) []*pflag.Flag {
	var out []*pflag.Flag
	if fs == nil {
		return nil
	}
	fs.VisitAll(func(f *pflag.Flag) {
		if !f.Hidden {
			out = append(out, f)
		}
	})
	return out
}
