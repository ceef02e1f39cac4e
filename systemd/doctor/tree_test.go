package doctor

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rsprep/rsprep/arp"
)

// Every component of a path resolves inside the root: absolute links
// (at any depth), relative ones, ".." that would climb out of the root,
// and /dev/null masking. A host file the image's links name by absolute
// path is never read in its place.
func TestTreeResolvesInsideTheRoot(t *testing.T) {
	host := t.TempDir() // a host directory an escaping link would reach
	if err := os.WriteFile(filepath.Join(host, "x.conf"), []byte("host\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	up := strings.Repeat("../", 12)
	tr := writeTree(t, map[string]string{
		"srv/sd/10-abs.conf":  "abs dir\n",
		"etc/sysctl.d":        "->/srv/sd",              // an absolute directory link
		"etc/rel":             "->../srv/sd",            // a relative one
		"etc/deep/link":       "->/etc/sysctl.d/../sd2", // absolute, through a link, then ..
		"srv/sd2/y.conf":      "via dotdot\n",
		"usr/lib/a.conf":      "usr lib\n",
		"lib":                 "->usr/lib",
		"etc/chain.conf":      "->/lib/a.conf",
		"etc/escape":          "->" + up + strings.TrimPrefix(host, "/"),
		"etc/escape-abs":      "->" + host,
		"etc/masked.conf":     "->/dev/null",
		"etc/masked-rel.conf": "->../dev/null",
		"etc/loop":            "->/etc/loop",
	})
	for _, tc := range []struct{ path, want string }{
		{"/etc/sysctl.d/10-abs.conf", "abs dir\n"},
		{"/etc/rel/10-abs.conf", "abs dir\n"},
		{"/etc/deep/link/y.conf", "via dotdot\n"},
		{"/etc/chain.conf", "usr lib\n"},
		{"/etc/../../../lib/a.conf", "usr lib\n"},
		{"/etc/escape/x.conf", ""},     // .. stops at the root: root/<host> does not exist
		{"/etc/escape-abs/x.conf", ""}, // the host path, inside the root: absent
		{"/etc/masked.conf", ""},
		{"/etc/masked-rel.conf", ""},
	} {
		data, ok := tr.read(tc.path)
		if string(data) != tc.want || ok != (tc.want != "") {
			t.Errorf("read %s = %q, %v; want %q", tc.path, data, ok, tc.want)
		}
	}
	if len(*tr.unread) != 0 {
		t.Errorf("unreadable: %+v", *tr.unread)
	}
	if _, ok := tr.read("/etc/loop"); ok || len(*tr.unread) != 1 || !strings.Contains((*tr.unread)[0].What, "symbolic links") {
		t.Errorf("a link loop: %+v, want could not read: too many levels of symbolic links", *tr.unread)
	}
	names := tr.list("/etc/sysctl.d", ".conf")
	if len(names) != 1 || names[0] != "10-abs.conf" {
		t.Errorf("list through an absolute directory link: %v", names)
	}
}

// The image: etc/sysctl.d is a link to /srv/sd, which lowers
// arp_ignore on all. Read through the host's /srv it was "no risk found".
func TestDoctorReadsThroughAnImagesAbsoluteLinks(t *testing.T) {
	tr := writeTree(t, map[string]string{
		"etc/sysctl.d":             "->/srv/sd",
		"srv/sd/90-hardening.conf": "net.ipv4.conf.*.arp_ignore = 0\n",
	})
	fp := arp.DR{VIPs: []netip.Addr{netip.MustParseAddr("192.168.79.180")}}.Footprint()
	rep, err := Run(Input{Mode: "dr", Footprint: fp, Root: tr.root, Facts: baseFacts()})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Findings) == 0 || rep.Findings[0].ID != "sysctl.override" || rep.Findings[0].Source != "/srv/sd/90-hardening.conf:1" {
		t.Errorf("findings %+v, want sysctl.override from /srv/sd/90-hardening.conf:1 (where the file really is)", rep.Findings)
	}
}
