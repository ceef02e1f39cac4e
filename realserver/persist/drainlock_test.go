package persist

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// The drain lock holds what the last finished drain drained; ClearDrain
// forgets it without removing the file a waiting drain may hold; a
// second LockDrain waits for the first; a writer's lock removes the drain
// file of a namespace that no longer exists (same inode, other cookie).
func TestDrainTurn(t *testing.T) {
	dir := t.TempDir()
	f := Files{Dir: dir, Netns: Netns{Cookie: 7, Inode: 4026531840}}
	turn, err := f.LockDrain(time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if got := turn.Finished(); got != "" {
		t.Fatalf("a new drain lock says %q", got)
	}
	if err := turn.SetFinished("192.168.79.180 to 10.0.0.1\n"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.LockDrain(100 * time.Millisecond); err == nil {
		t.Fatal("a second drain took the lock while the first held it")
	}
	if got := turn.Finished(); got != "192.168.79.180 to 10.0.0.1\n" {
		t.Fatalf("finished: %q", got)
	}
	if err := f.ClearDrain(); err != nil {
		t.Fatal(err)
	}
	if got := turn.Finished(); got != "" {
		t.Fatalf("after ClearDrain: %q", got)
	}
	turn.Unlock()

	dead := Files{Dir: dir, Netns: Netns{Cookie: 6, Inode: 4026531840}}
	if err := os.WriteFile(dead.drainPath(), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	unlock, err := f.Lock(time.Second)
	if err != nil {
		t.Fatal(err)
	}
	unlock()
	if _, err := os.Stat(dead.drainPath()); !os.IsNotExist(err) {
		t.Fatalf("the dead namespace's drain file is still there: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, filepath.Base(f.drainPath()))); err != nil {
		t.Fatalf("this namespace's drain file went: %v", err)
	}
}
