package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

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
	writePrometheus(&b, r, time.Unix(1795420000, 0))
	goldenFile(t, "verify.prom", b.String())
}

// jsonSchema is the documented schema of -o json: each key with its JSON
// type; a trailing "?" marks a key that may be left out.
var jsonSchema = map[string]string{
	"mode": "string", "action": "string", "ok": "bool", "checks": "array",
	"dry_run?": "bool", "changes?": "array", "notes?": "array",
}

var jsonCheckSchema = map[string]string{
	"id": "string", "subject": "string", "ok": "bool", "want": "string", "got": "string", "detail?": "string",
}

func jsonType(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case bool:
		return "bool"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	case float64:
		return "number"
	}
	return "null"
}

// matchSchema reports every way obj departs from schema.
func matchSchema(obj map[string]any, schema map[string]string) []string {
	var bad []string
	for key, typ := range schema {
		name, optional := strings.CutSuffix(key, "?")
		v, ok := obj[name]
		switch {
		case !ok && !optional:
			bad = append(bad, "missing "+name)
		case ok && jsonType(v) != typ:
			bad = append(bad, name+" is "+jsonType(v)+", want "+typ)
		}
	}
	for name := range obj {
		if _, ok := schema[name]; !ok {
			if _, ok := schema[name+"?"]; !ok {
				bad = append(bad, "undocumented key "+name)
			}
		}
	}
	return bad
}

// verify -o json on this host parses and matches the documented schema,
// whatever the host's state (exit 0 or 1).
func TestVerifyJSONSchema(t *testing.T) {
	path := writeConfig(t, "[rsprep]\nmode = dr\nvip = 192.168.79.180\nvip = 2001:db8::80\n")
	for _, args := range [][]string{{"verify", "--config", path, "-o", "json"}, {"apply", "--config", path, "--dry-run", "-o", "json"}} {
		t.Setenv("RSPREP_STATE_DIR", t.TempDir())
		code, stdout, stderr := runCLI(args...)
		if code > exitDrift {
			t.Fatalf("%v: exit %d: %s", args, code, stderr)
		}
		var rep map[string]any
		if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, stdout)
		}
		bad := matchSchema(rep, jsonSchema)
		checks, _ := rep["checks"].([]any)
		if len(checks) == 0 {
			bad = append(bad, "no checks")
		}
		for _, c := range checks {
			obj, _ := c.(map[string]any)
			bad = append(bad, matchSchema(obj, jsonCheckSchema)...)
		}
		for _, key := range []string{"changes", "notes"} {
			list, _ := rep[key].([]any)
			for _, x := range list {
				if jsonType(x) != "string" {
					bad = append(bad, key+" holds a "+jsonType(x))
				}
			}
		}
		if len(bad) > 0 {
			t.Errorf("%v: %v\n%s", args, bad, stdout)
		}
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
