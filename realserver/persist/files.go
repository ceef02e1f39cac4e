// Package persist is how rsprep keeps state between runs, apart from what
// that state means: the state directory, each network namespace's record
// and lock file and how they are named, the lock itself, and the dead
// namespaces' files it clears. The record's content (what rsprep owns) is
// realserver's; this package moves its bytes.
package persist

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
)

// DefaultStateDir holds this boot's records and locks (tmpfs: a record
// describes the prior state of this boot only).
const DefaultStateDir = "/run/rsprep"

// Files is where one network namespace's record and lock live, one pair
// per namespace: `ip netns exec` shares /run between namespaces, so a
// path alone would mix them up. They are keyed by an identity the kernel
// never reuses, the netns cookie, where the kernel has one (see Netns):
// never by the namespace's inode alone, which a freed namespace hands on.
type Files struct {
	Dir   string // DefaultStateDir unless testing
	Netns Netns
	Log   *slog.Logger // says which stale records it removed; nil: silent
}

func (s Files) base() string { return filepath.Join(s.Dir, s.Netns.key()) }

// RecordPath is the namespace's record file.
func (s Files) RecordPath() string { return s.base() + ".json" }

// LegacyRecordPath is where an rsprep before the netns cookie kept this
// namespace's record: keyed by the inode alone.
func (s Files) LegacyRecordPath() string { return filepath.Join(s.Dir, s.Netns.inodeKey()+".json") }

func (s Files) lockPath() string { return s.base() + ".lock" }

// removeDead removes the records and locks of namespaces that no longer
// exist: those keyed by a cookie other than ours but by our inode. Two
// live namespaces never share an inode, and this one holds it, so the
// other one is gone. (A freed namespace whose inode nobody reuses leaves
// its files until the next boot empties /run; they govern nothing.)
func (s Files) removeDead() {
	if s.Netns.Cookie == 0 {
		return
	}
	mine := filepath.Base(s.base())
	for _, ext := range []string{".json", ".lock", ".down", ".drain"} {
		files, _ := filepath.Glob(filepath.Join(s.Dir, fmt.Sprintf("netns-*-%d%s", s.Netns.Inode, ext)))
		for _, f := range files {
			if strings.TrimSuffix(filepath.Base(f), ext) == mine {
				continue
			}
			if err := os.Remove(f); err == nil && ext == ".json" && s.Log != nil {
				s.Log.Warn("removed the record of a network namespace that no longer exists (this one reuses its inode)", "record", f)
			}
		}
	}
}
