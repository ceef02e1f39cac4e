package persist

import (
	"errors"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// LockError means another rsprep held the namespace for longer than we wait.
type LockError struct {
	Path string
	PID  int
}

func (e *LockError) Error() string {
	who := "pid unknown"
	if e.PID > 0 {
		who = fmt.Sprintf("pid %d", e.PID)
	}
	return fmt.Sprintf("another rsprep (%s) holds %s: try again when it has finished", who, e.Path)
}

// holder is the pid the lock's holder wrote into the lock file; 0 if none.
func holder(path string) int {
	data, _ := os.ReadFile(path)
	pid, _ := parseLock(string(data))
	return pid
}

// Lock takes the namespace's lock for a writer (apply, down), waiting at
// most wait. The holder's pid is written into the lock file so that a
// waiter can name it. The lock is released by the kernel when the process
// exits, crash or not.
//
// Taking the lock also removes the files of namespaces that no longer
// exist (see removeDead): only a writer changes the state directory.
//
// The lock file stays when the run ends: it holds the count of writers'
// turns (see Turn), and a lock file removed while another run has it open
// would give the next run a lock of its own, beside that one.
func (s Files) Lock(wait time.Duration) (unlock func(), err error) {
	unlock, _, err = s.LockTurn(wait)
	return unlock, err
}

// LockTurn is Lock, and the lock file's turn as the last writer left it
// (see Turn).
func (s Files) LockTurn(wait time.Duration) (unlock func(), last Turn, err error) {
	f, err := s.openLock()
	if err != nil {
		return nil, Turn{}, err
	}
	return s.takeTurn(f, wait)
}

// openLock opens the namespace's lock file, creating it if need be.
func (s Files) openLock() (*os.File, error) {
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating %s: %w", s.Dir, err)
	}
	f, err := os.OpenFile(s.lockPath(), os.O_RDWR|os.O_CREATE|unix.O_NOFOLLOW, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", s.lockPath(), err)
	}
	return f, nil
}

// takeTurn takes the lock of f (opened by openLock) and counts this
// writer's turn in it, before the caller changes anything. Whoever
// created the file, the count under the lock is what tells: another
// writer may take the lock between the file's creation and this flock.
func (s Files) takeTurn(f *os.File, wait time.Duration) (unlock func(), last Turn, err error) {
	if err := flockWait(f, unix.LOCK_EX, wait); err != nil {
		f.Close()
		return nil, Turn{}, err
	}
	content := readLock(f)
	_, last = parseLock(content)
	if content == "" { // created, and no writer had a turn yet
		last = Turn{known: true}
	}
	mine := highestCount(content) + 1
	if err := rewrite(f, lockContent(os.Getpid(), mine)); err != nil {
		f.Close()
		return nil, Turn{}, fmt.Errorf("writing %s: %w", f.Name(), err)
	}
	s.removeDead()
	return func() {
		// A reader may hold the lock next, and readers write no pid: a
		// writer waiting on one must not name this process.
		rewrite(f, lockContent(0, mine))
		f.Close()
	}, last, nil
}

// rewrite makes f's content data: written over the old content first,
// then cut to length, so that the file never holds less than a count.
func rewrite(f *os.File, data []byte) error {
	if _, err := f.WriteAt(data, 0); err != nil {
		return err
	}
	return f.Truncate(int64(len(data)))
}

// ErrNoLock means a reader could not open the namespace's lock file: no
// rsprep ever wrote this namespace (it does not exist), or this user may
// not read it (verify without root).
var ErrNoLock = errors.New("cannot open the namespace's lock")

// RLock takes the namespace's lock shared, for a reader (verify, a dry
// run) that must wait while a writer changes the namespace. Readers never
// block each other, create nothing, and write no pid.
func (s Files) RLock(wait time.Duration) (unlock func(), err error) {
	f, err := os.OpenFile(s.lockPath(), os.O_RDONLY|unix.O_NOFOLLOW, 0)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNoLock, err)
	}
	if err := flockWait(f, unix.LOCK_SH, wait); err != nil {
		f.Close()
		return nil, err
	}
	return func() { f.Close() }, nil
}

// flockWait takes f's lock (how: LOCK_EX or LOCK_SH), polling until wait
// has passed; then the error names the writer that holds it.
func flockWait(f *os.File, how int, wait time.Duration) error {
	deadline := time.Now().Add(wait)
	for {
		err := unix.Flock(int(f.Fd()), how|unix.LOCK_NB)
		if err == nil {
			return nil
		}
		if !errors.Is(err, unix.EWOULDBLOCK) {
			return fmt.Errorf("locking %s: %w", f.Name(), err)
		}
		if time.Now().After(deadline) {
			pid := holder(f.Name())
			if pid == 0 { // it has the lock but has not written its pid yet
				time.Sleep(20 * time.Millisecond)
				pid = holder(f.Name())
			}
			return &LockError{Path: f.Name(), PID: pid}
		}
		time.Sleep(20 * time.Millisecond)
	}
}
