package test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

type doctorFinding struct {
	ID, Source, Subject, What, Fix string
}

// doctor on a real namespace: the interfaces (a dotted eth0.100) and the
// live sysctls come from the kernel, the files from --root. A clean
// namespace and an empty root: exit 0. proxy_arp on the uplink, a sysctl.d
// line that lowers arp_ignore on all, and forwarding on: exit 1 naming
// each with its source. Undone: exit 0 again.
func TestDoctorLiveFactsInANamespace(t *testing.T) {
	rs, _ := realServer(t)
	root := t.TempDir()
	doctor := func(want int) []doctorFinding {
		t.Helper()
		r := mustRun(t, rs, want, "doctor", "dr", "--vip", vip, "--root", root, "-o", "json")
		var rep struct {
			OK       bool            `json:"ok"`
			Findings []doctorFinding `json:"findings"`
		}
		if err := json.Unmarshal([]byte(r.Stdout), &rep); err != nil {
			t.Fatalf("doctor -o json: %v\n%s", err, r.Stdout)
		}
		return rep.Findings
	}
	if fs := doctor(0); len(fs) != 0 {
		t.Fatalf("clean namespace: %+v", fs)
	}

	rs.Must(t, "sysctl", "-qw", "net.ipv4.conf.eth0/100.proxy_arp=1", "net.ipv4.ip_forward=1")
	conf := filepath.Join(root, "etc/sysctl.d/90-hardening.conf")
	if err := os.MkdirAll(filepath.Dir(conf), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(conf, []byte("# baseline\nnet.ipv4.conf.all.arp_ignore = 0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	fs := doctor(1)
	want := []doctorFinding{
		{ID: "arp.proxy", Source: "live sysctl net.ipv4.conf.eth0/100.proxy_arp", Subject: "eth0.100"},
		{ID: "ip.forward", Source: "live sysctl net.ipv4.ip_forward", Subject: "net.ipv4.ip_forward"},
		{ID: "sysctl.override", Source: "/etc/sysctl.d/90-hardening.conf:2", Subject: "net.ipv4.conf.all.arp_ignore"},
	}
	var got []doctorFinding
	for _, f := range fs {
		got = append(got, doctorFinding{ID: f.ID, Source: f.Source, Subject: f.Subject})
		if f.ID == "sysctl.override" && !strings.Contains(f.What, "eth0.100") {
			t.Errorf("sysctl.override does not name the namespace's interface eth0.100: %s", f.What)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("findings\n%+v\nwant\n%+v", got, want)
	}

	rs.Must(t, "sysctl", "-qw", "net.ipv4.conf.eth0/100.proxy_arp=0", "net.ipv4.ip_forward=0")
	if err := os.Remove(conf); err != nil {
		t.Fatal(err)
	}
	if fs := doctor(0); len(fs) != 0 {
		t.Fatalf("after the fixes: %+v", fs)
	}
}
