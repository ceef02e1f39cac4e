package kernel

import (
	"fmt"
	"io/fs"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/rsprep/rsprep/realserver"
)

const procSys = "/proc/sys/"

// A sysctl is one small file below /proc/sys: open, one read or write,
// close, with plain system calls. os.File would register each file with
// the runtime's poller (a /proc/sys file can be polled), which costs two
// fcntls and an epoll_ctl per file and wakes the poller thread: a cold
// apply reads and writes 18 of them. The path is built per directory
// (SysctlKey.Dir), never from a dotted key, so an interface name with
// dots ("eth0.100") points at its own conf directory.

// Sysctl implements realserver.Host. A missing key is an error that
// matches fs.ErrNotExist (a device without IPv4, say).
func (h *Host) Sysctl(k realserver.SysctlKey) (int, error) {
	path := procSys + k.Dir() + "/" + k.Name
	var buf [32]byte // an integer and a newline
	n, err := readSmall(path, buf[:])
	if err != nil {
		return 0, err
	}
	s := strings.TrimSpace(string(buf[:n]))
	v, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("%s is %q, not a number", k.Dotted(), s)
	}
	return v, nil
}

// SetSysctl implements realserver.Host.
func (h *Host) SetSysctl(k realserver.SysctlKey, v int) error {
	path := procSys + k.Dir() + "/" + k.Name
	if err := writeSmall(path, strconv.Itoa(v)); err != nil {
		return fmt.Errorf("writing %s=%d: %w", k.Dotted(), v, err)
	}
	return nil
}

// readSmall reads the file at path into buf; a value longer than buf is
// an error, not a silently cut one.
func readSmall(path string, buf []byte) (int, error) {
	fd, err := openRetry(path, unix.O_RDONLY)
	if err != nil {
		return 0, err
	}
	defer unix.Close(fd)
	n := 0
	for n < len(buf) {
		m, err := unix.Read(fd, buf[n:])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return 0, &fs.PathError{Op: "read", Path: path, Err: err}
		}
		if m == 0 {
			return n, nil
		}
		n += m
	}
	return 0, &fs.PathError{Op: "read", Path: path, Err: fmt.Errorf("longer than %d bytes", len(buf))}
}

// writeSmall writes s to the file at path in one write, as sysctl(8) does.
func writeSmall(path, s string) error {
	fd, err := openRetry(path, unix.O_WRONLY)
	if err != nil {
		return err
	}
	for {
		m, err := unix.Write(fd, []byte(s))
		if err == unix.EINTR {
			continue
		}
		if err == nil && m != len(s) {
			err = unix.EIO // a sysctl takes its value in one write
		}
		cerr := unix.Close(fd)
		if err == nil {
			err = cerr
		}
		if err != nil {
			return &fs.PathError{Op: "write", Path: path, Err: err}
		}
		return nil
	}
}

func openRetry(path string, mode int) (int, error) {
	for {
		fd, err := unix.Open(path, mode|unix.O_CLOEXEC, 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return -1, &fs.PathError{Op: "open", Path: path, Err: err}
		}
		return fd, nil
	}
}
