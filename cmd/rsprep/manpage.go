package main

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/pflag"

	"github.com/rsprep/rsprep/realserver/persist"
	"github.com/rsprep/rsprep/systemd"
)

// runGenerate is the hidden `rsprep man` and `rsprep completion SHELL`:
// documents for packaging, generated from the flags --help shows.
func runGenerate(cmd string, args []string, stdout, stderr io.Writer) int {
	if cmd == "man" {
		if len(args) > 0 {
			fmt.Fprintln(stderr, "rsprep: man takes no arguments; it prints rsprep(8) as roff")
			return exitUsage
		}
		writeManPage(stdout, commandLines(), version)
		return exitOK
	}
	if len(args) != 1 || completionWriters[args[0]] == nil {
		fmt.Fprintln(stderr, "rsprep: completion needs one shell: rsprep completion bash|zsh|fish")
		return exitUsage
	}
	completionWriters[args[0]](stdout, completionDataFrom(commandLines()))
	return exitOK
}

// exitDocs are the exit codes, as in the spec.
var exitDocs = []struct {
	code int
	text string
}{
	{exitOK, "success; for verify, every invariant holds."},
	{exitDrift, "drift found (verify), or apply ran but could not reach the desired state, or down found no record and left what only a record could restore."},
	{exitUsage, "bad input or usage; nothing was changed."},
	{exitHost, "the host could not be read or written (permissions, a kernel feature missing)."},
}

// writeManPage prints rsprep(8) as roff.
func writeManPage(w io.Writer, lines []usageLine, ver string) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format+"\n", a...) }
	if ver == "" {
		ver = "(devel)"
	}
	p(`.TH RSPREP 8 "" "rsprep %s" "System Administration"`, roff(ver))
	p(".SH NAME")
	p(`rsprep \- prepare a Linux host to be an LVS/IPVS real server, keep it so, and prove it`)
	p(".SH SYNOPSIS")
	for i, l := range lines {
		if i > 0 {
			p(".br")
		}
		p(`\fBrsprep\fR %s`, roff(l.synopsis))
	}
	p(".SH DESCRIPTION")
	p("%s", roff("rsprep binds the VIP where the forwarding mode (dr, tun, nat) needs it, sets the ARP and rp_filter knobs by their effective value, checks all of it with verify (a configuration audit), and down undoes exactly what rsprep did and nothing else. Each mode is a list of invariants with stable IDs (see INVARIANTS); apply makes them true, verify reports each one."))
	p(".PP")
	p("%s", roff(strings.TrimSpace(strings.ReplaceAll(globalNote, "\n", " "))))
	p(".SH COMMANDS")
	for _, l := range lines {
		writeManCommand(p, l)
	}
	p(".SH INVARIANTS")
	for _, m := range modeNames() {
		p(".SS %s", m)
		def := modeDefs()[m]
		p("%s", roff(def.summary+"."))
		for _, inv := range def.docs {
			p(".TP")
			p(`\fB%s\fR`, roff(inv.ID))
			p("%s", roff(inv.Text))
		}
	}
	p(".SH EXIT STATUS")
	for _, e := range exitDocs {
		p(".TP")
		p(`\fB%d\fR`, e.code)
		p("%s", roff(e.text))
	}
	p(".SH FILES")
	for _, f := range [][2]string{
		{systemd.ConfigPath, "the desired state rsprep install writes and apply, verify and down read without a mode."},
		{systemd.UnitPath, "the boot unit rsprep install writes and enables: ExecStart applies, ExecStop runs down."},
		{systemd.ModulesPath, "for tun: the tunnel modules to load at boot."},
		{persist.DefaultStateDir, "this boot's record of what rsprep changed and the values before, and the lock; per network namespace."},
	} {
		p(".TP")
		p(`.I %s`, roff(f[0]))
		p("%s", roff(f[1]))
	}
	p(".SH EXAMPLES")
	for _, ex := range manExamples() {
		p(".PP")
		p(".nf")
		p("%s", roff(ex))
		p(".fi")
	}
	p(".SH SEE ALSO")
	p(`\fBipvsadm\fR(8), \fBip\fR(8), \fBsystemctl\fR(1), \fBsysctl\fR(8)`)
}

// writeManCommand documents one usage line: what it does, then the union
// of its commands' flags; a flag not every command has says which do.
func writeManCommand(p func(string, ...any), l usageLine) {
	p(".SS %s", roffQuoted("rsprep "+l.synopsis))
	if l.summary != "" {
		p("%s", roff(capitalize(l.summary)+"."))
	}
	type entry struct {
		flag  *pflag.Flag
		where []string
	}
	var order []string
	entries := map[string]*entry{}
	for _, c := range l.commands {
		for _, f := range visibleFlags(c.flags) {
			key := f.Name + "\x00" + f.Usage + "\x00" + f.DefValue
			if entries[key] == nil {
				entries[key] = &entry{flag: f}
				order = append(order, key)
			}
			entries[key].where = append(entries[key].where, c.name())
		}
	}
	for _, key := range order {
		e := entries[key]
		p(".TP")
		p("%s", manFlagHead(e.flag))
		p("%s", roff(e.flag.Usage))
		if d := flagDefault(e.flag); d != "" {
			p(".br")
			p("%s", roff("Default: "+d+"."))
		}
		if len(e.where) < len(l.commands) {
			p(".br")
			p("%s", roff("Only for: "+strings.Join(e.where, ", ")+"."))
		}
	}
}

// manFlagHead is "-o, --output string" in roff.
func manFlagHead(f *pflag.Flag) string {
	var b strings.Builder
	if f.Shorthand != "" {
		fmt.Fprintf(&b, `\fB\-%s\fR, `, roff(f.Shorthand))
	}
	fmt.Fprintf(&b, `\fB\-\-%s\fR`, roff(f.Name))
	if name, _ := pflag.UnquoteUsage(f); name != "" {
		fmt.Fprintf(&b, ` \fI%s\fR`, roff(name))
	}
	return b.String()
}

// flagDefault is a flag's default worth printing, as --help shows it;
// install's --bin defaults to wherever this binary runs from, which is
// no fact about the installed system (and would make the page differ by
// build directory).
func flagDefault(f *pflag.Flag) string {
	switch f.DefValue {
	case "", "false", "[]", "0":
		return ""
	case defaultBin():
		return "the path of the rsprep binary that runs install"
	}
	return f.DefValue
}

// manExamples are usage's examples, then each mode's own.
func manExamples() []string {
	var out []string
	_, ex, _ := strings.Cut(usage, "Examples:\n")
	ex, _, _ = strings.Cut(ex, "\n\n")
	for _, l := range strings.Split(ex, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	for _, m := range modeNames() {
		if e := modeDefs()[m].example; !slices.Contains(out, e) {
			out = append(out, e)
		}
	}
	return out
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// roff escapes text for a roff line: backslashes, minus signs (so flags
// copy and paste as ASCII), a leading control character, and the few
// non-ASCII marks usage uses.
func roff(s string) string {
	s = strings.NewReplacer(`\`, `\e`, "-", `\-`, "—", `\(em`, "·", `\(md`, "…", `.\|.\|.`, "≥", `\(>=`).Replace(s)
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "'") {
		s = `\&` + s
	}
	return s
}

// roffQuoted is an argument of a request such as .SS, in double quotes.
func roffQuoted(s string) string {
	return `"` + strings.ReplaceAll(roff(s), `"`, `\(dq`) + `"`
}
