package persist

import (
	"errors"
	"fmt"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// Netns identifies a network namespace for its record and lock.
//
// The inode of /proc/self/ns/net is unique only among namespaces alive at
// the same time: the kernel hands a freed namespace's inode to the next
// one, so a record keyed by it outlives a container and governs its
// successor. The netns cookie (SO_NETNS_COOKIE, Linux ≥ 5.14) is never
// reused within a boot, and /run is this boot's, so a record keyed by it
// can only ever be its own namespace's. Before 5.14 there is no such
// identity: records are keyed by the inode and checked against the host
// before they are trusted (realserver.Record.Unproven).
type Netns struct {
	Cookie uint64 // 0: the kernel has no SO_NETNS_COOKIE
	Inode  uint64
}

// String is how the record names its namespace.
func (n Netns) String() string {
	if n.Cookie != 0 {
		return fmt.Sprintf("netns-cookie:%d", n.Cookie)
	}
	return fmt.Sprintf("net:[%d]", n.Inode)
}

// key names the namespace's files under the state directory.
func (n Netns) key() string {
	if n.Cookie != 0 {
		return fmt.Sprintf("netns-%d-%d", n.Cookie, n.Inode) // the inode: see removeDead
	}
	return n.inodeKey()
}

// inodeKey is how rsprep before the cookie named the files, and how it
// still does on kernels without it.
func (n Netns) inodeKey() string { return fmt.Sprintf("net-%d", n.Inode) }

// CurrentNetns identifies the network namespace of the calling thread.
func CurrentNetns() (Netns, error) {
	var fi os.FileInfo
	fi, err := os.Stat("/proc/thread-self/ns/net")
	if err != nil {
		return Netns{}, fmt.Errorf("reading the network namespace: %w", err)
	}
	n := Netns{Inode: fi.Sys().(*syscall.Stat_t).Ino}
	// Any socket belongs to the namespace it was opened in.
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return Netns{}, fmt.Errorf("reading the network namespace's cookie: %w", err)
	}
	defer unix.Close(fd)
	n.Cookie, err = unix.GetsockoptUint64(fd, unix.SOL_SOCKET, unix.SO_NETNS_COOKIE)
	if errors.Is(err, unix.ENOPROTOOPT) {
		return n, nil // before Linux 5.14
	}
	if err != nil {
		return Netns{}, fmt.Errorf("reading the network namespace's cookie: %w", err)
	}
	return n, nil
}
