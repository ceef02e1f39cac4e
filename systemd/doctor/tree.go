package doctor

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// tree reads configuration files under a root directory. A symlink's
// absolute target is taken inside the root too (an image's links point at
// its own /), and one to /dev/null masks the file, as systemd reads it.
// Only the last component's symlinks are re-rooted; a directory symlink
// such as /lib → usr/lib works when relative, as Debian ships it.
type tree struct{ root string }

// errMasked is a file linked to /dev/null.
var errMasked = errors.New("masked")

// read returns a file's content; a missing or masked file is (nil, nil)
// with ok false, and a file that exists but cannot be read an error.
func (t tree) read(p string) (data []byte, ok bool, err error) {
	real, err := t.resolve(p)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, errMasked) {
		return nil, false, nil
	}
	if err == nil {
		data, err = os.ReadFile(real)
	}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, false, nil
	case err != nil:
		return nil, false, fmt.Errorf("reading %s: %w", p, err)
	}
	return data, true, nil
}

// exists reports whether p exists (after symlinks) under the root.
func (t tree) exists(p string) bool {
	real, err := t.resolve(p)
	if err != nil {
		return false
	}
	_, err = os.Stat(real)
	return err == nil
}

func (t tree) resolve(p string) (string, error) {
	for range 16 {
		real := filepath.Join(t.root, p)
		fi, err := os.Lstat(real)
		if err != nil {
			return "", err
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			return real, nil
		}
		target, err := os.Readlink(real)
		if err != nil {
			return "", err
		}
		if !path.IsAbs(target) {
			target = path.Join(path.Dir(p), target)
		}
		if target == "/dev/null" {
			return "", errMasked
		}
		p = target
	}
	return "", fmt.Errorf("%s: too many symlinks", p)
}

// list returns the names in dir that end in suffix, sorted; a missing
// directory is empty.
func (t tree) list(dir, suffix string) ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(t.root, dir))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("listing %s: %w", dir, err)
	}
	var names []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), suffix) && !strings.HasPrefix(e.Name(), ".") {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	return names, nil
}

// confFiles lists the files with suffix in dirs the way systemd's
// conf_files_list does: sorted by file name across all dirs, and a name
// in an earlier dir masks the same name in a later one. It returns full
// paths (inside the root).
func (t tree) confFiles(suffix string, dirs ...string) ([]string, error) {
	byName := map[string]string{}
	var names []string
	for _, dir := range dirs {
		list, err := t.list(dir, suffix)
		if err != nil {
			return nil, err
		}
		for _, n := range list {
			if _, seen := byName[n]; !seen {
				byName[n] = path.Join(dir, n)
				names = append(names, n)
			}
		}
	}
	slices.Sort(names)
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = byName[n]
	}
	return out, nil
}
