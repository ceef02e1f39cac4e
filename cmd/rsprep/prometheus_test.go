package main

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/rsprep/rsprep/cmd/rsprep/schema"
	"github.com/rsprep/rsprep/realserver"
)

func TestPrometheusGolden(t *testing.T) {
	r := realserver.Result{Mode: "dr", Checks: []realserver.Finding{
		{ID: "link.up", Subject: "lo", OK: true},
		{ID: "arp.ignore", Subject: "all", OK: true},
		{ID: "arp.ignore", Subject: "eth0.100", OK: false},
		{ID: "vip.bound", Subject: "192.168.79.180", OK: true},
		{ID: "vip.bound", Subject: "192.168.79.180", OK: false}, // the same series twice: merged, both must hold
		{ID: "odd", Subject: "a\"b\\c\nd", OK: true},
	}}
	var b bytes.Buffer
	writePrometheus(&b, r, time.Unix(1795420000, 0), "verify")
	goldenFile(t, "verify.prom", b.String())
}

// apply --dry-run, verify and down --dry-run -o json on this host, for
// each mode, validate against schema/rsprep.schema.json whatever the
// host's state (exit 0 or 1).
func TestJSONMatchesSchema(t *testing.T) {
	modes := map[string]string{
		"dr":  "[rsprep]\nmode = dr\nvip = 192.168.79.180\nvip = 2001:db8::80\n",
		"tun": "[rsprep]\nmode = tun\nvip = 192.168.79.180\n",
		"nat": "[rsprep]\nmode = nat\ndip = 192.168.79.1\n",
	}
	validated := 0
	for mode, conf := range modes {
		path := writeConfig(t, conf)
		for _, args := range [][]string{{"verify", "--config", path, "-o", "json"}, {"apply", "--config", path, "--dry-run", "-o", "json"}, {"down", "--config", path, "--dry-run", "-o", "json"}} {
			t.Setenv("RSPREP_STATE_DIR", t.TempDir())
			code, stdout, stderr := runCLI(args...)
			if code > exitDrift {
				if mode != "dr" { // tun needs ipip, nat an on-link DIP: not every host has them
					continue
				}
				t.Fatalf("%v: exit %d: %s", args, code, stderr)
			}
			if err := schema.Validate([]byte(stdout)); err != nil {
				t.Errorf("%s %v: %v\n%s", mode, args, err, stdout)
			}
			if !strings.Contains(stdout, `"id": "`) && args[0] == "verify" {
				t.Errorf("%s %v: no checks\n%s", mode, args, stdout)
			}
			validated++
		}
	}
	if validated < 3 {
		t.Errorf("validated %d outputs", validated)
	}
}

func TestPrometheusOnlyForVerify(t *testing.T) {
	for _, args := range [][]string{
		{"dr", "--vip", "192.168.79.180", "-o", "prometheus"},
		{"down", "dr", "--vip", "192.168.79.180", "-o", "prometheus"},
		{"verify", "dr", "--vip", "192.168.79.180", "-o", "yaml"},
	} {
		if code, _, stderr := runCLI(args...); code != exitUsage || !strings.Contains(stderr, "--output") {
			t.Errorf("%v: exit %d, %q", args, code, stderr)
		}
	}
}

// An apply that does not converge logs each failing invariant as its own
// record, so the journal holds INVARIANT= fields for each.
func TestLogFailing(t *testing.T) {
	var b bytes.Buffer
	log := slog.New(slog.NewTextHandler(&b, nil))
	logFailing(log, "dr", &realserver.NotConvergedError{Failing: []realserver.Finding{
		{ID: "arp.ignore", Subject: "eth0", Want: "1", Got: "0"},
		{ID: "vip.bound", Subject: "192.168.79.180", Want: "192.168.79.180/32 on lo", Got: "absent"},
	}})
	logFailing(log, "dr", errors.New("not a convergence failure"))
	got := b.String()
	if strings.Count(got, "\n") != 2 || !strings.Contains(got, "invariant=arp.ignore subject=eth0 want=1 got=0") || !strings.Contains(got, "invariant=vip.bound") {
		t.Errorf("logged:\n%s", got)
	}
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"apply", "--help"}, {"verify", "-h"}, {"install", "dr", "--help"}, {"uninstall", "--help"}, {"dr", "--help"}} {
		code, stdout, _ := runCLI(args...)
		if code != exitOK || stdout == "" {
			t.Errorf("%v: exit %d, %q", args, code, stdout)
		}
		if args[0] == "dr" && !strings.Contains(stdout, "--config") {
			t.Errorf("%v: no --config in\n%s", args, stdout)
		}
	}
}
