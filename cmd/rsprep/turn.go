package main

import (
	"errors"
	"io/fs"
	"time"

	"github.com/rsprep/rsprep/realserver"
	"github.com/rsprep/rsprep/realserver/persist"
)

// Taking turns with other rsprep processes in one namespace. Writers
// (apply, down) hold the namespace's lock exclusively while they change
// it; readers (verify, a dry run) hold it shared, so that they see the
// host before or after a writer's run, never half-way through: a
// 10,000-VIP apply changes the address table at kernel speed for seconds,
// and no dump of it finishes uninterrupted meanwhile.

// asReader runs observe while no rsprep writes the namespace, waiting up
// to wait for a writer to finish. The caller keeps unlock (nil when no
// lock was taken) until it has read all it needs.
//
// Without root the lock cannot be opened, on purpose: a user holding it
// could keep apply from running. Then observe is retried while the tables
// keep changing, until wait has passed; it may see a writer's run
// half-way, which verify then reports as drift, truly.
func asReader(state realserver.State, wait time.Duration, observe func() error) (unlock func(), err error) {
	unlock, err = state.RLock(wait)
	switch {
	case err == nil:
	case errors.Is(err, fs.ErrNotExist): // no rsprep ever wrote here
		return nil, observe()
	case errors.Is(err, persist.ErrNoLock):
		return nil, retryUntil(wait, observe)
	default:
		return nil, err
	}
	if err := observe(); err != nil {
		unlock()
		return nil, err
	}
	return unlock, nil
}

// retryUntil observes again while the tables keep changing, until wait
// has passed.
func retryUntil(wait time.Duration, observe func() error) error {
	for deadline := time.Now().Add(wait); ; {
		err := observe()
		if !errors.Is(err, realserver.ErrKeepsChanging) || time.Now().After(deadline) {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
}
