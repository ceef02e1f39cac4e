package main

import (
	"bytes"
	"net/netip"
	"os"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/rsprep/rsprep/realserver"
)

// The generated documents, from the command table, as they are shipped:
// a change to a command, a flag or its text shows up here as a diff.
// After such a change: go test ./cmd/rsprep -run TestGoldenDocs -update
func TestGoldenDocs(t *testing.T) {
	for _, tc := range []struct {
		file  string
		write func(*bytes.Buffer)
	}{
		{"rsprep.8", func(b *bytes.Buffer) { writeManPage(b, "1.0") }},
		{"rsprep.conf.5", func(b *bytes.Buffer) { writeConfPage(b, "1.0") }},
		{"completion.bash", func(b *bytes.Buffer) { writeBashCompletion(b, completionDataFrom(visibleCommands())) }},
		{"completion.zsh", func(b *bytes.Buffer) { writeZshCompletion(b, completionDataFrom(visibleCommands())) }},
		{"completion.fish", func(b *bytes.Buffer) { writeFishCompletion(b, completionDataFrom(visibleCommands())) }},
	} {
		var b bytes.Buffer
		tc.write(&b)
		goldenFile(t, tc.file+".golden", b.String())
	}
}

// rsprep.conf(5) renders without a warning, and each example in it is a
// file rsprep reads back as its mode.
func TestConfPage(t *testing.T) {
	var b bytes.Buffer
	writeConfPage(&b, "1.0")
	out := renderMan(t, b.Bytes())
	for _, k := range confKeys() {
		if !strings.Contains(out, k.flag.Name) {
			t.Errorf("rsprep.conf(5) has no key %s", k.flag.Name)
		}
	}
	for _, m := range modeNames() {
		c, err := parseModeConfig("example.conf", confExample(m))
		if err != nil || c.mode != m {
			t.Fatalf("%s's example: %v", m, err)
		}
		def := modeDefs()[m]
		var o options
		if err := c.applyTo(ownFlags(def, &o), def); err != nil {
			t.Errorf("%s's example: %v", m, err)
		}
		if _, err := def.mode(&o); err != nil {
			t.Errorf("%s's example: %v", m, err)
		}
	}
}

// A mistyped command answers with every mode and command, not a few.
func TestUnknownCommandListsAll(t *testing.T) {
	code, stdout, stderr := runCLI("drr", "--vip", "192.168.79.180")
	if code != exitUsage || stdout != "" || strings.Count(stderr, "\n") != 1 {
		t.Fatalf("exit %d, %q, %q", code, stdout, stderr)
	}
	if !strings.Contains(stderr, `did you mean "dr"?`) {
		t.Errorf("no suggestion: %q", stderr)
	}
	for _, w := range commandWords() {
		if !strings.Contains(stderr, w) {
			t.Errorf("%q does not name %s", stderr, w)
		}
	}
}

// verify foo names the modes only, not other commands.
func TestUnknownModeOffersModes(t *testing.T) {
	for _, act := range []string{"verify", "down", "apply"} {
		code, _, stderr := runCLI(act, "foo", "--vip", "192.168.79.180")
		if code != exitUsage || !strings.Contains(stderr, `unknown mode "foo"`) || strings.Contains(stderr, "version") || !strings.Contains(stderr, "dr, nat, tun") {
			t.Errorf("%s foo: exit %d, %q", act, code, stderr)
		}
	}
}

// down --vip without a mode says the mode is missing, not that the
// default config file is.
func TestModeMissing(t *testing.T) {
	for _, args := range [][]string{
		{"down", "--vip", "192.168.79.180"},
		{"verify", "--vip=192.168.79.180"},
		{"apply", "-o", "json", "--dip", "10.0.0.1"},
	} {
		code, stdout, stderr := runCLI(args...)
		if code != exitUsage || stdout != "" || !strings.Contains(stderr, "the mode is missing") || strings.Contains(stderr, "no such config file") || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%v: exit %d, %q", args, code, stderr)
		}
	}
}

// Each command's synopsis in the top-level help is the one README.md
// shows for it, where README shows one.
func TestREADMESynopses(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, top, _ := runCLI("--help")
	for _, want := range []string{"rsprep status [-o text|json] [--netns NAME]"} {
		if !strings.Contains(top, want) {
			t.Errorf("rsprep --help lacks %q", want)
		}
		if !strings.Contains(string(readme), want) {
			t.Errorf("README.md lacks %q", want)
		}
	}
	for _, l := range strings.Split(string(readme), "\n") {
		l = strings.TrimSpace(strings.Trim(strings.TrimSpace(l), "`"))
		if strings.HasPrefix(l, "rsprep status [") && !strings.HasPrefix(l, "rsprep status [-o text|json] [--netns NAME]") {
			t.Errorf("README.md's %q differs from rsprep --help", l)
		}
	}
}

// A source build names the VCS revision Go embedded, not "(devel)".
func TestVersionString(t *testing.T) {
	rev := []debug.BuildSetting{{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: "38c527e48c34a4e3771ec360e8b40545ed8ff0db"}}
	dirty := append(rev, debug.BuildSetting{Key: "vcs.modified", Value: "true"})
	for _, tc := range []struct {
		set  string
		bi   *debug.BuildInfo
		want string
	}{
		{"1.2.3", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: rev}, "1.2.3 "},
		{"", &debug.BuildInfo{Main: debug.Module{Version: "v1.2.3"}}, "v1.2.3 "},
		{"", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: rev}, "git-38c527e48c34 "},
		{"", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: dirty}, "git-38c527e48c34-dirty "},
		{"", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, "(devel, no VCS revision"},
	} {
		if got := versionString(tc.set, tc.bi); !strings.HasPrefix(got, tc.want) {
			t.Errorf("%q, %v: %q, want %q…", tc.set, tc.bi.Settings, got, tc.want)
		}
	}
}

// "proto 114" in a plan or a fix is explained where it appears.
func TestProtoExplained(t *testing.T) {
	add := realserver.Change{Kind: realserver.KindAddrAdd, Addr: realserver.Addr{Link: "lo", Prefix: netip.MustParsePrefix("192.168.79.180/32"), Label: "lo:rsprep", Proto: realserver.AddrProto}}
	sysctl := realserver.Change{Kind: realserver.KindLinkUp, Link: "lo"}
	for _, tc := range []struct {
		name string
		act  action
		r    realserver.Result
		want bool
	}{
		{"plan with an address", actApply, realserver.Result{Mode: "dr", Changes: []realserver.Change{sysctl, add}}, true},
		{"plan without", actApply, realserver.Result{Mode: "dr", Changes: []realserver.Change{sysctl}}, false},
		{"verify with a fix", actVerify, realserver.Result{Mode: "dr", Checks: []realserver.Finding{{ID: "vip.bound", Subject: "192.168.79.180", Fix: []realserver.Change{add}}}}, true},
		{"verify all ok", actVerify, realserver.Result{Mode: "dr", Checks: []realserver.Finding{{ID: "vip.bound", Subject: "192.168.79.180", OK: true}}}, false},
	} {
		var b bytes.Buffer
		if err := writeResult(&b, "text", tc.act, tc.r, tc.act == actApply); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		if strings.Contains(out, "proto 114") != tc.want || strings.Contains(out, "# proto 114: rsprep's mark") != tc.want {
			t.Errorf("%s:\n%s", tc.name, out)
		}
	}
}

// rsprep help COMMAND [MODE] is COMMAND [MODE] --help.
func TestHelpCommand(t *testing.T) {
	for _, args := range [][]string{{"verify", "dr"}, {"install", "tun"}, {"status"}, {"dr"}} {
		code, got, _ := runCLI(append([]string{"help"}, args...)...)
		_, want, _ := runCLI(append(args, "--help")...)
		if code != exitOK || got != want || !strings.Contains(got, "Usage:") {
			t.Errorf("help %v: exit %d\n%s", args, code, got)
		}
	}
	if code, _, stderr := runCLI("help", "drr"); code != exitUsage || !strings.Contains(stderr, `did you mean "dr"?`) {
		t.Errorf("help drr: exit %d, %q", code, stderr)
	}
}

// Every rsprep command in README.md's shell examples parses: the command
// exists and takes those flags (each run with --help, which changes
// nothing once the flags parse).
func TestREADMECommandsParse(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	inSh, checked := false, 0
	for _, l := range strings.Split(string(readme), "\n") {
		switch {
		case strings.HasPrefix(l, "```"):
			inSh = l == "```sh"
			continue
		case !inSh || !strings.HasPrefix(l, "rsprep "):
			continue
		}
		l, _, _ = strings.Cut(l, " #")
		args := append(strings.Fields(l)[1:], "--help")
		code, stdout, stderr := runCLI(args...)
		if code != exitOK || !strings.Contains(stdout, "Usage:") {
			t.Errorf("README.md: %q: exit %d: %s", l, code, stderr)
		}
		checked++
	}
	if checked < 10 {
		t.Errorf("checked %d rsprep commands in README.md's sh blocks", checked)
	}
}
