package main

import (
	"bytes"
	"flag"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/rsprep/rsprep/arp"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// treeSnapshot renders a directory tree: path, a file's mode and content,
// a link's target. Equal snapshots are the same tree.
func treeSnapshot(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		b.WriteString("== " + rel)
		if !fi.IsDir() { // a directory's mode is the umask's
			b.WriteString(" " + fi.Mode().String())
		}
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			b.WriteString(" -> " + target + "\n")
		case fi.Mode().IsRegular():
			data, _ := os.ReadFile(p)
			b.WriteString("\n" + string(data))
		default:
			b.WriteString("\n")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func goldenFile(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update creates it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (go test -update rewrites it):\n--- got\n%s--- want\n%s", name, got, want)
	}
}

// imageRoot is an image root with the binary already in place (so that
// install has nothing to warn about).
func imageRoot(t *testing.T) string {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "usr/sbin"), 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(root, "usr/sbin/rsprep")
	if err := os.WriteFile(bin, []byte("#!/bin/true\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(bin, 0o755); err != nil { // whatever the umask
		t.Fatal(err)
	}
	return root
}

func TestInstallIntoRoot(t *testing.T) {
	root := imageRoot(t)
	testInstallIntoRoot(t, root, "install-dr.tree")
}

// An image that already has units enabled and modules listed: install adds
// to it, uninstall takes out exactly what install added.
func TestInstallIntoDebianLikeRoot(t *testing.T) {
	root := imageRoot(t)
	wants := filepath.Join(root, "etc/systemd/system/multi-user.target.wants")
	for _, err := range []error{
		os.MkdirAll(wants, 0o755),
		os.Symlink("/lib/systemd/system/ssh.service", filepath.Join(wants, "ssh.service")),
		os.MkdirAll(filepath.Join(root, "etc/modules-load.d"), 0o755),
		os.WriteFile(filepath.Join(root, "etc/modules-load.d/modules.conf"), []byte("# /etc/modules\n"), 0o644),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	testInstallIntoRoot(t, root, "")
}

// testInstallIntoRoot installs dr into root (comparing the tree with golden
// unless it is ""), installs again, reads the config back, uninstalls.
func testInstallIntoRoot(t *testing.T, root, golden string) {
	before := treeSnapshot(t, root)
	args := []string{"install", "dr", "--vip", "192.168.79.180,2001:db8::80", "--dip", "10.0.0.1", "--forwarding", "off", "--before", "nginx.service", "--root", root, "--bin", "/usr/sbin/rsprep"}
	code, stdout, stderr := runCLI(args...)
	if code != exitOK || stdout != "" {
		t.Fatalf("install: exit %d, stdout %q, stderr %s", code, stdout, stderr)
	}
	installed := treeSnapshot(t, root)
	if golden != "" {
		goldenFile(t, golden, installed)
	}

	code, _, stderr = runCLI(args...)
	if code != exitOK || stderr != "" || treeSnapshot(t, root) != installed {
		t.Errorf("a second install: exit %d, logged %q, or changed the tree", code, stderr)
	}

	// What install wrote is what verify --config reads.
	c, err := readModeConfig(filepath.Join(root, "etc/rsprep/rsprep.conf"))
	if err != nil {
		t.Fatal(err)
	}
	var o options
	if err := c.applyTo(ownFlags(modeDefs()["dr"], &o), modeDefs()["dr"]); err != nil {
		t.Fatal(err)
	}
	want := arp.DR{VIPs: []netip.Addr{netip.MustParseAddr("192.168.79.180"), netip.MustParseAddr("2001:db8::80")}, DIP: netip.MustParseAddr("10.0.0.1"), ForwardingOff: true}
	if m, err := modeDefs()["dr"].build(&o); err != nil || !reflect.DeepEqual(m, want) {
		t.Errorf("config reads back as %v (%v), want %v", m, err, want)
	}

	code, _, stderr = runCLI("uninstall", "--root", root)
	if code != exitOK {
		t.Fatalf("uninstall: exit %d, %s", code, stderr)
	}
	if after := treeSnapshot(t, root); after != before {
		t.Errorf("uninstall left the root changed:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

func TestInstallBadInput(t *testing.T) {
	root := imageRoot(t)
	before := treeSnapshot(t, root)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"install"}, "install needs a mode"},
		{[]string{"install", "ipvs"}, `unknown mode "ipvs"`},
		{[]string{"install", "dr", "--root", root}, "dr needs at least one --vip"},
		{[]string{"install", "dr", "--vip", "300.1.2.3", "--root", root}, `VIP "300.1.2.3" is not an IP address`},
		{[]string{"install", "dr", "--vip", "192.168.79.180", "--forwarding", "on", "--root", root}, `--forwarding "on"`},
		{[]string{"install", "tun", "--vip", "192.168.79.180", "--dip", "192.168.79.180", "--root", root}, "is also a --vip"},
		{[]string{"install", "dr", "--vip", "192.168.79.180", "--root", root, "--bin", "rsprep"}, `--bin "rsprep"`},
		{[]string{"install", "dr", "--vip", "192.168.79.180", "--root", root, "--before", "nginx"}, `--before "nginx"`},
		{[]string{"install", "dr", "--vip", "192.168.79.180", "--root", filepath.Join(root, "nope")}, "is not a directory"},
		{[]string{"install", "dr", "--vip", "192.168.79.180", "--root", root, "--dry-run"}, "unknown flag: --dry-run"},
		{[]string{"uninstall", "--root", filepath.Join(root, "nope")}, "is not a directory"},
	} {
		code, stdout, stderr := runCLI(tc.args...)
		if code != exitUsage || stdout != "" || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 2 and %q", tc.args, code, stdout, stderr, tc.want)
		}
	}
	if after := treeSnapshot(t, root); after != before {
		t.Errorf("bad input changed the root:\n%s", after)
	}
}

// TUN's install also writes modules-load.d (ipip for tunl0); a later dr
// install on the same host takes it away again.
func TestInstallTunModules(t *testing.T) {
	root := imageRoot(t)
	modules := filepath.Join(root, "etc/modules-load.d/rsprep.conf")
	code, _, stderr := runCLI("install", "tun", "--vip", "192.168.79.180", "--root", root, "--bin", "/usr/sbin/rsprep")
	if data, err := os.ReadFile(modules); code != exitOK || err != nil || !strings.HasSuffix(string(data), "\nipip\n") {
		t.Fatalf("install tun: exit %d (%s); %s: %q, %v", code, stderr, modules, data, err)
	}
	code, _, stderr = runCLI("install", "dr", "--vip", "192.168.79.180", "--root", root, "--bin", "/usr/sbin/rsprep")
	if _, err := os.Lstat(modules); code != exitOK || err == nil {
		t.Errorf("install dr after tun: exit %d (%s); modules file still there: %v", code, stderr, err == nil)
	}
}

// install with another VIP set rewrites the config to exactly that set:
// the file is the whole state the unit's reload converges to.
func TestInstallAgainRewritesTheVIPs(t *testing.T) {
	root := imageRoot(t)
	var out, errb bytes.Buffer
	for _, vips := range []string{"192.168.79.180,192.168.79.181", "192.168.79.180"} {
		if code := run([]string{"install", "dr", "--vip", vips, "--root", root}, &out, &errb); code != exitOK {
			t.Fatalf("install --vip %s: exit %d: %s", vips, code, errb.String())
		}
	}
	conf, err := os.ReadFile(filepath.Join(root, "etc/rsprep/rsprep.conf"))
	if err != nil {
		t.Fatal(err)
	}
	if s := string(conf); !strings.Contains(s, "vip=192.168.79.180\n") || strings.Contains(s, "192.168.79.181") {
		t.Errorf("the config after the second install:\n%s", s)
	}
}
