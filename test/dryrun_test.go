package test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// On the real kernel, `--dry-run` lists exactly the changes the run then
// makes, in its order, and changes nothing itself. (TUN, where a round
// only sees tunl0 after loading ipip, is compared on the fake in
// realserver/dryrun_test.go: this kernel has no ipip.)
func TestDryRunListsWhatTheRunMakes(t *testing.T) {
	for _, c := range []struct {
		name string
		args []string
	}{
		{"dr", []string{"dr", "--vip", vip + ",2001:db8::80", "--pin-gateway-arp"}},
		{"nat", []string{"nat", "--dip", "10.0.0.254", "--keep-route", "10.99.0.0/24", "--pin-gateway-arp", "--gateway-mac", "52:54:00:65:43:21"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			rs, _ := realServer(t)
			rs.Must(t, "ip", "route", "add", "default", "via", "10.0.0.1")
			before := rs.Snapshot(t)
			dry := changesOf(t, mustRun(t, rs, 0, append(c.args, "--dry-run", "-o", "json")...).Stdout)
			if after := rs.Snapshot(t); after != before {
				t.Fatalf("the dry run changed the namespace:\nbefore:\n%s\nafter:\n%s", before, after)
			}
			made := changesOf(t, mustRun(t, rs, 0, append(c.args, "-o", "json")...).Stdout)
			if len(made) == 0 || !slices.Equal(dry, made) {
				t.Errorf("dry run planned:\n  %s\nthe run made:\n  %s", strings.Join(dry, "\n  "), strings.Join(made, "\n  "))
			}
		})
	}
}

func changesOf(t *testing.T, out string) []string {
	t.Helper()
	var r struct{ Changes []string }
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v in %s", err, out)
	}
	return r.Changes
}
