package test

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rsprep/rsprep/test/nstest"
)

// runRsprep runs the rsprep binary on this host (install and uninstall
// under --root touch only that directory).
func runRsprep(t *testing.T, args ...string) nstest.Result {
	t.Helper()
	return runCmd(t, nil, append([]string{nstest.Rsprep(t)}, args...)...)
}

// tree is nstest.Tree: the state of a directory tree, for before/after.
func tree(t *testing.T, dir string) string { return nstest.Tree(t, dir) }

// install writes its files with explicit modes, atomically (no temporary
// file is left), and a second install changes nothing.
func TestInstallFilesModesAndAtomicity(t *testing.T) {
	root := t.TempDir()
	args := []string{"install", "dr", "--vip", vip, "--root", root, "--bin", "/usr/sbin/rsprep"}
	if r := runRsprep(t, args...); r.Code != 0 {
		t.Fatalf("install: exit %d\n%s", r.Code, r.Stderr)
	}
	for p, mode := range map[string]fs.FileMode{
		"/etc/rsprep/rsprep.conf":                                    0o644,
		"/etc/systemd/system/rsprep.service":                         0o644,
		"/etc/systemd/system/multi-user.target.wants/rsprep.service": fs.ModeSymlink | 0o777,
	} {
		if fi, err := os.Lstat(filepath.Join(root, p)); err != nil || fi.Mode() != mode {
			t.Errorf("%s: %v, want mode %v", p, err, mode)
		}
	}
	first := tree(t, root)
	if strings.Contains(first, ".tmp") {
		t.Errorf("install left a temporary file:\n%s", first)
	}
	if r := runRsprep(t, args...); r.Code != 0 || tree(t, root) != first {
		t.Errorf("a second install changed the root (exit %d):\n%s", r.Code, r.Stderr)
	}
}

// Under --root, install and uninstall never follow a symlink out of the
// root, whether it is absolute or climbs with .., on a directory or on
// the file itself: install fails (exit 3, one line) and rolls back what it
// wrote, so the root is as it was, and neither touches the outside.
func TestInstallNeverLeavesTheRoot(t *testing.T) {
	for name, plant := range map[string]func(root, outside string) error{
		"absolute dir link": func(root, outside string) error {
			return os.Symlink(outside, filepath.Join(root, "etc"))
		},
		"relative dir link": func(root, outside string) error {
			rel, err := filepath.Rel(root, outside)
			if err != nil {
				return err
			}
			return os.Symlink(rel, filepath.Join(root, "etc"))
		},
		"config dir link": func(root, outside string) error {
			os.MkdirAll(filepath.Join(root, "etc"), 0o755)
			return os.Symlink(outside, filepath.Join(root, "etc/rsprep"))
		},
		"unit file link": func(root, outside string) error {
			os.MkdirAll(filepath.Join(root, "etc/systemd/system"), 0o755)
			return os.Symlink(filepath.Join(outside, "victim"), filepath.Join(root, "etc/systemd/system/rsprep.service"))
		},
		"wants dir link": func(root, outside string) error {
			os.MkdirAll(filepath.Join(root, "etc/systemd/system"), 0o755)
			return os.Symlink(outside, filepath.Join(root, "etc/systemd/system/multi-user.target.wants"))
		},
	} {
		t.Run(name, func(t *testing.T) {
			root, outside := t.TempDir(), t.TempDir()
			if err := os.WriteFile(filepath.Join(outside, "victim"), []byte("not rsprep's\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := plant(root, outside); err != nil {
				t.Fatal(err)
			}
			before, rootBefore := tree(t, outside), tree(t, root)
			r := runRsprep(t, "install", "dr", "--vip", vip, "--root", root, "--bin", "/usr/sbin/rsprep")
			lines := strings.Split(strings.TrimSpace(r.Stderr), "\n")
			if r.Code != 3 || !strings.HasPrefix(lines[len(lines)-1], "rsprep: ") {
				t.Errorf("install through the %s: exit %d, want 3 with an error:\n%s", name, r.Code, r.Stderr)
			}
			if after := tree(t, root); after != rootBefore {
				t.Errorf("the failed install through the %s left the root changed:\nbefore:\n%s\nafter:\n%s", name, rootBefore, after)
			}
			runRsprep(t, "uninstall", "--root", root)
			if after := tree(t, outside); after != before {
				t.Errorf("install or uninstall through the %s wrote outside the root:\nbefore:\n%s\nafter:\n%s", name, before, after)
			}
		})
	}
}

// install's and uninstall's bad input exits 2 with one line and writes
// nothing.
func TestInstallBadInputWritesNothing(t *testing.T) {
	root := t.TempDir()
	file := filepath.Join(root, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	before := tree(t, root)
	for _, c := range []badInput{
		{"no mode", []string{"install"}, "install needs a mode"},
		{"unknown mode", []string{"install", "rd", "--vip", vip, "--root", root}, `unknown mode "rd"`},
		{"no VIP", []string{"install", "dr", "--root", root}, "dr needs at least one --vip"},
		{"bad VIP", []string{"install", "dr", "--vip", "300.1.1.1", "--root", root}, `VIP "300.1.1.1" is not an IP address`},
		{"VIP twice", []string{"install", "dr", "--vip", vip, "--vip", vip, "--root", root}, "is given twice"},
		{"absent root", []string{"install", "dr", "--vip", vip, "--root", filepath.Join(root, "none")}, "is not a directory"},
		{"root is a file", []string{"install", "dr", "--vip", vip, "--root", file}, "is not a directory"},
		{"relative bin", []string{"install", "dr", "--vip", vip, "--root", root, "--bin", "bin/rsprep"}, "--bin"},
		{"bin with a space", []string{"install", "dr", "--vip", vip, "--root", root, "--bin", "/usr/sbin/rs prep"}, "--bin"},
		{"bad --before", []string{"install", "dr", "--vip", vip, "--root", root, "--before", "nginx service"}, "--before"},
		{"--netns", []string{"install", "dr", "--vip", vip, "--root", root, "--netns", "x"}, "unknown flag: --netns"},
		{"uninstall argument", []string{"uninstall", "--root", root, "dr"}, `unexpected argument "dr"`},
		{"uninstall absent root", []string{"uninstall", "--root", filepath.Join(root, "none")}, "is not a directory"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := runRsprep(t, c.args...)
			lines := strings.Split(strings.TrimRight(r.Stderr, "\n"), "\n")
			if r.Code != 2 || len(lines) != 1 || !strings.Contains(r.Stderr, c.want) {
				t.Errorf("rsprep %q: exit %d, stderr %q; want exit 2 and one line containing %q", c.args, r.Code, r.Stderr, c.want)
			}
			if after := tree(t, root); after != before {
				t.Errorf("rsprep %q wrote:\n%s", c.args, after)
			}
		})
	}
}
