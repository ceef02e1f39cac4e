package atomicfile_test

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/rsprep/rsprep/realserver/persist/atomicfile"
)

func names(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

// A temporary file a killed writer with this very pid left behind does not
// block the next write, and is gone after it.
func TestWriteReplacesALeftoverTemporaryFile(t *testing.T) {
	dir := t.TempDir()
	leftover := filepath.Join(dir, ".f.tmp"+strconv.Itoa(os.Getpid()))
	if err := os.WriteFile(leftover, []byte("torn"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := atomicfile.Write(filepath.Join(dir, "f"), []byte("new\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	if got := names(t, dir); !slices.Equal(got, []string{"f"}) {
		t.Fatalf("directory holds %v, want only f", got)
	}
	fi, err := os.Stat(filepath.Join(dir, "f"))
	if err != nil || fi.Mode().Perm() != 0o640 {
		t.Fatalf("f: %v %v, want mode 0640", fi, err)
	}
}

// WriteIn, under an os.Root, refuses to replace a symlink, even one that
// stays inside the root, and leaves its target as it was.
func TestWriteInRefusesSymlink(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "target"), []byte("precious\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("target", filepath.Join(dir, "unit")); err != nil {
		t.Fatal(err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	if err := atomicfile.WriteIn(root, "unit", []byte("x"), 0o644); err == nil {
		t.Fatal("replaced a symlink")
	}
	if data, _ := os.ReadFile(filepath.Join(dir, "target")); string(data) != "precious\n" {
		t.Fatalf("target holds %q", data)
	}
	if got := names(t, dir); !slices.Equal(got, []string{"target", "unit"}) {
		t.Fatalf("directory holds %v", got)
	}
}

// Write leaves the named file with the given mode and no
// temporary file beside it, on success and on failure.
func TestWriteLeavesNoTempFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "net-1.json")
	for _, content := range []string{"first\n", "second, longer\n", "3\n"} {
		if err := atomicfile.Write(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if got, _ := os.ReadFile(path); string(got) != content {
			t.Fatalf("file holds %q, want %q", got, content)
		}
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
	// A rename that fails (the target is a non-empty directory) must not
	// leave the temporary file behind.
	blocked := filepath.Join(dir, "blocked")
	if err := os.MkdirAll(filepath.Join(blocked, "x"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := atomicfile.Write(blocked, []byte("x"), 0o600); err == nil {
		t.Fatal("writing over a directory succeeded")
	}
	if got := names(t, dir); !slices.Equal(got, []string{"blocked", "net-1.json"}) {
		t.Errorf("directory holds %v, want only blocked and net-1.json", got)
	}
}

// Write never writes through a symlink (the record, a boot file): the
// link's target stays as it was.
func TestWriteRefusesSymlink(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "target")
	if err := os.WriteFile(target, []byte("precious\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "net-1.json")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	err := atomicfile.Write(link, []byte("{}\n"), 0o600)
	if err == nil || !strings.Contains(err.Error(), "symlink") {
		t.Errorf("writing through a symlink: %v, want a refusal", err)
	}
	if got, _ := os.ReadFile(target); string(got) != "precious\n" {
		t.Errorf("the symlink's target now holds %q", got)
	}
}
