package systemd

import (
	"errors"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
)

// DirsPath lists the directories install created (absolute, inside the
// root), so that uninstall removes those, once empty, and no other: an
// image that had an empty /etc/systemd/system before install has it after
// uninstall too.
const DirsPath = "/etc/rsprep/installed-dirs"

// ownDirs are the only directories uninstall ever considers removing: those
// on the way to the files install writes. A line of DirsPath naming any
// other directory is ignored.
func ownDirs() []string {
	var dirs []string
	for _, p := range []string{ConfigPath, UnitPath, ModulesPath, WantsPath, DirsPath} {
		for d := path.Dir(p); d != "/"; d = path.Dir(d) {
			if !slices.Contains(dirs, d) {
				dirs = append(dirs, d)
			}
		}
	}
	return dirs
}

// madeDirs reads DirsPath: the directories an earlier install created.
// Without it (nothing installed, or installed by an rsprep before this
// file existed) nothing is known to be install's, and none is removed.
func madeDirs(root *os.Root) []string {
	data, err := root.ReadFile(rel(DirsPath))
	if err != nil {
		return nil
	}
	var dirs []string
	for _, l := range strings.Split(string(data), "\n") {
		if d := path.Clean(strings.TrimSpace(l)); slices.Contains(ownDirs(), d) && !slices.Contains(dirs, d) {
			dirs = append(dirs, d)
		}
	}
	return dirs
}

// renderMadeDirs is DirsPath's content, deepest directory first (the order
// uninstall removes them in).
func renderMadeDirs(dirs []string) []byte {
	dirs = slices.Clone(dirs)
	slices.SortFunc(dirs, func(a, b string) int {
		if c := strings.Count(b, "/") - strings.Count(a, "/"); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	return []byte("# Directories rsprep install created; rsprep uninstall removes them once empty.\n" + strings.Join(dirs, "\n") + "\n")
}

// missingDirs are the directories on the way to dir (absolute, inside the
// root) that do not exist yet, deepest first.
func missingDirs(root *os.Root, dir string) []string {
	var out []string
	for d := path.Clean(dir); d != "/" && d != "."; d = path.Dir(d) {
		if _, err := root.Lstat(rel(d)); !errors.Is(err, fs.ErrNotExist) {
			break
		}
		out = append(out, d)
	}
	return out
}

// removeMadeDirs removes, once empty, the directories install created.
func removeMadeDirs(root *os.Root, dirs []string) error {
	slices.SortFunc(dirs, func(a, b string) int { return strings.Count(b, "/") - strings.Count(a, "/") })
	for _, d := range dirs {
		if _, err := removeDirIfEmpty(root, d); err != nil {
			return err
		}
	}
	return nil
}
