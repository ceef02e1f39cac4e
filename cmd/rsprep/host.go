package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/rsprep/rsprep/realserver"
)

// capNetAdmin is CAP_NET_ADMIN's bit in /proc/self/status CapEff.
const capNetAdmin = 12

// needNetAdmin refuses to start a change without CAP_NET_ADMIN, before
// anything is touched, rather than failing half-way.
func needNetAdmin() error {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return fmt.Errorf("reading capabilities: %w", err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if hex, ok := strings.CutPrefix(line, "CapEff:"); ok {
			caps, err := strconv.ParseUint(strings.TrimSpace(hex), 16, 64)
			if err == nil && caps&(1<<capNetAdmin) != 0 {
				return nil
			}
		}
	}
	return errors.New("needs root (CAP_NET_ADMIN) to change the host; verify works without it")
}

// enterNetns moves the (locked) main thread into a named network namespace.
func enterNetns(name string) error {
	if name == "" || strings.ContainsAny(name, "/") || name == "." || name == ".." {
		return realserver.Inputf("--netns %q is not a namespace name", name)
	}
	h, err := netns.GetFromName(name)
	if errors.Is(err, os.ErrNotExist) {
		return realserver.Inputf("--netns %s: no such network namespace (see ip netns list)", name)
	}
	if err != nil {
		return fmt.Errorf("opening network namespace %s: %w", name, err)
	}
	defer h.Close()
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
