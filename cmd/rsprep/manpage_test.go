package main

import (
	"bytes"
	"net/netip"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/rsprep/rsprep/realserver"
	"github.com/rsprep/rsprep/realserver/fake"
)

// deroff undoes roff's escapes, so a roff line can be compared with text.
func deroff(s string) string {
	return strings.NewReplacer(`\fB`, "", `\fR`, "", `\fI`, "", `\-`, "-", `\e`, `\`, `\&`, "", `\(em`, "—", `\(md`, "·", `.\|.\|.`, "…", `\(>=`, "≥").Replace(s)
}

func manLines(t *testing.T) []string {
	t.Helper()
	var b bytes.Buffer
	writeManPage(&b, "1.0")
	return strings.Split(deroff(b.String()), "\n")
}

// Every flag of every command in the table is in both --help and the man
// page, with the same description; every synopsis line is in the man page.
func TestManMatchesHelp(t *testing.T) {
	man := manLines(t)
	withFlags := 0
	for _, c := range visibleCommands() {
		for _, l := range c.synopsis {
			if !slices.Contains(man, "rsprep "+l.form) {
				t.Errorf("synopsis line %q not in the man page", l.form)
			}
		}
		for _, in := range c.invocations() {
			_, help, _ := runCLI(append(slices.Clone(in.args), "--help")...)
			if in.flags != nil {
				withFlags++
			}
			for _, f := range visibleFlags(in.flags) {
				if !strings.Contains(help, "--"+f.Name) || !strings.Contains(help, f.Usage) {
					t.Errorf("rsprep %s --help: no --%s with %q", in.name(), f.Name, f.Usage)
				}
				if !slices.Contains(man, deroff(manFlagHead(f))) || !slices.Contains(man, f.Usage) {
					t.Errorf("man page: no --%s of %s with %q", f.Name, in.name(), f.Usage)
				}
			}
		}
	}
	if withFlags < 3*len(modeNames()) {
		t.Errorf("only %d commands with flags; want at least apply, verify, down and install per mode", withFlags)
	}
}

// What --help says, independently of the table: every command the
// top-level usage names has a section in the man page, and every flag its
// --help (and each mode's) lists is documented there.
func TestHelpCommandsAndFlagsInMan(t *testing.T) {
	man := strings.Join(manLines(t), "\n")
	_, top, _ := runCLI("--help")
	usage, _, _ := strings.Cut(top, "\n\nExamples:")
	flagRE := regexp.MustCompile(`^\s+(?:-\w, )?--([a-z0-9-]+)`)
	commands := 0
	for _, l := range strings.Split(usage, "\n") {
		words := strings.Fields(l)
		if len(words) < 2 || words[0] != "rsprep" || !strings.HasPrefix(l, " ") {
			continue
		}
		commands++
		cmd := words[1]
		var runs [][]string
		if cmd == "dr|tun|nat" {
			for _, m := range modeNames() {
				runs = append(runs, []string{m})
			}
		} else {
			if _, cmds, _ := strings.Cut(man, "\n.SH COMMANDS\n"); !strings.Contains(cmds, "rsprep "+cmd) {
				t.Errorf("rsprep --help names %s; the man page has no section for it", cmd)
			}
			runs = append(runs, []string{cmd})
			if len(words) > 2 && strings.Contains(words[2], "|") && !strings.HasPrefix(words[2], "[") {
				for _, m := range strings.Split(words[2], "|") {
					runs = append(runs, []string{cmd, m})
				}
			}
		}
		for _, args := range runs {
			code, help, _ := runCLI(append(args, "--help")...)
			if code != exitOK {
				t.Errorf("rsprep %v --help: exit %d", args, code)
			}
			_, flags, _ := strings.Cut(help, "\nFlags:\n")
			for _, fl := range strings.Split(flags, "\n") {
				if m := flagRE.FindStringSubmatch(fl); m != nil && !strings.Contains(man, "\n--"+m[1]) && !strings.Contains(man, ", --"+m[1]) {
					t.Errorf("rsprep %v --help lists --%s; the man page does not", args, m[1])
				}
			}
		}
	}
	if commands < 10 {
		t.Errorf("found %d command lines in rsprep --help:\n%s", commands, top)
	}
}

// renderMan is man's rendering of a roff page; a warning fails the test.
func renderMan(t *testing.T, page []byte) string {
	t.Helper()
	path := t.TempDir() + "/page"
	if err := os.WriteFile(path, page, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("man", "--warnings", "-l", path)
	cmd.Env = append(os.Environ(), "MANWIDTH=80")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || stderr.Len() > 0 {
		t.Fatalf("man --warnings -l: %v\n%s", err, stderr.String())
	}
	return string(out)
}

// man renders the page without a warning.
func TestManRenders(t *testing.T) {
	var b bytes.Buffer
	writeManPage(&b, "1.0")
	out := renderMan(t, b.Bytes())
	for _, want := range []string{"SYNOPSIS", "COMMANDS", "INVARIANTS", "EXIT STATUS", "FILES", "EXAMPLES", "rp.filter", "--keep-route"} {
		if !strings.Contains(out, want) {
			t.Errorf("rendered page has no %q", want)
		}
	}
}

// The man page's invariant IDs per mode are exactly those the modes check
// (on the fake host with every tunnel module loaded; every option on: pin,
// IPv4 and IPv6 VIPs, --dip, --forwarding off, keep-route, and for tun
// each encapsulation and underlay; as verify builds them).
func TestManInvariantIDs(t *testing.T) {
	common := []string{"--dip", "192.168.10.1", "--forwarding", "off", "--pin-gateway-arp", "--gateway-mac", "02:00:00:00:00:01"}
	args := map[string][][]string{
		"dr": {append([]string{"--vip", "192.168.79.180,2001:db8::80"}, common...)},
		"tun": {
			append([]string{"--vip", "192.168.79.180,2001:db8::80", "--mss", "1400"}, common...),
			{"--vip", "192.168.79.180", "--encap", "gue", "--encap-port", "6080"},
			{"--vip", "192.168.79.180", "--encap", "gre"},
			{"--vip", "192.168.79.180", "--encap", "gre", "--underlay", "ipv6"},
			{"--vip", "192.168.79.180", "--encap", "gue", "--encap-port", "6080", "--underlay", "ipv6"},
			{"--vip", "192.168.79.180", "--underlay", "ipv6"},
			{"--vip", "2001:db8::80", "--underlay", "ipv4"},
		},
		"nat": {{"--dip", "192.168.10.1", "--dip", "fd00:10::1", "--keep-route", "10.20.0.0/16", "--pin-gateway-arp", "--gateway-mac", "02:00:00:00:00:01"}},
	}
	for _, name := range modeNames() {
		def := modeDefs()[name]
		var got []string
		for _, a := range args[name] {
			for _, id := range checkedIDs(t, name, def, a) {
				if !slices.Contains(got, id) {
					got = append(got, id)
				}
			}
		}
		var want []string
		for _, d := range def.docs {
			want = append(want, d.ID)
		}
		sort.Strings(got)
		sort.Strings(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s: the mode checks %v, the man page documents %v", name, got, want)
		}
	}
}

func TestManExitCodesAndFiles(t *testing.T) {
	man := strings.Join(manLines(t), "\n")
	for _, want := range []string{".SH EXIT STATUS\n.TP\n0\n", "\n.TP\n3\n", ".SH ENVIRONMENT\n.TP\n.B RSPREP_STATE_DIR\n", "/etc/rsprep/rsprep.conf", "/etc/systemd/system/rsprep.service", "/run/rsprep", "rsprep verify dr --vip 192.168.79.180 -o json"} {
		if !strings.Contains(man, want) {
			t.Errorf("man page has no %q", want)
		}
	}
}

func TestGenerateBadInput(t *testing.T) {
	for _, args := range [][]string{{"man", "x"}, {"completion"}, {"completion", "tcsh"}} {
		if code, _, stderr := runCLI(args...); code != exitUsage || !strings.HasPrefix(stderr, "rsprep: ") {
			t.Errorf("%v: exit %d, %q", args, code, stderr)
		}
	}
}

// checkedIDs are the invariant IDs mode name checks with args, on a fake
// host with every tunnel module loaded.
func checkedIDs(t *testing.T, name string, def modeDef, args []string) []string {
	t.Helper()
	var o options
	fs := newFlagSet(actVerify, name, def, &o)
	if err := fs.Parse(args); err != nil {
		t.Fatalf("%s %v: %v", name, args, err)
	}
	mode, err := def.build(&o)
	if err != nil {
		t.Fatalf("%s %v: %v", name, args, err)
	}
	h := fake.New()
	h.SetLinkUp("lo", true)
	h.AddLink(realserver.Link{Name: "eth0", Type: "veth", Up: true})
	h.AddAddrRaw(realserver.Addr{Link: "eth0", Prefix: netip.MustParsePrefix("192.168.10.2/24")})
	h.AddRouteRaw(realserver.Route{Dst: netip.MustParsePrefix("0.0.0.0/0"), Gw: netip.MustParseAddr("192.168.10.254"), Link: "eth0"})
	for _, m := range []string{"ipip", "ip6_tunnel", "sit", "ip_gre", "ip6_gre", "fou", "fou6"} {
		h.AllowModule(m)
		if err := h.LoadModule(m); err != nil {
			t.Fatal(err)
		}
	}
	findings, err := realserver.Verify(h, mode.Invariants())
	if err != nil {
		t.Fatalf("%s %v: %v", name, args, err)
	}
	var ids []string
	for _, f := range findings {
		ids = append(ids, f.ID)
	}
	return ids
}
