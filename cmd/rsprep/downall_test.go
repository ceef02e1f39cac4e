package main

import (
	"bytes"
	"strings"
	"testing"
)

// down --all takes the run's flags and nothing of a mode: anything else is
// bad input (exit 2, one line), found before the host is opened.
func TestDownAllBadInput(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"down", "--all", "-o", "prometheus"}, `--output "prometheus"`},
		{[]string{"down", "dr", "--all"}, `unexpected argument "dr"`},
		{[]string{"down", "--all", "--vip", "192.168.79.180"}, "unknown flag: --vip"},
		{[]string{"down", "--all", "--config", "/etc/rsprep/rsprep.conf"}, "unknown flag: --config"},
		{[]string{"down", "--all", "--all=false"}, "give a mode"},
	} {
		var out, errb bytes.Buffer
		code := run(tc.args, &out, &errb)
		if code != exitUsage || strings.Count(errb.String(), "\n") != 1 || !strings.Contains(errb.String(), tc.want) {
			t.Errorf("rsprep %s: exit %d, %q; want exit 2 and one line with %q", strings.Join(tc.args, " "), code, errb.String(), tc.want)
		}
	}
	var out, errb bytes.Buffer
	if code := run([]string{"down", "--all", "--help"}, &out, &errb); code != exitOK || !strings.Contains(out.String(), "rsprep down --all [flags]") {
		t.Errorf("down --all --help: exit %d:\n%s", code, out.String())
	}
}
