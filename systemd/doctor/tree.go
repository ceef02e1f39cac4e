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

// tree reads configuration files under a root directory, the way a
// process chrooted there would see them: every component of a path is
// resolved inside the root, so a symlink's absolute target (an image's
// links point at its own /) and any ".." stay inside it. A link to
// /dev/null masks the file, as systemd reads it.
//
// A file or directory that exists but cannot be read (or parsed) is never
// skipped in silence: it becomes a file.unreadable finding, since doctor
// cannot tell what it does.
type tree struct {
	root   string
	unread *[]Finding
}

func newTree(root string) tree { return tree{root: root, unread: &[]Finding{}} }

// cannotRead records that source (file or file:line) could not be read.
func (t tree) cannotRead(source string, err error) {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err // the host path says nothing the source does not
	}
	*t.unread = append(*t.unread, Finding{
		ID: "file.unreadable", Source: source,
		What: fmt.Sprintf("could not read it (%v): doctor cannot tell what it does, so it cannot report no risk", err),
		Fix:  "make it readable (or fix its syntax, as the program that reads it expects), then run doctor again",
	})
}

// errMasked is a file linked to /dev/null.
var errMasked = errors.New("masked")

// read returns a file's content; ok is false for a missing or masked
// file, and for one that exists but cannot be read (recorded).
func (t tree) read(p string) (data []byte, ok bool) {
	real, err := t.resolve(p)
	if err == nil {
		data, err = os.ReadFile(t.host(real))
	}
	switch {
	case errors.Is(err, fs.ErrNotExist) || errors.Is(err, errMasked):
		return nil, false
	case err != nil:
		t.cannotRead(p, err)
		return nil, false
	}
	return data, true
}

// exists reports whether p exists (after symlinks) under the root.
func (t tree) exists(p string) bool {
	real, err := t.resolve(p)
	if err != nil {
		return false
	}
	_, err = os.Stat(t.host(real))
	return err == nil
}

// host is the host path of a resolved path inside the root.
func (t tree) host(p string) string { return filepath.Join(t.root, p) }

// maxLinks is the kernel's limit of symlinks followed in one lookup.
const maxLinks = 40

// resolve walks p one component at a time inside the root and returns
// the path (inside the root, absolute, without symlinks) it names. ".."
// at the root stays at the root; an absolute link target starts again at
// the root. The last component need not exist only when ENOENT is what
// the caller wants to see: a missing component is fs.ErrNotExist.
func (t tree) resolve(p string) (string, error) {
	todo := strings.Split(p, "/")
	cur, links := "/", 0
	for len(todo) > 0 {
		c := todo[0]
		todo = todo[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			cur = path.Dir(cur)
			continue
		}
		next := path.Join(cur, c)
		fi, err := os.Lstat(t.host(next))
		if err != nil {
			return "", err
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			cur = next
			continue
		}
		if links++; links > maxLinks {
			return "", fmt.Errorf("%s: too many levels of symbolic links", p)
		}
		target, err := os.Readlink(t.host(next))
		if err != nil {
			return "", err
		}
		if path.IsAbs(target) {
			if len(todo) == 0 && path.Clean(target) == "/dev/null" {
				return "", errMasked
			}
			cur = "/"
		}
		todo = append(strings.Split(target, "/"), todo...)
	}
	if cur == "/dev/null" {
		return "", errMasked
	}
	return cur, nil
}

// list returns the names in dir that end in suffix, sorted; a missing
// directory is empty, and one that cannot be read is recorded.
func (t tree) list(dir, suffix string) []string {
	real, err := t.resolve(dir)
	if err == nil {
		var entries []os.DirEntry
		entries, err = os.ReadDir(t.host(real))
		if err == nil {
			var names []string
			for _, e := range entries {
				if strings.HasSuffix(e.Name(), suffix) && !strings.HasPrefix(e.Name(), ".") {
					names = append(names, e.Name())
				}
			}
			slices.Sort(names)
			return names
		}
	}
	if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, errMasked) {
		t.cannotRead(dir, err)
	}
	return nil
}

// confFiles lists the files with suffix in dirs the way systemd's
// conf_files_list does: sorted by file name across all dirs, and a name
// in an earlier dir masks the same name in a later one. It returns full
// paths (inside the root).
func (t tree) confFiles(suffix string, dirs ...string) []string {
	byName := map[string]string{}
	var names []string
	for _, dir := range dirs {
		for _, n := range t.list(dir, suffix) {
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
	return out
}

// enabled reports whether unit is enabled for boot: a link to it in some
// /etc/systemd/system/*.wants directory (the link itself: its target is
// often outside an image's tree).
func (t tree) enabled(unit string) bool {
	for _, w := range t.list("/etc/systemd/system", ".wants") {
		dir, err := t.resolve(path.Join("/etc/systemd/system", w))
		if err != nil {
			continue
		}
		if _, err := os.Lstat(t.host(path.Join(dir, unit))); err == nil {
			return true
		}
	}
	return false
}
