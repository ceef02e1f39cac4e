package persist

import (
	"errors"
	"io/fs"
	"os"
	"syscall"
	"time"
)

// racyWindow is how recent a change of the lock file may be for LastTurn
// to trust its change time: the kernel stamps change times from a clock
// that ticks every 1 to 10 ms, so two changes within one tick can carry
// the same time.
const racyWindow = 20 * time.Millisecond

// Turn identifies the namespace's lock file as the last writer left it.
// Every writer's turn rewrites the file (Lock writes its pid in, unlock
// takes it out again), and each write moves the file's change time;
// readers write nothing. So a lock file that is as it was before an
// observation means no other rsprep wrote the namespace since.
type Turn struct {
	known bool // false: the file's state proves nothing; never the same as another
	ino   uint64
	size  int64
	ctime syscall.Timespec
}

// Same reports whether found is this turn, known.
func (t Turn) Same(found Turn) bool { return t.known && t == found }

func turnOf(fi os.FileInfo, err error) Turn {
	if err != nil {
		return Turn{}
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return Turn{}
	}
	return Turn{known: true, ino: st.Ino, size: st.Size, ctime: st.Ctim}
}

// LastTurn is the lock file's turn now, taken before an observation. A
// missing file is a known turn: no writer ever had one. It is unknown
// while a writer holds the lock (its pid is in the file), and when the
// file changed within racyWindow, where a later turn could leave the
// change time as it is.
func (s Files) LastTurn() Turn {
	fi, err := os.Lstat(s.lockPath())
	if errors.Is(err, fs.ErrNotExist) {
		return Turn{known: true}
	}
	t := turnOf(fi, err)
	if t.size > 0 || time.Since(time.Unix(t.ctime.Unix())) < racyWindow {
		return Turn{}
	}
	return t
}
