package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rsprep/rsprep/cmd/rsprep/schema"
)

// Bad input to doctor: exit 2, one line naming what and why, nothing on
// stdout.
func TestDoctorBadInputExits2(t *testing.T) {
	emptyRoot := t.TempDir()
	badConf := filepath.Join(t.TempDir(), "rsprep.conf")
	if err := os.WriteFile(badConf, []byte("[rsprep]\nmode = dr\nvip = 192.168.79.180\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"doctor", "lvs"}, `unknown mode "lvs"`},
		{[]string{"doctor", "dr"}, "dr needs at least one --vip"},
		{[]string{"doctor", "dr", "--vip", "192.168.79.300"}, "192.168.79.300"},
		{[]string{"doctor", "nat"}, "nat needs --dip"},
		{[]string{"doctor", "tun", "--vip", "192.168.79.180", "--rp-filter", "strict"}, "--rp-filter"},
		{[]string{"doctor", "dr", "--vip", "192.168.79.180", "-o", "prometheus"}, `-o "prometheus"`},
		{[]string{"doctor", "dr", "--vip", "192.168.79.180", "extra"}, `unexpected argument "extra"`},
		{[]string{"doctor", "dr", "--vip", "192.168.79.180", "--dry-run"}, "unknown flag: --dry-run"},
		{[]string{"doctor", "--root", emptyRoot}, "no such config file"},
		{[]string{"doctor", "--config", badConf, "--vip", "192.168.79.181"}, "--vip is given both in"},
		{[]string{"doctor", "dr", "--vip", "192.168.79.180", "--netns", "a/b"}, "not a namespace name"},
	} {
		var out, errb bytes.Buffer
		code := run(tc.args, &out, &errb)
		msg := errb.String()
		if code != exitUsage || !strings.HasPrefix(msg, "rsprep: ") || !strings.Contains(msg, tc.want) || strings.Count(msg, "\n") != 1 || out.Len() != 0 {
			t.Errorf("%v: exit %d, stderr %q, stdout %q; want exit 2 and one line with %q", tc.args, code, msg, out.String(), tc.want)
		}
	}
}

// doctor with --root reads the mode from the config under the root, and
// finds that its unit is not enabled: exit 1, the finding in the JSON
// schema. The same tree with the wants link: no boot finding.
func TestDoctorRootConfigAndBoot(t *testing.T) {
	root := t.TempDir()
	conf := filepath.Join(root, "etc/rsprep/rsprep.conf")
	if err := os.MkdirAll(filepath.Dir(conf), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(conf, []byte("[rsprep]\nmode = dr\nvip = 192.168.79.180\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ids := func() (int, []string) {
		var out, errb bytes.Buffer
		code := run([]string{"doctor", "--root", root, "-o", "json"}, &out, &errb)
		var rep struct {
			Mode     string `json:"mode"`
			Root     string `json:"root"`
			OK       bool   `json:"ok"`
			Findings []struct {
				ID, Source, What, Fix string
			} `json:"findings"`
		}
		if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
			t.Fatalf("json: %v\n%s\n%s", err, out.String(), errb.String())
		}
		if err := schema.Validate(out.Bytes()); err != nil {
			t.Errorf("doctor -o json departs from rsprep.schema.json: %v\n%s", err, out.String())
		}
		if rep.Mode != "dr" || rep.Root != root || rep.OK != (code == exitOK) {
			t.Errorf("report %+v with exit %d", rep, code)
		}
		var got []string
		for _, f := range rep.Findings {
			if f.Source == "" || f.What == "" || f.Fix == "" {
				t.Errorf("finding without source, what or fix: %+v", f)
			}
			got = append(got, f.ID)
		}
		return code, got
	}
	code, got := ids()
	if code != exitDrift || !strings.Contains(strings.Join(got, " "), "boot.not-enabled") {
		t.Fatalf("exit %d, findings %v; want 1 with boot.not-enabled", code, got)
	}
	wants := filepath.Join(root, "etc/systemd/system/multi-user.target.wants")
	if err := os.MkdirAll(wants, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/etc/systemd/system/rsprep.service", filepath.Join(wants, "rsprep.service")); err != nil {
		t.Fatal(err)
	}
	if _, got := ids(); strings.Contains(strings.Join(got, " "), "boot.not-enabled") {
		t.Errorf("findings %v after enabling: boot.not-enabled should be gone", got)
	}
}

// A file doctor must read but cannot (a directory where a sysctl.d file
// belongs) is a finding, exit 1, never "no risk".
func TestDoctorCannotReadIsAFinding(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "etc/sysctl.d/90-x.conf"), 0o755); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	code := run([]string{"doctor", "dr", "--vip", "192.168.79.180", "--root", root}, &out, &errb)
	if code != exitDrift || !strings.Contains(out.String(), "file.unreadable /etc/sysctl.d/90-x.conf: could not read it") {
		t.Errorf("exit %d, stdout %q, stderr %q; want 1 and file.unreadable naming the file", code, out.String(), errb.String())
	}
}
