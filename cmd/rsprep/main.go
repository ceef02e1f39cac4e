// Command rsprep prepares a Linux host to be a real server behind an
// LVS/IPVS director, keeps it that way, and proves it.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"

	"github.com/spf13/pflag"
)

// Exit codes, as in the spec.
const (
	exitOK    = 0 // success, every invariant holds
	exitDrift = 1 // drift found, or apply could not reach the desired state
	exitUsage = 2 // bad input or usage; nothing was changed
	exitHost  = 3 // the host could not be read or written
)

// exitDocs are the exit codes, as in the spec.
var exitDocs = []struct {
	code int
	text string
}{
	{exitOK, "success; for verify, every invariant holds."},
	{exitDrift, "drift found (verify), or apply ran but could not reach the desired state, or down found no record and left what only a record could restore."},
	{exitUsage, "bad input or usage; nothing was changed."},
	{exitHost, "the host could not be read or written (permissions, a kernel feature missing)."},
	{130, "stopped by SIGINT (Ctrl-C): apply or down stopped at a safe point and rolled back what it had changed."},
	{143, "stopped by SIGTERM, likewise."},
}

// version is set at build time with -ldflags "-X main.version=…".
var version = ""

// memoryLimit is the garbage collector's soft target. A 10,000-VIP apply
// makes its garbage fast (netlink messages, the plan, the record); with
// Go's default of collecting when the heap doubles, peak RSS reached
// 44 MiB, with this limit 31 MiB (test/bench/compare.sh). It is soft: a
// larger run still gets the memory it needs. GOMEMLIMIT overrides it.
const memoryLimit = 28 << 20

func main() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryLimit)
		if os.Getenv("GOGC") == "" && !longLived(os.Args[1:]) {
			// A one-shot run lives for milliseconds: collecting each time
			// the heap doubles from 4 MiB only costs it time (a 10,000-VIP
			// verify collected three times, and took 37 ms instead of 28),
			// while the memory limit above still bounds its peak. A watch
			// runs for months and keeps Go's default.
			debug.SetGCPercent(-1)
		}
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// longLived reports whether the command runs until it is stopped.
func longLived(args []string) bool { return len(args) > 0 && args[0] == "watch" }

// run is main without the process: testable, and it returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		writeUsage(stderr)
		return exitUsage
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "help": // rsprep help verify dr is rsprep verify dr --help
		if len(rest) > 0 {
			return run(append(rest, "--help"), stdout, stderr)
		}
		writeUsage(stdout)
		return exitOK
	case "-h", "--help":
		writeUsage(stdout)
		return exitOK
	case "--version":
		return runVersion(rest, stdout, stderr)
	}
	if c, ok := lookupCommand(cmd); ok {
		return c.run(rest, stdout, stderr)
	}
	if _, ok := modeDefs()[cmd]; ok {
		return runMode(actApply, cmd, rest, stdout, stderr)
	}
	fmt.Fprintf(stderr, "rsprep: %s\n", unknownCommand(cmd))
	return exitUsage
}

// runVersion is `rsprep version`.
func runVersion(args []string, stdout, stderr io.Writer) int {
	if len(args) == 1 && (args[0] == "-h" || args[0] == "--help") {
		c, _ := lookupCommand("version")
		c.writeHelp(stdout, nil, "")
		return exitOK
	}
	if len(args) > 0 {
		fmt.Fprintf(stderr, "rsprep: version takes no arguments, got %q\n", args[0])
		return exitUsage
	}
	bi, _ := debug.ReadBuildInfo()
	fmt.Fprintln(stdout, "rsprep", versionString(version, bi))
	return exitOK
}

// versionString is the version set at build time, else the module's
// version, else (a source build: go build in a checkout) the VCS revision
// Go embeds, marked -dirty when the tree had changes; then the Go version.
func versionString(set string, bi *debug.BuildInfo) string {
	v := set
	if v == "" && bi != nil && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		v = bi.Main.Version
	}
	if v == "" && bi != nil {
		v = vcsRevision(bi)
	}
	if v == "" {
		v = "(devel, no VCS revision embedded: built with -buildvcs=false, in a git worktree or outside a checkout)"
	}
	return v + " " + runtime.Version()
}

// vcsRevision is "git-0123456789ab[-dirty]" from the build's VCS settings,
// or "" when Go embedded none (go build -buildvcs=false, or no checkout).
func vcsRevision(bi *debug.BuildInfo) string {
	var rev, dirty string
	for _, s := range bi.Settings {
		switch {
		case s.Key == "vcs.revision":
			rev = s.Value
		case s.Key == "vcs.modified" && s.Value == "true":
			dirty = "-dirty"
		}
	}
	if rev == "" {
		return ""
	}
	return "git-" + rev[:min(12, len(rev))] + dirty
}

// action is what a mode command does.
type action string

const (
	actApply   action = "apply"
	actVerify  action = "verify"
	actDown    action = "down"
	actDrain   action = "drain"
	actUndrain action = "undrain"
)

// parseFlags parses args into fs, printing help and mapping errors to
// exit codes; done reports that run should return code.
func parseFlags(fs *pflag.FlagSet, args []string, stdout, stderr io.Writer) (code int, done bool) {
	fs.SetOutput(io.Discard)
	err := parseOnce(fs, args)
	if errors.Is(err, pflag.ErrHelp) {
		fs.SetOutput(stdout)
		fs.Usage()
		return exitOK, true
	}
	if err != nil {
		fmt.Fprintf(stderr, "rsprep: %v (see 'rsprep %s --help')\n", err, fs.Name())
		return exitUsage, true
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "rsprep: unexpected argument %q (see 'rsprep %s --help')\n", fs.Arg(0), fs.Name())
		return exitUsage, true
	}
	return 0, false
}
