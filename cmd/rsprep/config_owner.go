package main

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"github.com/rsprep/rsprep/realserver/input"
)

// A config file is what root runs: whoever can write it, or replace it,
// decides where a NAT real server's default route points. As sshd does
// for its keys, refuse a file, or a directory above it, that is not owned
// by root (or by the user running rsprep) or that anyone else can write.
// A root-owned sticky directory (/tmp) is safe: nobody else can rename or
// remove what root put there.

// checkConfigOwner refuses path unless only its owner (root, or this
// user) can change it and every directory above it.
func checkConfigOwner(path string) error {
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return fmt.Errorf("resolving %s: %w", path, err)
	}
	abs, err := filepath.Abs(real)
	if err != nil {
		return fmt.Errorf("resolving %s: %w", path, err)
	}
	me := uint32(os.Geteuid())
	for p := abs; ; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("checking %s: %w", p, err)
		}
		if err := unsafeConfigPath(path, p, fi, me); err != nil {
			return err
		}
		if p == filepath.Dir(p) {
			return nil
		}
	}
}

// unsafeConfigPath is the complaint about p, one step of config path's
// way up, or nil.
func unsafeConfigPath(path, p string, fi os.FileInfo, me uint32) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	what := "config file " + path
	if p != path {
		what = fmt.Sprintf("directory %s above config file %s", p, path)
	}
	mode := fi.Mode()
	switch {
	case st.Uid != 0 && st.Uid != me:
		return input.Errorf("%s is owned by uid %d (mode %04o): rsprep runs only from a config that root owns; chown root %s", what, st.Uid, mode.Perm(), p)
	case mode.Perm()&0o022 == 0:
		return nil
	case fi.IsDir() && mode&os.ModeSticky != 0 && st.Uid == 0:
		return nil // nobody but root can replace root's entries
	}
	return input.Errorf("%s has mode %04o: writable by others than its owner, so anyone could change what rsprep applies as root; chmod go-w %s", what, mode.Perm(), p)
}
