package systemd

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"

	"github.com/rsprep/rsprep/realserver/persist/atomicfile"
)

// File is one file install writes, at an absolute path inside the root.
type File struct {
	Path string
	Data []byte
	Perm os.FileMode
}

// All file work goes through an os.Root: under --root DIR nothing may
// follow a symlink out of DIR (an image's absolute links point at the
// build host), and os.Root refuses exactly that.

// rel turns an absolute in-root path into the relative name os.Root wants.
func rel(p string) string { return strings.TrimPrefix(path.Clean(p), "/") }

// writeFile makes f's content and permissions true, atomically
// (atomicfile), and reports whether it had to change anything. It refuses
// to replace a symlink or a directory.
func writeFile(root *os.Root, f File) (changed bool, err error) {
	name := rel(f.Path)
	fi, err := root.Lstat(name)
	switch {
	case err == nil && !fi.Mode().IsRegular():
		return false, fmt.Errorf("writing %s: refusing to replace a %s", f.Path, fi.Mode().Type())
	case err == nil:
		old, err := root.ReadFile(name)
		if err != nil {
			return false, fmt.Errorf("reading %s: %w", f.Path, err)
		}
		if bytes.Equal(old, f.Data) {
			if fi.Mode().Perm() == f.Perm {
				return false, nil
			}
			if err := root.Chmod(name, f.Perm); err != nil {
				return false, fmt.Errorf("chmod %s: %w", f.Path, err)
			}
			return true, nil
		}
	case !errors.Is(err, fs.ErrNotExist):
		return false, fmt.Errorf("writing %s: %w", f.Path, err)
	}
	dir := path.Dir(name)
	if err := root.MkdirAll(dir, 0o755); err != nil {
		return false, fmt.Errorf("creating %s: %w", path.Dir(f.Path), err)
	}
	if err := atomicfile.WriteIn(root, name, f.Data, f.Perm); err != nil {
		return false, fmt.Errorf("writing %s: %w", f.Path, err)
	}
	return true, nil
}

// ensureLink makes link a symlink to target (as systemctl enable does, an
// absolute target that is never followed here) and reports a change.
func ensureLink(root *os.Root, link, target string) (changed bool, err error) {
	name := rel(link)
	fi, err := root.Lstat(name)
	if err == nil {
		if fi.Mode()&fs.ModeSymlink == 0 {
			return false, fmt.Errorf("linking %s: refusing to replace a %s", link, fi.Mode().Type())
		}
		if got, err := root.Readlink(name); err == nil && got == target {
			return false, nil
		}
		if err := root.Remove(name); err != nil {
			return false, fmt.Errorf("linking %s: %w", link, err)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return false, fmt.Errorf("linking %s: %w", link, err)
	}
	if err := root.MkdirAll(path.Dir(name), 0o755); err != nil {
		return false, fmt.Errorf("creating %s: %w", path.Dir(link), err)
	}
	if err := root.Symlink(target, name); err != nil {
		return false, fmt.Errorf("linking %s: %w", link, err)
	}
	return true, nil
}

// removeIfPresent removes one file or symlink (never a directory) and
// reports whether it was there.
func removeIfPresent(root *os.Root, p string) (bool, error) {
	name := rel(p)
	fi, err := root.Lstat(name)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err == nil && fi.IsDir() {
		return false, fmt.Errorf("removing %s: it is a directory, not rsprep's file", p)
	}
	if err == nil {
		err = root.Remove(name)
	}
	if err != nil {
		return false, fmt.Errorf("removing %s: %w", p, err)
	}
	return true, nil
}

// removeDirIfEmpty removes a directory that holds nothing any more.
func removeDirIfEmpty(root *os.Root, p string) (bool, error) {
	name := rel(p)
	d, err := root.Open(name)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("removing %s: %w", p, err)
	}
	entries, err := d.ReadDir(1)
	d.Close()
	if len(entries) > 0 || !errors.Is(err, io.EOF) {
		return false, nil // not empty, or not readable as a directory
	}
	if err := root.Remove(name); err != nil {
		return false, fmt.Errorf("removing %s: %w", p, err)
	}
	return true, nil
}
