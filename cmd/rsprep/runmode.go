package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/rsprep/rsprep/realserver"
	"github.com/rsprep/rsprep/systemd"
)

// runMode runs apply, verify or down for one mode.
func runMode(act action, name string, args []string, stdout, stderr io.Writer) int {
	def, ok := modeDefs()[name]
	if !ok {
		fmt.Fprintf(stderr, "rsprep: unknown command or mode %q (want dr, tun, nat, verify, down, version; see 'rsprep --help')\n", name)
		return exitUsage
	}
	var o options
	fs := newFlagSet(act, name, def, &o)
	configPath := addConfigFlag(fs)
	if code, done := parseFlags(fs, args, stdout, stderr); done {
		return code
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "rsprep: %s\n", oneLine(err))
		return exitCode(err)
	}
	if err := applyConfigFlag(fs, *configPath, name, def); err != nil {
		return fail(err)
	}
	if err := checkOutput(act, o.output); err != nil {
		return fail(err)
	}
	if o.lockWait < 0 {
		return fail(realserver.Inputf("--lock-wait %v: want a duration of 0 or more, like 10s", o.lockWait))
	}
	mode, err := def.build(&o)
	if err == nil {
		err = mode.Validate()
	}
	if err != nil {
		return fail(err)
	}
	log := newLogger(stderr, o.verbose)

	if act != actVerify && !o.dryRun {
		if err := needNetAdmin(); err != nil {
			return fail(err)
		}
	}
	host, state, err := openNamespace(fs.Changed("netns"), o.netns, log)
	if err != nil {
		return fail(err)
	}
	defer host.Close()
	if act == actVerify {
		var found []realserver.Finding
		unlock, err := asReader(state, o.lockWait, func() error {
			// One observation serves preflight and verify: one dump per kind.
			view, err := realserver.Observe(host, realserver.RecordOnUse(readRecord))
			if err != nil {
				return err
			}
			if err := mode.Preflight(view); err != nil {
				return err
			}
			found, err = view.Verify(mode.Invariants())
			return err
		})
		if unlock != nil {
			defer unlock()
		}
		if err != nil {
			return fail(err)
		}
		res := realserver.Result{Mode: name, OK: realserver.AllOK(found), Checks: found}
		if err := writeResult(stdout, o.output, act, res, false); err != nil {
			return fail(err)
		}
		if !res.OK {
			return exitDrift
		}
		return exitOK
	}

	// One observation serves preflight and the run: a dry run takes it as
	// a reader; a writer before the lock, and again under it only if
	// another rsprep wrote in between (see State.BeginWrite).
	var view *realserver.View
	var unlock func()
	if o.dryRun {
		unlock, err = asReader(state, o.lockWait, func() (err error) {
			if view, err = state.Observe(host); err == nil {
				err = mode.Preflight(view)
			}
			return err
		})
	} else {
		view, unlock, err = state.BeginWrite(host, mode.Preflight, o.lockWait)
	}
	if err != nil {
		return fail(err)
	}
	if unlock != nil {
		defer unlock()
	}
	eng, err := realserver.NewEngine(view, name, log)
	if err != nil {
		return fail(err)
	}
	if o.dryRun {
		eng.Record = eng.Record.Clone()
	}
	var res realserver.Result
	if act == actDown {
		res, err = eng.Down(mode.VIPList(), o.dryRun)
		for _, n := range res.Notes {
			log.Warn(n)
		}
	} else {
		res, err = eng.Apply(mode.Invariants(), o.dryRun)
		logFailing(log, name, err)
	}
	if werr := writeResult(stdout, o.output, act, res, o.dryRun); werr != nil && err == nil {
		err = werr
	}
	if err != nil {
		return fail(err)
	}
	return exitOK
}

// readRecord is this namespace's record for verify, which reads it only
// when a check asks for it, to suggest fixes that depend on a value rsprep
// replaced (NAT's keep-routes). Verify runs without root, where the record
// is unreadable: then it checks without it.
func readRecord() *realserver.Record {
	netns, err := realserver.CurrentNetns()
	if err != nil {
		return nil
	}
	rec, err := realserver.State{Dir: stateDir(), Netns: netns}.Load()
	if err != nil {
		return nil
	}
	return rec
}

func stateDir() string {
	if d := os.Getenv("RSPREP_STATE_DIR"); d != "" {
		return d
	}
	return realserver.DefaultStateDir
}

func newLogger(w io.Writer, verbose bool) *slog.Logger {
	level := slog.LevelInfo
	if verbose {
		level = slog.LevelDebug
	}
	if w == os.Stderr && systemd.StderrIsJournal() {
		return slog.New(&systemd.JournalHandler{Level: level, Fallback: w})
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{
		Level: level,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey && len(groups) == 0 {
				return slog.Attr{} // the journal and the terminal have their own clocks
			}
			return a
		},
	}))
}

// exitCode maps an error to the spec's exit codes.
func exitCode(err error) int {
	var in *realserver.InputError
	var nc *realserver.NotConvergedError
	switch {
	case errors.As(err, &in):
		return exitUsage
	case errors.As(err, &nc):
		return exitDrift
	}
	return exitHost
}

// oneLine keeps an error to one line, as the spec asks.
func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}
