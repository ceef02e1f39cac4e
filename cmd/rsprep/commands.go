package main

import (
	"bytes"
	"io"
	"slices"
	"strings"

	"github.com/spf13/pflag"
)

// The man page and the shell completions describe the same commands and
// flags as --help, because they are read from the same place: the command
// lines of usage (each command adds its line there) and, for each command,
// the pflag.FlagSet it parses. A FlagSet is collected by running the
// command with --help and a collector as stdout; parseFlags hands the set
// to it. A new command that adds its usage line and parses its flags with
// parseFlags appears in both without any change here.

// usageLine is one command line of usage: "rsprep verify dr|tun|nat
// [flags]" and what it does.
type usageLine struct {
	synopsis string // without the leading "rsprep "
	summary  string
	commands []command // the synopsis expanded: verify dr, verify tun, …
}

// command is one runnable command with its flags (nil: none to collect).
type command struct {
	args  []string
	flags *pflag.FlagSet
	help  string // what --help printed
}

func (c command) name() string { return strings.Join(c.args, " ") }

// flagCollector is a stdout that wants the FlagSet whose help it prints.
type flagCollector interface{ collect(*pflag.FlagSet) }

// helpCapture is the stdout of a --help run: the text and the FlagSet.
type helpCapture struct {
	bytes.Buffer
	flags *pflag.FlagSet
}

func (h *helpCapture) collect(fs *pflag.FlagSet) { h.flags = fs }

// commandLines parses usage and collects every command's flags.
func commandLines() []usageLine {
	var lines []usageLine
	inUsage := false
	for _, l := range strings.Split(usage, "\n") {
		trimmed := strings.TrimSpace(l)
		switch {
		case trimmed == "Usage:":
			inUsage = true
		case !inUsage:
		case trimmed == "":
			inUsage = false
		case strings.HasPrefix(trimmed, "rsprep "):
			syn, sum, _ := strings.Cut(strings.TrimPrefix(trimmed, "rsprep "), "  ")
			lines = append(lines, usageLine{synopsis: strings.TrimSpace(syn), summary: strings.TrimSpace(sum)})
		case len(lines) > 0: // a summary continued on the next line
			last := &lines[len(lines)-1]
			last.summary = strings.TrimSpace(last.summary + " " + trimmed)
		}
	}
	for i := range lines {
		for _, args := range expandSynopsis(lines[i].synopsis) {
			lines[i].commands = append(lines[i].commands, collectCommand(args))
		}
	}
	return lines
}

// expandSynopsis turns "verify dr|tun|nat [flags]" into the commands it
// names: literal words, alternatives split at "|", MODE as every mode
// ([MODE: without one, and with each); it stops at the first flag,
// placeholder or option.
func expandSynopsis(syn string) [][]string {
	out := [][]string{nil}
	for _, w := range strings.Fields(syn) {
		var alts []string
		switch {
		case w == "MODE":
			alts = modeNames()
		case w == "[MODE" || w == "[MODE]": // optional: the command alone, and with each mode
			var next [][]string
			for _, prefix := range out {
				next = append(next, prefix)
				for _, m := range modeNames() {
					next = append(next, append(slices.Clone(prefix), m))
				}
			}
			return next
		case strings.ToLower(w) != w || strings.IndexAny(w, "[-<…") == 0:
			return out
		default:
			alts = strings.Split(w, "|")
		}
		var next [][]string
		for _, prefix := range out {
			for _, a := range alts {
				next = append(next, append(slices.Clone(prefix), a))
			}
		}
		out = next
	}
	return out
}

// collectCommand runs args --help and keeps the FlagSet it parsed.
func collectCommand(args []string) command {
	var h helpCapture
	run(append(slices.Clone(args), "--help"), &h, io.Discard)
	return command{args: args, flags: h.flags, help: h.String()}
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
