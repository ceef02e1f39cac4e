package schema

import (
	"encoding/json"
	"strings"
	"testing"
)

const good = `{"schema": 1, "mode": "dr", "action": "verify", "ok": false, "checks": [
 {"id": "arp.ignore", "subject": "eth0", "ok": false, "want": "1", "got": "0", "detail": "conf/all=0 conf/eth0=0"},
 {"id": "vip.bound", "subject": "192.168.79.180", "ok": true, "want": "192.168.79.180/32 on lo", "got": "192.168.79.180/32 on lo"}]}`

const goodDoctor = `{"schema": 1, "mode": "dr", "root": "/", "ok": false, "findings": [
 {"id": "sysctl.wildcard", "source": "/etc/sysctl.d/60-rp.conf:1", "subject": "all", "what": "sets rp_filter=2", "fix": "remove the line"}]}`

const goodProbe = `{"schema": 1, "ok": false, "results": [
 {"rip": "10.0.0.11", "vip": "192.168.79.180", "port": 80, "encap": "ipip", "state": "open", "rtt_seconds": 0.000412, "mss": 1460, "sent": 1, "answered": 1},
 {"rip": "10.0.0.12", "vip": "192.168.79.180", "port": 80, "encap": "ipip", "state": "unreachable", "icmp": "port unreachable", "icmp_type": 3, "icmp_code": 3, "icmp_from": "10.0.0.12", "sent": 1, "answered": 1}]}`

func TestValidDocuments(t *testing.T) {
	for _, doc := range []string{good, goodDoctor, goodProbe} {
		if err := Validate([]byte(doc)); err != nil {
			t.Errorf("%v\n%s", err, doc)
		}
	}
}

// A document of one shape with a key of the other matches neither.
func TestOneShapeOnly(t *testing.T) {
	doc := strings.Replace(goodDoctor, `"root": "/"`, `"root": "/", "checks": []`, 1)
	if err := Validate([]byte(doc)); err == nil || !strings.Contains(err.Error(), "matches none of oneOf") {
		t.Errorf("got %v", err)
	}
}

// Each violation the schema's keywords describe is reported.
func TestViolations(t *testing.T) {
	for _, tc := range []struct{ from, to, want string }{
		{`"schema": 1`, `"schema": 2`, "$.schema: is 2, want 1"},
		{`"mode": "dr"`, `"mode": "lvs"`, "$.mode: lvs is not one of"},
		{`"ok": false, "checks"`, `"ok": "no", "checks"`, "$.ok: is string, want boolean"},
		{`"action": "verify", `, ``, `$: no "action"`},
		{`"ok": false, "checks"`, `"ok": false, "extra": 1, "checks"`, `$: undocumented key "extra"`},
		{`"id": "arp.ignore"`, `"id": "ARP ignore"`, `$.checks[0].id: "ARP ignore" does not match`},
		{`"subject": "eth0"`, `"subject": ""`, "$.checks[0].subject: shorter than 1"},
		{`"got": "0", `, `"got": 0, `, "$.checks[0].got: is integer, want string"},
		{`"want": "1", `, ``, `$.checks[0]: no "want"`},
	} {
		doc := strings.Replace(good, tc.from, tc.to, 1)
		if doc == good {
			t.Fatalf("%q not in the document", tc.from)
		}
		err := Validate([]byte(doc))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s → %s: %v, want %q", tc.from, tc.to, err, tc.want)
		}
	}
}

func TestProbeViolations(t *testing.T) {
	for _, tc := range []struct{ from, to, want string }{
		{`"port": 80, "encap": "ipip", "state": "open"`, `"port": 0, "encap": "ipip", "state": "open"`, "$.results[0].port: 0 is below 1"},
		{`"mss": 1460`, `"mss": 14.5`, "$.results[0].mss: is number, want integer"},
		{`"state": "open"`, `"state": "up"`, "$.results[0].state: up is not one of"},
	} {
		doc := strings.Replace(goodProbe, tc.from, tc.to, 1)
		if doc == goodProbe {
			t.Fatalf("%q not in the document", tc.from)
		}
		if err := Validate([]byte(doc)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s → %s: %v, want %q", tc.from, tc.to, err, tc.want)
		}
	}
}

// A schema keyword the validator does not implement is an error, not a
// rule silently skipped.
func TestUnknownKeyword(t *testing.T) {
	var root map[string]any
	if err := json.Unmarshal([]byte(`{"type": "object", "maxProperties": 1}`), &root); err != nil {
		t.Fatal(err)
	}
	if err := ValidateWith(root, []byte(`{}`)); err == nil || !strings.Contains(err.Error(), "maxProperties") {
		t.Errorf("got %v", err)
	}
}

func TestNotJSON(t *testing.T) {
	for _, doc := range []string{``, `{"schema": 1`, `{} {}`} {
		if Validate([]byte(doc)) == nil {
			t.Errorf("%q passed", doc)
		}
	}
}
