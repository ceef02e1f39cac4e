package main

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/pflag"

	"github.com/rsprep/rsprep/realserver"
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

// invariantDoc is one row of a mode's invariant table in the man page.
// TestManInvariantIDs checks the IDs against what each mode's Invariants
// report on the fake host, so the table cannot miss or invent one.
type invariantDoc struct{ id, text string }

var modeInvariantDocs = map[string][]invariantDoc{
	"dr": {
		{"link.up", "lo is up."},
		{"arp.ignore", "the effective arp_ignore, max(conf/all, conf/IFACE), is 1 on every up, ARP-capable interface; all, default and lo are set to 1."},
		{"arp.announce", "the effective arp_announce is 2, likewise."},
		{"vip.bound", "each VIP is on lo as /32 (label lo:rsprep) or /128, never with a shorter prefix."},
		{"vip.exclusive", "no VIP is on an ARP-capable interface."},
		{"ip.forward", "with --forwarding off: net.ipv4.ip_forward, conf/default/forwarding and every interface's forwarding are 0; with an IPv6 VIP also net.ipv6.conf.all.forwarding."},
		{"dip.onlink", "with --dip: the DIP is in a directly connected subnet of an up, ARP-capable interface and is not this host's own address (checked before anything changes)."},
		{"dip.reachable", "with --dip: the director has a live neighbour entry or answers an ARP probe (an audit: apply changes nothing for it)."},
		{"gw.pinned", "with --pin-gateway-arp: the gateway's neighbour entry is PERMANENT with its MAC."},
	},
	"tun": {
		{"module.ipip", "tunl0 exists with type ipip (the module is loaded or built in)."},
		{"link.tunl0", "tunl0 is up."},
		{"arp.ignore", "as in dr, on every up ARP-capable interface and tunl0."},
		{"arp.announce", "as in dr, likewise."},
		{"rp.filter", "the effective rp_filter of tunl0, max(conf/all, conf/tunl0), is 0 (2 with --rp-filter loose)."},
		{"module.ip6_tunnel", "for IPv6 VIPs: ip6tnl0 exists with type ip6tnl."},
		{"link.ip6tnl0", "for IPv6 VIPs: ip6tnl0 is up."},
		{"vip.bound", "each IPv4 VIP is on tunl0 as /32 (label tunl0:rsprep), each IPv6 VIP on ip6tnl0 as /128."},
		{"vip.exclusive", "no VIP is on an ARP-capable interface."},
		{"ip.forward", "with --forwarding off: as in dr, tunl0 included."},
		{"dip.route", "with --dip: the main table has a route to the DIP (checked before anything changes)."},
		{"dip.reachable", "with --dip: the next hop toward the DIP has a live neighbour entry or answers ARP (an audit)."},
		{"gw.pinned", "with --pin-gateway-arp: as in dr."},
		{"module.fou", "with --encap gue: the fou module is loaded (fou6 too for an IPv6 underlay)."},
		{"fou.port", "with --encap gue: a GUE receive port --encap-port is open for the underlay's family (ip fou add port P gue)."},
		{"module.ip_gre", "with --encap gre: gre0 exists with type gre (module ip_gre)."},
		{"link.gre0", "with --encap gre: gre0 is up (it starts down)."},
		{"module.ip6_gre", "with --encap gre --underlay ipv6: ip6gre0 exists with type ip6gre (module ip6_gre)."},
		{"link.ip6gre0", "with --encap gre --underlay ipv6: ip6gre0 is up."},
		{"module.sit", "for an IPv6 VIP over an IPv4 underlay: sit0 exists (module sit)."},
		{"link.sit0", "for an IPv6 VIP over an IPv4 underlay: sit0 is up."},
		{"tunnel.mode", "for an IPv4 VIP over an IPv6 underlay: ip6tnl0 accepts IPv4 inside (mode any or ipip6; it starts as ip6ip6)."},
		{"mss.clamp", "with --mss N|auto: a rule from each VIP (ip -6 rule for an IPv6 one) to rsprep's table 7301, whose routes copy main's of the VIP's family with advmss N."},
	},
	"nat": {
		{"dip.onlink", "the DIP is in a directly connected subnet of an up interface and is not this host's own address (checked before anything changes)."},
		{"route.keep", "each --keep-route destination goes via the previous default gateway."},
		{"route.default", "the default route the kernel uses (lowest metric) goes via the DIP."},
		{"gw.pinned", "with --pin-gateway-arp: the DIP's (or --gateway's) neighbour entry is PERMANENT with its MAC."},
	},
}

// exitDocs are the exit codes, as in the spec.
var exitDocs = []struct {
	code int
	text string
}{
	{exitOK, "success; for verify, every invariant holds."},
	{exitDrift, "drift found (verify), or apply ran but could not reach the desired state."},
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
		if def, ok := modeDefs()[m]; ok {
			p("%s", roff(def.summary+"."))
		}
		for _, inv := range modeInvariantDocs[m] {
			p(".TP")
			p(`\fB%s\fR`, roff(inv.id))
			p("%s", roff(inv.text))
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
		{realserver.DefaultStateDir, "this boot's record of what rsprep changed and the values before, and the lock; per network namespace."},
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
