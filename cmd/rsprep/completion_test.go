package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/rsprep/rsprep/test/nstest"
	"github.com/rsprep/rsprep/tunnel"
)

// complete drives the bash completion as bash does: COMP_WORDS split as
// COMP_WORDBREAKS would, COMP_CWORD the word being completed; it returns
// COMPREPLY.
func complete(t *testing.T, script string, words ...string) []string {
	t.Helper()
	var quoted []string
	for _, w := range words {
		quoted = append(quoted, "'"+w+"'")
	}
	prog := "source " + script + "\nCOMP_WORDS=(" + strings.Join(quoted, " ") + ")\nCOMP_CWORD=" +
		strconv.Itoa(len(words)-1) + "\n_rsprep\nprintf '%s\\n' \"${COMPREPLY[@]}\"\n"
	out, err := exec.Command("bash", "--norc", "--noprofile", "-c", prog).CombinedOutput()
	if err != nil {
		t.Fatalf("bash: %v\n%s", err, out)
	}
	return strings.Fields(string(out))
}

func TestBashCompletion(t *testing.T) {
	ns := nstest.New(t, "compl") // a named namespace for --netns to offer
	dir := t.TempDir()
	script := filepath.Join(dir, "rsprep")
	if code, out, stderr := runCLI("completion", "bash"); code != exitOK {
		t.Fatalf("completion bash: exit %d: %s", code, stderr)
	} else if err := os.WriteFile(script, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "lb.conf")
	if err := os.WriteFile(conf, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		words    []string
		want     []string // each must be offered
		wantNot  []string // none may be
		wantOnly bool     // want is the whole reply
	}{
		{[]string{"rsprep", ""}, []string{"dr", "tun", "nat", "verify", "down", "apply", "install", "uninstall", "version"}, []string{"man", "completion"}, false},
		{[]string{"rsprep", "ve"}, []string{"verify", "version"}, nil, true},
		{[]string{"rsprep", "verify", ""}, []string{"dr", "tun", "nat"}, nil, true},
		{[]string{"rsprep", "install", "t"}, []string{"tun"}, nil, true},
		{[]string{"rsprep", "verify", "dr", "--"}, []string{"--vip", "--output", "--netns", "--config", "--pin-gateway-arp"}, []string{"--dry-run", "--rp-filter", "--keep-route"}, false},
		{[]string{"rsprep", "tun", "--"}, []string{"--rp-filter", "--dry-run", "--lock-wait"}, []string{"--keep-route"}, false},
		{[]string{"rsprep", "install", "nat", "--"}, []string{"--dip", "--keep-route", "--root", "--bin", "--before"}, []string{"--vip"}, false},
		{[]string{"rsprep", "verify", "dr", "-o", ""}, []string{"text", "json", "prometheus"}, nil, true},
		{[]string{"rsprep", "verify", "dr", "--output", "p"}, []string{"prometheus"}, nil, true},
		{[]string{"rsprep", "dr", "--output", "=", ""}, []string{"text", "json", "prometheus"}, nil, true},
		{[]string{"rsprep", "tun", "--rp-filter", ""}, []string{"off", "loose"}, nil, true},
		{[]string{"rsprep", "dr", "--netns", ""}, []string{ns.Name}, nil, false},
		{[]string{"rsprep", "dr", "--vip", ""}, nil, []string{"dr", "--vip"}, true},
		{[]string{"rsprep", "verify", "dr", "--config", dir + "/lb"}, []string{conf}, nil, true},
		{[]string{"rsprep", "install", "dr", "--root", dir + "/"}, nil, []string{conf}, true},
		// a flag's value is not a command word: "tun" here is --vip's value
		{[]string{"rsprep", "verify", "--vip", "tun", "dr", "--"}, []string{"--vip"}, []string{"--rp-filter"}, false},
		{[]string{"rsprep", "dr", "--vip", "192.168.79.180", "--"}, []string{"--dry-run", "--vip"}, nil, false},
	} {
		got := complete(t, script, tc.words...)
		for _, w := range tc.want {
			if !slices.Contains(got, w) {
				t.Errorf("%q: %v lacks %s", tc.words, got, w)
			}
		}
		for _, w := range tc.wantNot {
			if slices.Contains(got, w) {
				t.Errorf("%q: %v offers %s", tc.words, got, w)
			}
		}
		if tc.wantOnly && len(got) != len(tc.want) {
			t.Errorf("%q: %v, want exactly %v", tc.words, got, tc.want)
		}
	}
}

// Each word completion offers for a flag's value is one the CLI accepts.
func TestCompletionValuesAccepted(t *testing.T) {
	d := completionDataFrom(visibleCommands())
	accepts := map[string]func(string) error{
		"--output":    func(v string) error { return checkOutput(actVerify, v) },
		"--rp-filter": func(v string) error { _, err := tunnel.ParseRPFilter(v); return err },
	}
	for flag, accept := range accepts {
		vals := strings.Fields(d.values[flag])
		if len(vals) < 2 {
			t.Errorf("values for %s: %v", flag, vals)
		}
		for _, v := range vals {
			if err := accept(v); err != nil {
				t.Errorf("%s %s: %v", flag, v, err)
			}
		}
	}
}
