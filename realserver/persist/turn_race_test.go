package persist

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Writers racing for the lock (separate opens, as separate processes
// make them): whenever a writer finds its turn the same as the one it saw
// before, no other writer held the lock in between.
func TestATurnIsTheSameOnlyWhenNobodyWrote(t *testing.T) {
	s := Files{Dir: t.TempDir(), Netns: Netns{Cookie: 4096, Inode: 4026532177}}
	var writes, same atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 400 {
				last := s.LastTurn()
				seen := writes.Load()
				time.Sleep(time.Duration(i%3) * 50 * time.Microsecond) // room for another's turn
				unlock, found, err := s.LockTurn(10 * time.Second)
				if err != nil {
					t.Error(err)
					return
				}
				if last.Same(found) {
					same.Add(1)
					if n := writes.Load(); n != seen {
						t.Errorf("turn %+v found the same as before, but %d writer(s) held the lock in between", found, n-seen)
					}
				}
				writes.Add(1) // under the lock
				unlock()
			}
		}()
	}
	wg.Wait()
	if same.Load() == 0 {
		t.Error("no turn was ever the same: the shortcut never holds")
	}
}
