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

// runMan is the hidden `rsprep man [rsprep.conf]`: rsprep(8), or
// rsprep.conf(5), as roff from the command table, for packaging.
func runMan(args []string, stdout, stderr io.Writer) int {
	switch {
	case len(args) == 0:
		writeManPage(stdout, version)
	case len(args) == 1 && args[0] == "rsprep.conf":
		writeConfPage(stdout, version)
	default:
		fmt.Fprintln(stderr, "rsprep: man takes no argument (rsprep(8)) or rsprep.conf (rsprep.conf(5)); it prints roff")
		return exitUsage
	}
	return exitOK
}

// maintenance is the MAINTENANCE section: taking a real server out of a
// keepalived director's pool with drain, and probe as keepalived's check.
// A paragraph that starts with a space is a block, printed as typed.
var maintenance = []string{
	"With keepalived checking each real server through its VIP path (rsprep probe as MISC_CHECK) and inhibit_on_failure (a failing server stays in IPVS at weight 0: no new connections, established ones go on), a real server leaves the pool without a failed request:",
	`    virtual_server 192.168.79.180 80 {
        delay_loop 1
        lb_kind DR
        protocol TCP
        real_server 10.0.0.11 80 {
            weight 1
            inhibit_on_failure
            MISC_CHECK {
                misc_path "/usr/sbin/rsprep probe --rip 10.0.0.11 --vip 192.168.79.180:80 --timeout 1s --error-exit 3"
                misc_timeout 3
                misc_dynamic
            }
        }
    }`,
	"On the real server: drain, then down once nothing is in flight; afterwards apply again, then undrain:",
	`    rsprep drain dr --vip 192.168.79.180 --dip 10.0.0.1
    rsprep down dr --vip 192.168.79.180
    rsprep dr --vip 192.168.79.180; rsprep undrain dr --vip 192.168.79.180`,
	"With misc_dynamic, keepalived sets the weight from the check's exit code: 0 keeps it, 1 sets 0, and a code N of 2 or more sets N - 2. --error-exit 3 (the weight + 2) therefore keeps the weight when the probe cannot run (bad input, no CAP_NET_RAW) instead of draining a healthy pool; rsprep says why on syslog, which keepalived's journal shows.",
}

// writeManPage prints rsprep(8) as roff, section by section.
func writeManPage(w io.Writer, ver string) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format+"\n", a...) }
	cmds := visibleCommands()
	p(`.TH RSPREP 8 "" "rsprep %s" "System Administration"`, roff(manVersion(ver)))
	p(".SH NAME")
	p(`rsprep \- prepare a Linux host to be an LVS/IPVS real server, keep it so, and prove it`)
	writeManSynopsis(p, cmds)
	p(".SH DESCRIPTION")
	p("%s", roff("rsprep binds the VIP where the forwarding mode (dr, tun, nat) needs it, sets the ARP and rp_filter knobs by their effective value, checks all of it with verify (a configuration audit), and down undoes exactly what rsprep did and nothing else. Each mode is a list of invariants with stable IDs (see INVARIANTS); apply makes them true, verify reports each one."))
	p(".PP")
	p("%s", roff(strings.TrimSpace(strings.ReplaceAll(globalNote, "\n", " "))))
	p(".SH COMMANDS")
	for _, c := range cmds {
		writeManCommand(p, c)
	}
	writeManInvariants(p)
	writeManMaintenance(p)
	writeManReference(p)
	p(".SH SEE ALSO")
	p(`\fBrsprep.conf\fR(5), \fBipvsadm\fR(8), \fBip\fR(8), \fBsystemctl\fR(1), \fBsysctl\fR(8), \fBkeepalived.conf\fR(5)`)
}

// writeManSynopsis is every form of every command, one a line.
func writeManSynopsis(p func(string, ...any), cmds []commandDef) {
	p(".SH SYNOPSIS")
	first := true
	for _, c := range cmds {
		for _, l := range c.synopsis {
			if !first {
				p(".br")
			}
			first = false
			p(`\fBrsprep\fR %s`, roff(l.form))
		}
	}
}

// writeManInvariants is each mode's summary and its invariants by ID.
func writeManInvariants(p func(string, ...any)) {
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
}

// writeManMaintenance is the maintenance paragraphs; one that starts
// with a space is a block, printed as typed.
func writeManMaintenance(p func(string, ...any)) {
	p(".SH MAINTENANCE")
	for i, para := range maintenance {
		if i > 0 {
			p(".PP")
		}
		if strings.HasPrefix(para, " ") {
			p(".nf")
			for _, l := range strings.Split(strings.TrimRight(para, "\n"), "\n") {
				p("%s", roff(l))
			}
			p(".fi")
			continue
		}
		p("%s", roff(para))
	}
}

// writeManReference is the reference sections: exit status, files,
// environment and examples.
func writeManReference(p func(string, ...any)) {
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
	p(".SH ENVIRONMENT")
	for _, e := range envDocs {
		p(".TP")
		p(`.B %s`, roff(e[0]))
		p("%s", roff(e[1]))
	}
	p(".SH EXAMPLES")
	for _, ex := range manExamples() {
		p(".PP")
		p(".nf")
		p("%s", roff(ex))
		p(".fi")
	}
}

// writeManCommand documents one command: its forms, what it does, then
// the union of its invocations' flags; a flag not every invocation has
// says which do.
func writeManCommand(p func(string, ...any), c commandDef) {
	p(".SS %s", roffQuoted("rsprep "+c.synopsis[0].form))
	for _, l := range c.synopsis[1:] {
		p(`\fBrsprep %s\fR`, roff(l.form))
		p(".br")
	}
	p("%s", roff(capitalize(c.summary)+"."))
	if c.description != "" {
		p(".PP")
		p("%s", roff(strings.Join(strings.Fields(c.description), " ")))
	}
	if c.exitCodes != "" {
		p(".PP")
		p("%s", roff(strings.Join(strings.Fields(c.exitCodes), " ")))
	}
	type entry struct {
		flag  *pflag.Flag
		where []string
	}
	var order []string
	entries := map[string]*entry{}
	invs := c.invocations()
	for _, in := range invs {
		for _, f := range visibleFlags(in.flags) {
			key := f.Name + "\x00" + f.Usage + "\x00" + f.DefValue
			if entries[key] == nil {
				entries[key] = &entry{flag: f}
				order = append(order, key)
			}
			entries[key].where = append(entries[key].where, in.form())
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
		if len(e.where) < len(invs) {
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

// manExamples are the top-level examples, each mode's own, then each
// command's.
func manExamples() []string {
	out := slices.Clone(topExamples)
	for _, m := range modeNames() {
		out = append(out, modeDefs()[m].example)
	}
	for _, c := range visibleCommands() {
		out = append(out, c.examples...)
	}
	var uniq []string
	for _, e := range out {
		if !slices.Contains(uniq, e) {
			uniq = append(uniq, e)
		}
	}
	return uniq
}

// manVersion is the version a page names.
func manVersion(ver string) string {
	if ver == "" {
		return "(devel)"
	}
	return ver
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
