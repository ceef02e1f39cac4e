package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/rsprep/rsprep/realserver"
	"github.com/rsprep/rsprep/realserver/input"
	"github.com/rsprep/rsprep/realserver/kernel"
	"github.com/rsprep/rsprep/realserver/persist"
	"github.com/rsprep/rsprep/systemd"
)

// runMode runs apply, verify or down for one mode: one setup that every
// action shares (parse the input, build the mode, open the namespace),
// then the action's own path (runverify.go, runchange.go).
func runMode(act action, name string, args []string, stdout, stderr io.Writer) int {
	r := &modeRun{act: act, name: name, stdout: stdout, stderr: stderr}
	if code, done := r.parse(args); done {
		return code
	}
	if err := r.build(); err != nil {
		return r.fail(err)
	}
	if err := r.open(); err != nil {
		return r.fail(err)
	}
	defer r.host.Close()
	switch act {
	case actVerify:
		return r.verify()
	case actDown:
		return r.down()
	case actDrain:
		return r.drain()
	case actUndrain:
		return r.undrain()
	}
	return r.apply()
}

// modeRun is one run of a mode command, as the setup leaves it.
type modeRun struct {
	act            action
	name           string
	stdout, stderr io.Writer

	def        modeDef
	o          options
	netnsGiven bool
	fromConfig bool            // --config: the file declares the whole state (see declared)
	all        bool            // down --all: undo everything rsprep owns here
	mode       realserver.Mode // validated; for down, its ForDown; nil for down --all
	log        *slog.Logger
	host       *kernel.Host
	state      realserver.State
}

// parse reads the flags, and the config file --config names, into r.o.
// done reports that runMode should return code (help, or bad input).
func (r *modeRun) parse(args []string) (code int, done bool) {
	def, ok := modeDefs()[r.name]
	if !ok {
		fmt.Fprintf(r.stderr, "rsprep: %s: unknown mode %q (want %s; see 'rsprep %s --help')\n", r.act, r.name, strings.Join(modeNames(), ", "), r.act)
		return exitUsage, true
	}
	r.def = def
	fs, configPath := modeFlagSet(r.act, r.name, &r.o)
	if code, done := parseFlags(fs, args, r.stdout, r.stderr); done {
		return code, true
	}
	r.netnsGiven = fs.Changed("netns")
	r.fromConfig = fs.Changed("config")
	err := applyConfigFlag(fs, *configPath, r.name, def)
	if err == nil {
		err = checkOutput(r.act, r.o.output)
	}
	if err == nil && r.o.lockWait < 0 {
		err = input.Errorf("--lock-wait %v: want a duration of 0 or more, like 10s", r.o.lockWait)
	}
	if err != nil {
		return r.fail(err), true
	}
	return 0, false
}

// build makes the mode from the flags and validates it whole, for down
// too (a unit's stop command repeats its start command's flags); down then
// runs the mode as the mode says down runs it.
func (r *modeRun) build() error {
	mode, err := r.def.mode(&r.o)
	if err != nil {
		return err
	}
	if r.act == actDown {
		mode = mode.ForDown()
	}
	r.mode = mode
	return nil
}

// open refuses a change without CAP_NET_ADMIN, before anything is read,
// then opens the namespace the run acts in.
func (r *modeRun) open() error {
	r.log = newLogger(r.stderr, r.o.verbose)
	if r.act != actVerify && !r.o.dryRun {
		if err := needNetAdmin(); err != nil {
			return err
		}
	}
	var err error
	r.host, r.state, err = openNamespace(r.netnsGiven, r.o.netns, r.log)
	if err == nil && r.mode != nil {
		r.host.ExpectAddrs(len(r.mode.VIPList()) + 8) // the VIPs, lo's own and a few more
	}
	return err
}

// fail prints err as rsprep's one-line error and returns its exit code.
func (r *modeRun) fail(err error) int {
	fmt.Fprintf(r.stderr, "rsprep: %s\n", oneLine(err))
	return exitCode(err)
}

func stateDir() string {
	if d := os.Getenv("RSPREP_STATE_DIR"); d != "" {
		return d
	}
	return persist.DefaultStateDir
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
	var in *input.Error
	var nc *realserver.NotConvergedError
	var sig realserver.SignalError
	var ur *realserver.UnrecordedError
	switch {
	case errors.As(err, &in):
		return exitUsage
	case errors.As(err, &sig):
		return sig.ExitCode()
	case errors.As(err, &nc), errors.As(err, &ur):
		return exitDrift
	}
	return exitHost
}

// oneLine keeps an error to one line, as the spec asks.
func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}
