package systemd

import (
	"errors"
	"fmt"
	"os"
	"path"
	"slices"
)

// undoLog is what one install run changed inside the root, newest last, so
// that a step failing half-way (a symlink that leaves the root, a full
// disk, systemd refusing to enable) puts the root back as it was: no
// config without its unit, no unit without its config.
type undoLog struct {
	root  *os.Root
	steps []func() error
	made  []string // directories this run created, absolute inside the root
}

// write is writeFile, remembering how to undo it.
func (u *undoLog) write(f File) (bool, error) {
	name := rel(f.Path)
	u.dirs(path.Dir(name))
	old, had := u.regular(name)
	changed, err := writeFile(u.root, f)
	if changed {
		u.steps = append(u.steps, func() error { return u.restore(f.Path, old, had) })
	}
	return changed, err
}

// remove is removeIfPresent, remembering the file removed.
func (u *undoLog) remove(p string) (bool, error) {
	old, had := u.regular(rel(p))
	removed, err := removeIfPresent(u.root, p)
	if removed && had {
		u.steps = append(u.steps, func() error { return u.restore(p, old, true) })
	}
	return removed, err
}

// link is ensureLink, remembering the link it replaced, if any.
func (u *undoLog) link(link, target string) (bool, error) {
	name := rel(link)
	u.dirs(path.Dir(name))
	old, oldErr := u.root.Readlink(name)
	changed, err := ensureLink(u.root, link, target)
	if changed {
		u.steps = append(u.steps, func() error {
			if oldErr == nil {
				_, err := ensureLink(u.root, link, old)
				return err
			}
			_, err := removeIfPresent(u.root, link)
			return err
		})
	}
	return changed, err
}

// dirs remembers the directories on the way to dir that do not exist yet
// (a write is about to make them), to remove them again once empty:
// the deepest is the newest step, so a rollback removes it first.
func (u *undoLog) dirs(dir string) {
	missing := missingDirs(u.root, "/"+dir)
	slices.Reverse(missing)
	for _, d := range missing {
		u.made = append(u.made, d)
		u.steps = append(u.steps, func() error { _, err := removeDirIfEmpty(u.root, d); return err })
	}
}

// regular is the content and mode of a plain file at name, if there is one.
func (u *undoLog) regular(name string) (File, bool) {
	fi, err := u.root.Lstat(name)
	if err != nil || !fi.Mode().IsRegular() {
		return File{}, false
	}
	data, err := u.root.ReadFile(name)
	if err != nil {
		return File{}, false
	}
	return File{Path: "/" + name, Data: data, Perm: fi.Mode().Perm()}, true
}

func (u *undoLog) restore(p string, old File, had bool) error {
	if had {
		_, err := writeFile(u.root, old)
		return err
	}
	_, err := removeIfPresent(u.root, p)
	return err
}

// rollback undoes every step, newest first, and says how it went.
func (u *undoLog) rollback(cause error) error {
	if len(u.steps) == 0 {
		return fmt.Errorf("%w; nothing was changed", cause)
	}
	var errs []error
	for i := len(u.steps) - 1; i >= 0; i-- {
		if err := u.steps[i](); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%w; rolling back what this install wrote failed too: %v", cause, err)
	}
	return fmt.Errorf("%w; rolled back what this install wrote", cause)
}
