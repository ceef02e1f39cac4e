package main

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/pflag"
)

// A command's --help and the top-level usage, written from the command
// table.

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
