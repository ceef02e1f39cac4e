package main

import (
	"fmt"
	"io"
	"slices"
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

// title is the first line of --help: "rsprep verify dr — audit: …".
func (c commandDef) title(mode string) string {
	t := "rsprep " + c.name
	if mode != "" {
		t += " " + mode
		if def, ok := modeDefs()[mode]; ok {
			return t + " — " + c.summary + "; " + mode + ": " + def.summary
		}
	}
	return t + " — " + c.summary
}

// modeExamples are the command's examples for mode: its mode's own
// example first, and none that names another mode.
func (c commandDef) modeExamples(mode string) []string {
	var out []string
	if def, ok := modeDefs()[mode]; ok && c.modes != noMode {
		ex := def.example
		if c.name != string(actApply) {
			ex = "rsprep " + c.name + def.example[len("rsprep"):]
		}
		if c.modeExampleArgs != "" && !strings.Contains(ex, strings.Fields(c.modeExampleArgs)[0]) {
			ex += " " + c.modeExampleArgs
		}
		out = append(out, ex)
	}
	for _, ex := range c.examples {
		if mode != "" && namesOtherMode(ex, mode) || slices.Contains(out, ex) {
			continue
		}
		out = append(out, ex)
	}
	return out
}

func namesOtherMode(example, mode string) bool {
	for _, w := range strings.Fields(example) {
		if w != mode && slices.Contains(modeNames(), w) {
			return true
		}
	}
	return false
}

// helpFunc is a flag set's Usage: the command's --help, from its entry.
func (c commandDef) helpFunc(fs *pflag.FlagSet, mode string) func() {
	return func() { c.writeHelp(fs.Output(), fs, mode) }
}

// writeHelp prints the command's --help; fs may be nil.
func (c commandDef) writeHelp(w io.Writer, fs *pflag.FlagSet, mode string) {
	fmt.Fprintf(w, "%s\n\nUsage:\n", c.title(mode))
	var forms []string
	for _, s := range c.synopsis {
		if form, ok := withMode(s.form, mode); ok || mode == "" {
			forms = append(forms, form)
		}
	}
	if len(forms) == 0 { // not for this mode (drain nat): say which it is for
		for _, s := range c.synopsis {
			forms = append(forms, s.form)
		}
	}
	for _, f := range forms {
		fmt.Fprintf(w, "  rsprep %s\n", f)
	}
	if c.description != "" {
		fmt.Fprintf(w, "\n%s\n", wrap(c.description, 76))
	}
	if ex := c.modeExamples(mode); len(ex) > 0 {
		fmt.Fprintf(w, "\nExamples:\n")
		for _, e := range ex {
			fmt.Fprintf(w, "  %s\n", e)
		}
	}
	if c.exitCodes != "" {
		fmt.Fprintf(w, "\n%s\n", c.exitCodes)
	}
	if fs != nil && fs.HasAvailableFlags() {
		fmt.Fprintf(w, "\nFlags:\n%s", fs.FlagUsages())
	}
	if c.modes != noMode && mode == "" {
		fmt.Fprintf(w, "\nRun 'rsprep %s MODE --help' for a mode's own flags.\n", c.name)
	}
	fmt.Fprint(w, c.note)
}

// withMode is a synopsis form with its list of modes ("dr|tun|nat",
// "dr|tun") replaced by mode; ok is false when the form names no list
// holding mode.
func withMode(form, mode string) (string, bool) {
	words := strings.Fields(form)
	for i, w := range words {
		alts := strings.Split(w, "|")
		if len(alts) > 1 && slices.Contains(alts, mode) && !slices.ContainsFunc(alts, func(a string) bool { return !slices.Contains(modeNames(), a) }) {
			words[i] = mode
			return strings.Join(words, " "), true
		}
	}
	return form, false
}

// writeUsage prints the top-level usage.
func writeUsage(w io.Writer) {
	fmt.Fprint(w, "rsprep prepares this host to be an LVS/IPVS real server, keeps it so, and proves it.\n\nUsage:\n")
	const col = 36
	for _, c := range visibleCommands() {
		for _, s := range c.synopsis {
			left := "rsprep " + s.form
			if len(left) < col {
				fmt.Fprintf(w, "  %-*s%s\n", col, left, s.what)
			} else {
				fmt.Fprintf(w, "  %s\n  %-*s%s\n", left, col, "", s.what)
			}
		}
	}
	fmt.Fprint(w, "\nExamples:\n")
	for _, e := range topExamples {
		fmt.Fprintf(w, "  %s\n", e)
	}
	fmt.Fprint(w, "\nExit codes: 0 ok · 1 drift / not converged / down without a record · 2 bad input (nothing changed) · 3 host not readable/writable · 130/143 stopped by SIGINT/SIGTERM, rolled back.\n")
	fmt.Fprint(w, "Run 'rsprep help COMMAND' (or 'rsprep COMMAND --help') for a command's flags, and 'man rsprep' for all of them.\n")
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

// unknownCommand is the error for a first word that is neither a mode nor
// a command: every mode and command, and the nearest when it is a likely
// typo.
func unknownCommand(word string) string {
	hint := ""
	if near := nearest(word, commandWords()); near != "" {
		hint = fmt.Sprintf(" (did you mean %q?)", near)
	}
	return fmt.Sprintf("unknown command %q%s: want a mode (%s) or a command (%s); see 'rsprep --help'",
		word, hint, strings.Join(modeNames(), ", "), strings.Join(commandWords()[len(modeNames()):], ", "))
}

// nearest is the word of words within two edits of w, if exactly one is
// closest.
func nearest(w string, words []string) string {
	best, bestD, ties := "", 3, 0
	for _, c := range words {
		switch d := editDistance(w, c); {
		case d < bestD:
			best, bestD, ties = c, d, 0
		case d == bestD:
			ties++
		}
	}
	if ties > 0 {
		return ""
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// wrap refills text to lines of at most width columns.
func wrap(text string, width int) string {
	var b strings.Builder
	n := 0
	for _, w := range strings.Fields(text) {
		switch {
		case n == 0:
		case n+1+len([]rune(w)) > width:
			b.WriteByte('\n')
			n = 0
		default:
			b.WriteByte(' ')
			n++
		}
		b.WriteString(w)
		n += len([]rune(w))
	}
	return b.String()
}
