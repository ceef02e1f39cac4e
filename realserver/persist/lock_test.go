package persist

import (
	"os"
	"testing"
	"time"
)

// A writer's turn is "nobody wrote since I looked" only if nobody did.
// Opening the lock file (creating it) and taking the lock are two steps:
// another writer can open the file this one created, take the lock
// first, write the namespace and leave, all in between. Without one in
// between, the turn is the one seen before, and the run keeps its
// observation.
func TestATurnTakenBetweenCreateAndLockIsSeen(t *testing.T) {
	for _, tc := range []struct {
		name     string
		others   int // whole turns of other writers between create and lock
		lockFile bool
	}{
		{"alone, fresh", 0, false},
		{"another, fresh", 1, false},
		{"alone, after turns", 0, true},
		{"two others, after turns", 2, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := Files{Dir: t.TempDir(), Netns: Netns{Cookie: 4096, Inode: 4026532177}}
			if tc.lockFile {
				turn(t, s)
			}
			last := s.LastTurn()
			f, err := s.openLock()
			if err != nil {
				t.Fatal(err)
			}
			for range tc.others {
				turn(t, s)
			}
			unlock, found, err := s.takeTurn(f, time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer unlock()
			if same := last.Same(found); same != (tc.others == 0) {
				t.Fatalf("turn before %+v, under the lock %+v: same %v after %d other writers' turns (a run keeping a stale observation saves over the other's record)", last, found, same, tc.others)
			}
		})
	}
}

// turn is one whole writer's turn: lock, unlock.
func turn(t *testing.T, s Files) {
	t.Helper()
	unlock, _, err := s.LockTurn(time.Second)
	if err != nil {
		t.Fatal(err)
	}
	unlock()
}

// While a writer holds the lock its pid is in the file (a waiter names
// it) and no turn is known; once it has left, its turn is.
func TestLockFileNamesTheHolderAndCountsTurns(t *testing.T) {
	s := Files{Dir: t.TempDir(), Netns: Netns{Cookie: 4096, Inode: 4026532177}}
	turn(t, s)
	unlock, err := s.Lock(time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if pid := holder(s.lockPath()); pid != os.Getpid() {
		t.Errorf("holder %d, want %d", pid, os.Getpid())
	}
	if held := s.LastTurn(); held.known {
		t.Errorf("a turn taken while a writer holds the lock is known: %+v", held)
	}
	unlock()
	if pid := holder(s.lockPath()); pid != 0 {
		t.Errorf("holder %d after unlock, want none", pid)
	}
	if got := s.LastTurn(); got != (Turn{known: true, n: 2}) {
		t.Errorf("after two turns %+v, want turn 2", got)
	}
	for _, data := range []string{"", "4242\n", "turn 3", "turn 03\n", "turn 3\nrn 3\n"} { // an older rsprep's, torn
		if _, got := parseLock(data); got.known {
			t.Errorf("lock content %q is turn %+v, want unknown", data, got)
		}
	}
}

// A writer killed half-way through rewriting the lock file leaves its
// count with the end of the content before: the next turn is unknown (its
// run observes again under the lock) and counts on from the highest count
// there, never again from 1.
func TestATornLockFileCountsOn(t *testing.T) {
	s := Files{Dir: t.TempDir(), Netns: Netns{Cookie: 4096, Inode: 4026532177}}
	for range 7 {
		turn(t, s)
	}
	if err := os.WriteFile(s.lockPath(), []byte("turn 7\nn 7\n"), 0o600); err != nil { // "4242\nturn 7\n" cut short of its truncate
		t.Fatal(err)
	}
	unlock, found, err := s.LockTurn(time.Second)
	if err != nil {
		t.Fatal(err)
	}
	unlock()
	if found.known {
		t.Errorf("the turn under a torn lock file is %+v, want unknown", found)
	}
	if got := s.LastTurn(); got != (Turn{known: true, n: 8}) {
		t.Errorf("after the torn file's turn: %+v, want turn 8", got)
	}
}
