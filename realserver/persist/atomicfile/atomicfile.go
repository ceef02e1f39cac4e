// Package atomicfile replaces a file so that a reader, or a crash, sees
// either the old or the new content, never a torn file. The record
// (realserver) and the boot files (systemd) both write through it.
package atomicfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strconv"
)

// Write replaces path with data and mode perm. It refuses to replace a
// symlink (rename would not write through it, but an operator who put a
// link there meant something by it) or anything else that is not a plain
// file.
func Write(path string, data []byte, perm os.FileMode) error {
	root, err := os.OpenRoot(filepath.Dir(path))
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	defer root.Close()
	if err := WriteIn(root, filepath.Base(path), data, perm); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// WriteIn is Write for name inside root: nothing it does follows a symlink
// out of root (install --root writes into images whose absolute links
// point at the build host). The directory of name must exist.
//
// The temporary file is ".NAME.tmpPID" beside name: the same process never
// writes one file twice at once, and a leftover of a killed process is
// removed by the next writer (or by a caller that knows nobody else
// writes, such as the record under its lock).
func WriteIn(root *os.Root, name string, data []byte, perm os.FileMode) error {
	if fi, err := root.Lstat(name); err == nil && !fi.Mode().IsRegular() {
		what := "symlink"
		if fi.Mode()&fs.ModeSymlink == 0 {
			what = fi.Mode().Type().String()
		}
		return fmt.Errorf("refusing to replace a %s", what)
	}
	dir := path.Dir(name)
	tmp := path.Join(dir, "."+path.Base(name)+".tmp"+strconv.Itoa(os.Getpid()))
	f, err := root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if errors.Is(err, fs.ErrExist) { // left by a killed process that had our pid
		root.Remove(tmp)
		f, err = root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	}
	if err != nil {
		return err
	}
	if err = f.Chmod(perm); err == nil { // the umask must not narrow it
		if _, err = f.Write(data); err == nil {
			err = f.Sync()
		}
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = root.Rename(tmp, name)
	}
	if err != nil {
		root.Remove(tmp)
		return err
	}
	if d, err := root.Open(dir); err == nil {
		d.Sync() // the rename survives a crash; best effort
		d.Close()
	}
	return nil
}
