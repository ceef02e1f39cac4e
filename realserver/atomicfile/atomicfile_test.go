package atomicfile_test

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/rsprep/rsprep/realserver/atomicfile"
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
