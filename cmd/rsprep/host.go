package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"strings"

	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/rsprep/rsprep/realserver"
	"github.com/rsprep/rsprep/realserver/input"
	"github.com/rsprep/rsprep/realserver/kernel"
	"github.com/rsprep/rsprep/realserver/persist"
)

// needNetAdmin refuses to start a change without CAP_NET_ADMIN, before
// anything is touched, rather than failing half-way. capget(2) asks the
// kernel directly; /proc/self/status, which says the same, costs the
// kernel a whole report to generate (~0.1 ms of a 5 ms apply).
func needNetAdmin() error {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData // version 3: capabilities 0-31, then 32-63
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return fmt.Errorf("reading capabilities: %w", err)
	}
	if data[0].Effective&(1<<unix.CAP_NET_ADMIN) != 0 {
		return nil
	}
	return errors.New("needs root (CAP_NET_ADMIN) to change the host; verify works without it")
}

// openNamespace is the common start of every command that reads or writes
// a namespace: enter --netns when it was given (an empty name is a mistake,
// not this host), open the kernel Host there, and find the namespace's
// record and lock. log (may be nil) hears of stale records removed.
func openNamespace(netnsGiven bool, name string, log *slog.Logger) (*kernel.Host, realserver.State, error) {
	if netnsGiven {
		if err := enterNetns(name); err != nil {
			return nil, realserver.State{}, err
		}
	}
	host, err := kernel.New()
	if err != nil {
		return nil, realserver.State{}, hostError(err)
	}
	id, err := persist.CurrentNetns()
	if err != nil {
		host.Close()
		return nil, realserver.State{}, err
	}
	return host, realserver.State{Files: persist.Files{Dir: stateDir(), Netns: id, Log: log}}, nil
}

// enterNetns moves the main goroutine's thread into a named network
// namespace, and locks the goroutine to it for good: every kernel call then
// runs on that thread, and netlink sockets and /proc/sys/net belong to the
// namespace of the thread that opens them. Without --netns every thread is
// in the namespace already, and the lock is not taken: a locked main
// thread makes the runtime start a template thread and hand the processor
// back and forth on every block (13 context switches and 0.3 ms of CPU in
// a 5 ms apply).
func enterNetns(name string) error {
	if name == "" || strings.ContainsAny(name, "/") || name == "." || name == ".." {
		return input.Errorf("--netns %q is not a namespace name", name)
	}
	if len(name) > unix.NAME_MAX {
		return input.Errorf("--netns %.20s…: %d bytes, a namespace name (a file in /run/netns) has at most %d", name, len(name), unix.NAME_MAX)
	}
	h, err := netns.GetFromName(name)
	if errors.Is(err, os.ErrNotExist) {
		return input.Errorf("--netns %s: no such network namespace (see ip netns list)", name)
	}
	if err != nil {
		return fmt.Errorf("opening network namespace %s: %w", name, err)
	}
	defer h.Close()
	runtime.LockOSThread() // never unlocked: the thread is no longer the process's
	if err := netns.Set(h); err != nil {
		return fmt.Errorf("entering network namespace %s: %w", name, hostError(err))
	}
	return nil
}

// hostError says "needs root" for permission errors.
func hostError(err error) error {
	if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
		return fmt.Errorf("%w (needs root (CAP_NET_ADMIN))", err)
	}
	return err
}
