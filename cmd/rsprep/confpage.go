package main

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/pflag"

	"github.com/rsprep/rsprep/systemd"
)

// writeConfPage prints rsprep.conf(5) as roff: the file's syntax, and its
// keys, which are the modes' own flags (config.go, config_flags.go).
func writeConfPage(w io.Writer, ver string) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format+"\n", a...) }
	p(`.TH RSPREP.CONF 5 "" "rsprep %s" "File Formats"`, roff(manVersion(ver)))
	p(".SH NAME")
	p(`rsprep.conf \- the desired state of an LVS/IPVS real server, for rsprep(8)`)
	p(".SH SYNOPSIS")
	p(".I %s", roff(systemd.ConfigPath))
	p(".SH DESCRIPTION")
	for _, para := range []string{
		"rsprep install MODE writes this file from its flags; the boot unit, and rsprep apply, verify, down, watch and doctor without a mode, read it (another file with --config FILE). Boot and audit read the same desired state, so they agree.",
		"The syntax is systemd's INI (systemd.syntax(7)): one [" + configSection + "] section of key = value lines; blanks around = are ignored; lines starting with # or ; are comments; a trailing backslash (line continuation) is refused. Every complaint names FILE:LINE and is bad input (exit 2): nothing is changed.",
		"The first key is mode = dr, tun or nat. Every other key is a long flag of that mode's command, without the dashes, and means what the flag means: a list key (" + strings.Join(confListKeys(), ", ") + ") is repeated, one value per line, or comma-separated; a switch is yes or no. A key the mode does not take, or a single-valued key given twice, is an error.",
		"With --config, the file is the whole desired state: a key's flag on the command line as well is an error. Flags about the run itself are allowed: -o, --dry-run, --netns, --lock-wait, -v, and for watch its own flags.",
	} {
		p(".PP")
		p("%s", roff(para))
	}
	p(".SH KEYS")
	p(".TP")
	p(`\fBmode\fR = \fI%s\fR`, strings.Join(modeNames(), "|"))
	p("%s", roff("The forwarding mode; the keys below say which modes take them."))
	for _, k := range confKeys() {
		p(".TP")
		head := `\fB` + roff(k.flag.Name) + `\fR`
		if name, _ := pflag.UnquoteUsage(k.flag); name != "" && k.flag.NoOptDefVal == "" {
			head += ` = \fI` + roff(name) + `\fR`
		} else {
			head += ` = \fIyes\fR|\fIno\fR`
		}
		p("%s", head)
		p("%s", roff(k.flag.Usage))
		if d := flagDefault(k.flag); d != "" {
			p(".br")
			p("%s", roff("Default: "+d+"."))
		}
		p(".br")
		p("%s", roff("Modes: "+strings.Join(k.modes, ", ")+"."))
	}
	p(".SH EXAMPLES")
	for _, m := range modeNames() {
		p(".PP")
		p("%s", roff("What rsprep install writes for: "+strings.Replace(modeDefs()[m].example, "rsprep ", "rsprep install ", 1)))
		p(".PP")
		p(".nf")
		for _, l := range strings.Split(strings.TrimSpace(string(confExample(m))), "\n") {
			p("%s", roff(l))
		}
		p(".fi")
	}
	p(".SH SEE ALSO")
	p(`\fBrsprep\fR(8), \fBsystemd.syntax\fR(7)`)
}

// confKey is one key of the file and the modes that take it.
type confKey struct {
	flag  *pflag.Flag
	modes []string
}

// confKeys are the modes' own flags, each once (a key whose meaning
// differs by mode, once per meaning), in the modes' order.
func confKeys() []confKey {
	var keys []confKey
	for _, m := range modeNames() {
		ownFlags(modeDefs()[m], &options{}).VisitAll(func(f *pflag.Flag) {
			i := slices.IndexFunc(keys, func(k confKey) bool { return k.flag.Name == f.Name && k.flag.Usage == f.Usage })
			if i < 0 {
				keys = append(keys, confKey{flag: f})
				i = len(keys) - 1
			}
			keys[i].modes = append(keys[i].modes, m)
		})
	}
	return keys
}

// confListKeys are the keys that take a list, with the modes where it
// does when another mode takes the key as a single value ("dip for nat").
func confListKeys() []string {
	keys := confKeys()
	var names []string
	for _, k := range keys {
		if !isList(k.flag) {
			continue
		}
		name := k.flag.Name
		if slices.ContainsFunc(keys, func(o confKey) bool { return o.flag.Name == name && !isList(o.flag) }) {
			name += " for " + strings.Join(k.modes, ", ")
		}
		names = append(names, name)
	}
	return names
}

// confExample is the file install writes for mode's example.
func confExample(mode string) []byte {
	def := modeDefs()[mode]
	fs := ownFlags(def, &options{})
	if err := fs.Parse(strings.Fields(def.example)[2:]); err != nil {
		panic(fmt.Sprintf("the example of %s: %v", mode, err)) // a test renders every page
	}
	return systemd.RenderConfig(systemd.ConfigPath, configPairs(mode, fs, def))
}
