package persist

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// DrainTurn is the namespace's drain lock, held by one rsprep drain for
// the whole of its wait (which may take minutes), apart from the
// namespace's lock, which a drain holds only while it changes the rules:
// verify, watch and down go on meanwhile. The file also says what the
// last drain that finished had drained, so that a second drain of the
// same returns at once.
type DrainTurn struct{ f *os.File }

func (s Files) drainPath() string { return s.base() + ".drain" }

// LockDrain waits at most wait for the drain lock.
func (s Files) LockDrain(wait time.Duration) (*DrainTurn, error) {
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating %s: %w", s.Dir, err)
	}
	f, err := os.OpenFile(s.drainPath(), os.O_RDWR|os.O_CREATE|unix.O_NOFOLLOW, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", s.drainPath(), err)
	}
	if err := flockWait(f, unix.LOCK_EX, wait); err != nil {
		f.Close()
		var le *LockError
		if errors.As(err, &le) {
			return nil, fmt.Errorf("another rsprep drain still waits (%s): try again when it has finished", s.drainPath())
		}
		return nil, err
	}
	return &DrainTurn{f}, nil
}

// Finished is what the last drain that finished wrote ("" if none, or
// if something has begun since).
func (d *DrainTurn) Finished() string {
	b, _ := io.ReadAll(io.NewSectionReader(d.f, 0, 1<<20))
	return string(b)
}

// SetFinished records what a finished drain drained; "" clears it.
func (d *DrainTurn) SetFinished(what string) error {
	if err := d.f.Truncate(0); err != nil {
		return err
	}
	_, err := d.f.WriteAt([]byte(what), 0)
	return err
}

// Unlock releases the drain lock.
func (d *DrainTurn) Unlock() { d.f.Close() }

// ClearDrain forgets a finished drain (undrain, down). It empties the
// file rather than removing it: a drain waiting holds its lock.
func (s Files) ClearDrain() error {
	err := os.Truncate(s.drainPath(), 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}
