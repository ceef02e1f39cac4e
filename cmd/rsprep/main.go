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
	"strings"

	"github.com/spf13/pflag"
)

// Exit codes, as in the spec.
const (
	exitOK    = 0 // success, every invariant holds
	exitDrift = 1 // drift found, or apply could not reach the desired state
	exitUsage = 2 // bad input or usage; nothing was changed
	exitHost  = 3 // the host could not be read or written
)

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

const usage = `rsprep prepares this host to be an LVS/IPVS real server, keeps it so, and proves it.

Usage:
  rsprep dr|tun|nat [flags]           apply (idempotent: a second run changes nothing)
  rsprep verify dr|tun|nat [flags]    audit every invariant; exit 0 = all hold, 1 = drift
  rsprep down dr|tun|nat [flags]      undo what rsprep did, and only that
  rsprep apply|verify|down [--config FILE]
                                      the same, with the mode and its flags from FILE
                                      (default /etc/rsprep/rsprep.conf); the file is the
                                      whole state: apply also undoes what rsprep owns that
                                      it does not declare, down undoes all rsprep owns
  rsprep down --all [--netns NAME]    undo everything rsprep owns in the namespace, any mode
  rsprep install dr|tun|nat [flags]   write that config and rsprep.service, enable it for boot
  rsprep uninstall                    stop, disable and remove them
  rsprep watch MODE [flags] | watch [--config FILE]
                                      apply, then keep every invariant true (events, resync, damped)
  rsprep status [-o json]             what rsprep owns in this namespace (read-only)
  rsprep doctor [MODE [flags]]        read-only: what on this host will undo it (file:line, unit, process)
  rsprep probe --rip RIP --vip VIP:PORT  from the director: does VIP:PORT answer through each real server?
  rsprep drain dr|tun --dip DIP [flags] | drain [--config FILE]
                                      fail the director's probe of this host, wait until its
                                      connections have ended; undrain reverses it, down ends it
  rsprep undrain dr|tun [flags] | undrain [--config FILE]
                                      put a drained real server back in the director's rotation
  rsprep version

Examples:
  rsprep dr --vip 192.168.79.180
  rsprep verify dr --vip 192.168.79.180 -o json
  rsprep down dr --vip 192.168.79.180
  rsprep install dr --vip 192.168.79.180
  rsprep verify -o prometheus

The command line adds (two applies give the union); a config file declares
the whole state. verify reports what rsprep owns beyond what it is given
as drift (own.undeclared).

Exit codes: 0 ok · 1 drift / not converged / down without a record · 2 bad input (nothing changed) · 3 host not readable/writable.
Run 'rsprep MODE --help' for a mode's flags.
`

// run is main without the process: testable, and it returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return exitOK
	case "version", "--version":
		fmt.Fprintln(stdout, "rsprep", versionString())
		return exitOK
	case "verify", "down", "drain", "undrain":
		if cmd == "down" && wantsAll(rest) {
			return runDownAll(rest, stdout, stderr)
		}
		if len(rest) == 0 || strings.HasPrefix(rest[0], "-") {
			if len(rest) > 0 && (rest[0] == "-h" || rest[0] == "--help") {
				fmt.Fprint(stdout, usage)
				return exitOK
			}
			return runFromConfig(action(cmd), rest, stdout, stderr) // the mode comes from the config file
		}
		return runMode(action(cmd), rest[0], rest[1:], stdout, stderr)
	case "apply":
		if len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
			return runMode(actApply, rest[0], rest[1:], stdout, stderr)
		}
		return runFromConfig(actApply, rest, stdout, stderr)
	case "install":
		return runInstall(rest, stdout, stderr)
	case "uninstall":
		return runUninstall(rest, stdout, stderr)
	case "watch":
		return runWatch(rest, stdout, stderr)
	case "status":
		return runStatus(rest, stdout, stderr)
	case "doctor":
		return runDoctor(rest, stdout, stderr)
	case "probe":
		return runProbe(rest, stdout, stderr)
	case "man", "completion": // hidden: for packaging (see manpage.go, completion.go)
		return runGenerate(cmd, rest, stdout, stderr)
	}
	return runMode(actApply, cmd, rest, stdout, stderr)
}

func versionString() string {
	v := version
	if v == "" {
		v = "(devel)"
		if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
			v = bi.Main.Version
		}
	}
	return v + " " + runtime.Version()
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
		if c, ok := stdout.(flagCollector); ok {
			c.collect(fs) // rsprep man and completion read the flags from here
		}
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
