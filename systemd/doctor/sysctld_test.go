package doctor

import (
	"os"
	"path/filepath"
	"testing"
)

// writeTree writes files (path → content) under a new root; a content of
// "->TARGET" makes a symlink.
func writeTree(t *testing.T, files map[string]string) tree {
	t.Helper()
	root := t.TempDir()
	for p, content := range files {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		var err error
		if len(content) > 2 && content[:2] == "->" {
			err = os.Symlink(content[2:], full)
		} else {
			err = os.WriteFile(full, []byte(content), 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return newTree(root)
}

// systemd-sysctl's precedence, one rule per row: the key asked about, and
// the value and file:line that decide it after `sysctl --system` ("" when
// nothing writes it).
func TestSysctlDPrecedence(t *testing.T) {
	const all = "net/ipv4/conf/all/rp_filter"
	for _, tc := range []struct {
		name       string
		files      map[string]string
		key        string
		want, from string
	}{
		{"later file by name wins across dirs",
			map[string]string{"/usr/lib/sysctl.d/90-b.conf": "net.ipv4.conf.all.rp_filter = 2\n", "/etc/sysctl.d/10-a.conf": "net.ipv4.conf.all.rp_filter = 1\n"},
			all, "2", "/usr/lib/sysctl.d/90-b.conf:1"},
		{"a same-named file in /etc masks /usr/lib",
			map[string]string{"/usr/lib/sysctl.d/50-x.conf": "net.ipv4.conf.all.rp_filter = 2\n", "/etc/sysctl.d/50-x.conf": "# empty\n"},
			all, "", ""},
		{"/run masks /usr/local/lib, which masks /usr/lib",
			map[string]string{"/usr/lib/sysctl.d/50-x.conf": "net.ipv4.conf.all.rp_filter = 2\n", "/usr/local/lib/sysctl.d/50-x.conf": "net.ipv4.conf.all.rp_filter = 1\n", "/run/sysctl.d/50-x.conf": "\n\nnet.ipv4.conf.all.rp_filter = 0\n"},
			all, "0", "/run/sysctl.d/50-x.conf:3"},
		{"/lib/sysctl.d is read when /usr/lib has no such name",
			map[string]string{"/lib/sysctl.d/60-deb.conf": "net.ipv4.conf.all.rp_filter = 1\n"},
			all, "1", "/lib/sysctl.d/60-deb.conf:1"},
		{"a link to /dev/null masks",
			map[string]string{"/usr/lib/sysctl.d/50-x.conf": "net.ipv4.conf.all.rp_filter = 2\n", "/etc/sysctl.d/50-x.conf": "->/dev/null"},
			all, "", ""},
		{"sysctl.conf is read last",
			map[string]string{"/etc/sysctl.d/99-z.conf": "net.ipv4.conf.all.rp_filter = 2\n", "/etc/sysctl.conf": "net.ipv4.conf.all.rp_filter = 1\n"},
			all, "1", "/etc/sysctl.conf:1"},
		{"later line in one file wins",
			map[string]string{"/etc/sysctl.d/a.conf": "net.ipv4.conf.all.rp_filter = 2\n; comment\nnet.ipv4.conf.all.rp_filter=1\n"},
			all, "1", "/etc/sysctl.d/a.conf:3"},
		{"slash separators",
			map[string]string{"/etc/sysctl.d/a.conf": "net/ipv4/conf/all/rp_filter = 2\n"},
			all, "2", "/etc/sysctl.d/a.conf:1"},
		{"dotted key with a VLAN written eth0/100",
			map[string]string{"/etc/sysctl.d/a.conf": "net.ipv4.conf.eth0/100.rp_filter = 2\n"},
			"net/ipv4/conf/eth0.100/rp_filter", "2", "/etc/sysctl.d/a.conf:1"},
		{"a glob matches an interface",
			map[string]string{"/usr/lib/sysctl.d/50-default.conf": "net.ipv4.conf.*.rp_filter = 2\n"},
			"net/ipv4/conf/tunl0/rp_filter", "2", "/usr/lib/sysctl.d/50-default.conf:1"},
		{"an explicit key beats a later glob",
			map[string]string{"/etc/sysctl.d/10-a.conf": "net.ipv4.conf.all.rp_filter = 0\n", "/etc/sysctl.d/90-b.conf": "net.ipv4.conf.*.rp_filter = 2\n"},
			all, "0", "/etc/sysctl.d/10-a.conf:1"},
		{"the last of two globs wins",
			map[string]string{"/etc/sysctl.d/10-a.conf": "net.ipv4.conf.*.rp_filter = 1\n", "/etc/sysctl.d/90-b.conf": "net.ipv4.conf.e*.rp_filter = 2\n"},
			"net/ipv4/conf/eth0/rp_filter", "2", "/etc/sysctl.d/90-b.conf:1"},
		{"a glob reassigned to a new value moves after the other glob",
			map[string]string{"/etc/sysctl.d/10-a.conf": "net.ipv4.conf.*.rp_filter = 1\nnet.ipv4.conf.e*.rp_filter = 2\n", "/etc/sysctl.d/90-b.conf": "net.ipv4.conf.*.rp_filter = 0\n"},
			"net/ipv4/conf/eth0/rp_filter", "0", "/etc/sysctl.d/90-b.conf:1"},
		{"a glob reassigned to the same value keeps its place",
			map[string]string{"/etc/sysctl.d/10-a.conf": "net.ipv4.conf.*.rp_filter = 1\nnet.ipv4.conf.e*.rp_filter = 2\n", "/etc/sysctl.d/90-b.conf": "net.ipv4.conf.*.rp_filter = 1\n"},
			"net/ipv4/conf/eth0/rp_filter", "2", "/etc/sysctl.d/10-a.conf:2"},
		{"a glob does not cross a slash",
			map[string]string{"/etc/sysctl.d/a.conf": "net.ipv4.*.rp_filter = 2\n"},
			all, "", ""},
		{"- prefix: a failure is ignored, the value is still written",
			map[string]string{"/etc/sysctl.d/a.conf": "-net.ipv4.conf.all.rp_filter = 2\n"},
			all, "2", "/etc/sysctl.d/a.conf:1"},
		{"-key alone excludes it from every glob",
			map[string]string{"/etc/sysctl.d/a.conf": "-net.ipv4.conf.all.rp_filter\n", "/etc/sysctl.d/b.conf": "net.ipv4.conf.*.rp_filter = 2\n"},
			all, "", ""},
		{"a line without = is skipped",
			map[string]string{"/etc/sysctl.d/a.conf": "net.ipv4.conf.all.rp_filter 2\n"},
			all, "", ""},
		{"only .conf files count",
			map[string]string{"/etc/sysctl.d/a.conf.dpkg-old": "net.ipv4.conf.all.rp_filter = 2\n"},
			all, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sd := readSysctlD(writeTree(t, tc.files))
			a, ok := sd.Final(tc.key)
			if a.Value != tc.want || a.Source != tc.from || ok != (tc.want != "") {
				t.Errorf("Final(%s) = %q from %q (set %v), want %q from %q", tc.key, a.Value, a.Source, ok, tc.want, tc.from)
			}
		})
	}
}

// A sysctl.d entry that cannot be read (here a directory where a file
// belongs) is "could not read", not "no risk".
func TestUnreadableFileIsAFinding(t *testing.T) {
	tr := writeTree(t, map[string]string{"/etc/sysctl.d/a.conf/x": ""})
	readSysctlD(tr)
	if len(*tr.unread) != 1 || (*tr.unread)[0].Source != "/etc/sysctl.d/a.conf" {
		t.Fatalf("unreadable sysctl.d entry: %+v", *tr.unread)
	}
}
