package main

import (
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/spf13/pflag"
)

// runDownAll is `rsprep down --all [--netns NAME]`: undo everything rsprep
// owns in the namespace, of every mode, whatever any config declares now.
// It is the units' stop, so that a config edited before a stop cannot
// strand state.
func runDownAll(args []string, stdout, stderr io.Writer) int {
	r := &modeRun{act: actDown, name: "all", all: true, stdout: stdout, stderr: stderr}
	fs := downAllFlagSet(r)
	if code, done := parseFlags(fs, args, stdout, stderr); done {
		return code
	}
	r.netnsGiven = fs.Changed("netns")
	if !r.all {
		fmt.Fprintln(stderr, "rsprep: down --all=false: give a mode (rsprep down dr|tun|nat …) or --config instead")
		return exitUsage
	}
	if err := checkOutput(actDown, r.o.output); err != nil {
		return r.fail(err)
	}
	if err := r.open(); err != nil {
		return r.fail(err)
	}
	defer r.host.Close()
	return r.down()
}

// downAllFlagSet is the flags of down --all, into r.
func downAllFlagSet(r *modeRun) *pflag.FlagSet {
	fs := pflag.NewFlagSet("down --all", pflag.ContinueOnError)
	fs.SortFlags = false
	fs.BoolVar(&r.all, "all", true, "undo everything rsprep owns in the namespace, of every mode, whatever any config says")
	fs.BoolVar(&r.o.dryRun, "dry-run", false, "print the plan (the changes it would make) and change nothing")
	fs.StringVarP(&r.o.output, "output", "o", "text", "output format: text or json")
	fs.StringVar(&r.o.netns, "netns", "", "act inside the named network namespace (ip netns add NAME)")
	fs.DurationVar(&r.o.lockWait, "lock-wait", 10*time.Second, "how long to wait for another rsprep writing the same namespace")
	fs.BoolVarP(&r.o.verbose, "verbose", "v", false, "log debug detail")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "rsprep down --all — undo everything rsprep owns in this namespace\n\nUsage:\n  rsprep down --all [flags]\n\nExample:\n  rsprep down --all --netns lab\n\nFlags:\n%s", fs.FlagUsages())
	}
	return fs
}

// wantsAll reports whether down's arguments ask for --all.
func wantsAll(args []string) bool {
	return slices.ContainsFunc(args, func(a string) bool { return a == "--all" || a == "--all=true" })
}
