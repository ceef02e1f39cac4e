package systemd

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rsprep/rsprep/test/nstest"
)

func testFiles() []File {
	spec := UnitSpec{Binary: "/usr/sbin/rsprep", Config: ConfigPath}
	return []File{
		{Path: ConfigPath, Data: RenderConfig(ConfigPath, [][2]string{{"mode", "tun"}, {"vip", "192.168.79.180"}}), Perm: 0o644},
		{Path: UnitPath, Data: spec.Render(), Perm: 0o644},
		{Path: ModulesPath, Data: RenderModules([]string{"ipip"}), Perm: 0o644},
	}
}

func logTo(b *bytes.Buffer) *slog.Logger { return slog.New(slog.NewTextHandler(b, nil)) }

// Install writes exactly the files and the wants link (the whole-tree
// golden and uninstall's restore are tested through the CLI, in
// cmd/rsprep); a second install changes and logs nothing.
func TestInstallIntoRoot(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	var log bytes.Buffer
	in := Installer{Root: root, Log: logTo(&log)}
	must(t, in.Install(ctx, testFiles()))
	for _, f := range testFiles() {
		got, err := os.ReadFile(filepath.Join(root, f.Path))
		if err != nil || !bytes.Equal(got, f.Data) {
			t.Errorf("%s: %v\n%s", f.Path, err, got)
		}
		if fi, _ := os.Stat(filepath.Join(root, f.Path)); fi == nil || fi.Mode().Perm() != 0o644 {
			t.Errorf("%s: mode %v, want 0644", f.Path, fi)
		}
	}
	if target, err := os.Readlink(filepath.Join(root, WantsPath)); err != nil || target != UnitPath {
		t.Errorf("wants link: %q, %v; want → %s", target, err, UnitPath)
	}
	for _, want := range []string{"wrote file=" + ConfigPath, "wrote file=" + UnitPath, "wrote file=" + ModulesPath, "enabled link=" + WantsPath} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, log.String())
		}
	}
	log.Reset()
	must(t, in.Install(ctx, testFiles()))
	if log.Len() != 0 {
		t.Errorf("a second install changed something:\n%s", log.String())
	}
	must(t, in.Uninstall(ctx))
	if entries, _ := os.ReadDir(root); len(entries) != 0 {
		t.Errorf("uninstall left %v in an empty root", entries)
	}
	must(t, in.Uninstall(ctx)) // nothing left to do is fine
}

// A later install without the modules file (tun → dr) removes the one the
// earlier install wrote; a changed file is rewritten, a changed mode fixed.
func TestInstallConverges(t *testing.T) {
	root := t.TempDir()
	var log bytes.Buffer
	in := Installer{Root: root, Log: logTo(&log)}
	must(t, in.Install(context.Background(), testFiles()))
	must(t, os.Chmod(filepath.Join(root, UnitPath), 0o600))
	log.Reset()
	must(t, in.Install(context.Background(), testFiles()[:2]))
	if _, err := os.Lstat(filepath.Join(root, ModulesPath)); err == nil {
		t.Error("the modules-load file of the earlier tun install is still there")
	}
	if fi, _ := os.Stat(filepath.Join(root, UnitPath)); fi.Mode().Perm() != 0o644 {
		t.Errorf("unit mode %v, want 0644", fi.Mode())
	}
	if !strings.Contains(log.String(), "removed file="+ModulesPath) {
		t.Errorf("log: %s", log.String())
	}
}

// Under --root, nothing follows a symlink out of the root: an image whose
// /etc/rsprep points at the build host's directory must not write there.
func TestInstallRefusesToEscapeRoot(t *testing.T) {
	root, outside := t.TempDir(), t.TempDir()
	must(t, os.MkdirAll(filepath.Join(root, "etc"), 0o755))
	must(t, os.Symlink(outside, filepath.Join(root, "etc/rsprep")))
	in := Installer{Root: root, Log: logTo(&bytes.Buffer{})}
	if err := in.Install(context.Background(), testFiles()); err == nil {
		t.Fatal("install wrote through a symlink that leaves the root")
	}
	if entries, _ := os.ReadDir(outside); len(entries) != 0 {
		t.Errorf("install wrote outside the root: %v", entries)
	}
	// Nor does it replace something that is not a plain file.
	root2 := t.TempDir()
	must(t, os.MkdirAll(filepath.Join(root2, UnitPath), 0o755))
	in.Root = root2
	if err := in.Install(context.Background(), testFiles()); err == nil || !strings.Contains(err.Error(), "refusing to replace") {
		t.Errorf("install over a directory: %v", err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// An install that fails half-way puts back what it wrote: the files it
// created are gone (with the directories it made), a file it replaced has
// its old content and mode again.
func TestInstallFailingHalfWayRollsBack(t *testing.T) {
	oldConfig := []byte("[rsprep]\nmode=dr\nvip=10.1.1.1\n")
	for name, plant := range map[string]func(root, outside string) error{
		// Every file is written, then enabling fails: the wants directory
		// is a link out of the root.
		"wants dir leaves the root": func(root, outside string) error {
			if err := os.MkdirAll(filepath.Join(root, "etc/systemd/system"), 0o755); err != nil {
				return err
			}
			return os.Symlink(outside, filepath.Join(root, WantsPath[1:strings.LastIndex(WantsPath, "/")]))
		},
		// The config is written (replacing an earlier one), then the unit
		// cannot be: a symlink stands in its place.
		"unit is a symlink": func(root, outside string) error {
			if err := os.MkdirAll(filepath.Join(root, "etc/rsprep"), 0o755); err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(root, ConfigPath), oldConfig, 0o600); err != nil {
				return err
			}
			if err := os.MkdirAll(filepath.Join(root, "etc/systemd/system"), 0o755); err != nil {
				return err
			}
			return os.Symlink(filepath.Join(outside, "victim"), filepath.Join(root, UnitPath))
		},
	} {
		t.Run(name, func(t *testing.T) {
			root, outside := t.TempDir(), t.TempDir()
			must(t, plant(root, outside))
			before := nstest.Tree(t, root)
			in := Installer{Root: root, Log: logTo(&bytes.Buffer{})}
			err := in.Install(context.Background(), testFiles())
			if err == nil || !strings.Contains(err.Error(), "rolled back what this install wrote") {
				t.Fatalf("install: %v, want an error that says it rolled back", err)
			}
			if after := nstest.Tree(t, root); after != before {
				t.Errorf("after the failed install the root differs:\nbefore:\n%s\nafter:\n%s", before, after)
			}
			if entries, _ := os.ReadDir(outside); len(entries) != 0 {
				t.Errorf("install wrote outside the root: %v", entries)
			}
		})
	}
}

// Uninstall removes only the directories install created: empty ones that
// were there before install (an image's /etc/systemd/system, an /etc/rsprep
// an operator made) are there after uninstall, and a second install does
// not claim them either.
func TestUninstallKeepsDirectoriesItDidNotCreate(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	pre := []string{"etc/systemd/system", "etc/rsprep"}
	for _, d := range pre {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	before := nstest.Tree(t, root)
	var log bytes.Buffer
	in := Installer{Root: root, Log: logTo(&log)}
	must(t, in.Install(ctx, testFiles()))
	must(t, in.Install(ctx, testFiles()))
	must(t, in.Uninstall(ctx))
	if after := nstest.Tree(t, root); after != before {
		t.Errorf("uninstall did not leave the root as it was:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

// A temporary file an install killed mid-write left behind, by a process
// that had this pid, does not make the next install fail, and is gone after.
func TestInstallOverAKilledInstallsTemporaryFile(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, filepath.Dir(UnitPath))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	leftover := filepath.Join(dir, "."+UnitName+".tmp"+strconv.Itoa(os.Getpid()))
	if err := os.WriteFile(leftover, []byte("[Unit]\nDescr"), 0o644); err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	must(t, Installer{Root: root, Log: logTo(&log)}.Install(context.Background(), testFiles()))
	if _, err := os.Lstat(leftover); !os.IsNotExist(err) {
		t.Errorf("the leftover temporary file is still there: %v", err)
	}
}
