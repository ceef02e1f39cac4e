package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
	"github.com/spf13/pflag"

	"github.com/rsprep/rsprep/realserver"
	"github.com/rsprep/rsprep/realserver/input"
	"github.com/rsprep/rsprep/realserver/persist/atomicfile"
	"github.com/rsprep/rsprep/realserver/watch"
)

// watchOptions are watch's own flags, beside the mode's.
type watchOptions struct {
	resync     time.Duration
	maxRepairs int
	window     time.Duration
	onDrift    string
	textfile   string
}

// runWatch is `rsprep watch MODE [flags]` or `rsprep watch [--config FILE]`:
// apply once, then keep every invariant true until SIGTERM.
func runWatch(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
		fs, _ := watchFlagSet("", modeDef{}, &options{}, &watchOptions{})
		fs.SetOutput(stdout)
		fs.Usage()
		return exitOK
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "rsprep: %s\n", oneLine(err))
		return exitCode(err)
	}
	name, args, err := watchModeName(args)
	if err != nil {
		return fail(err)
	}
	def, ok := modeDefs()[name]
	if !ok {
		fmt.Fprintf(stderr, "rsprep: watch: unknown mode %q (want one of %s)\n", name, strings.Join(modeNames(), ", "))
		return exitUsage
	}
	var o options
	var wo watchOptions
	fs, configPath := watchFlagSet(name, def, &o, &wo)
	if code, done := parseFlags(fs, args, stdout, stderr); done {
		return code
	}
	if err := applyConfigFlag(fs, *configPath, name, def); err != nil {
		return fail(err)
	}
	if err := wo.validate(o.lockWait); err != nil {
		return fail(err)
	}
	mode, err := def.mode(&o)
	if err != nil {
		return fail(err)
	}
	if err := needNetAdmin(); err != nil {
		return fail(err)
	}
	log := newLogger(stderr, o.verbose)
	host, state, err := openNamespace(fs.Changed("netns"), o.netns, log)
	if err != nil {
		return fail(err)
	}
	defer host.Close()
	// Preflight as apply runs it (issue 17). The first apply takes the
	// lock again itself and observes afresh.
	_, unlock, err := state.BeginWrite(host, mode.Preflight, o.lockWait)
	if err != nil {
		return fail(err)
	}
	unlock()
	// Registered before the first apply: a SIGTERM during it waits for it
	// to finish (or roll back) instead of killing it half-way.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	defer signal.Stop(sigs)
	cfg := watch.Config{
		Host: host, State: state, Target: watch.Target{Name: name, Mode: mode}, Log: log,
		LockWait: o.lockWait, Signals: sigs,
		Notify: func(state string) { daemon.SdNotify(false, state) },
	}
	wo.configure(&cfg)
	if fs.Changed("config") {
		path := *configPath
		cfg.Reload = func() (watch.Target, error) { return loadTarget(path) }
		cfg.Declared = true
	}
	if err := watch.Run(cfg); err != nil {
		return fail(err)
	}
	return exitOK
}

// watchModeName is the mode watch keeps and the flags left: the first
// argument, or (none, or a flag first) the mode of the config file, whose
// --config is added when the default file is meant.
func watchModeName(args []string) (string, []string, error) {
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		return args[0], args[1:], nil
	}
	path, given := configPathArg(args)
	c, err := readModeConfig(path)
	if err != nil {
		return "", nil, err
	}
	if !given {
		args = append(append([]string(nil), args...), "--config", path)
	}
	return c.mode, args, nil
}

// configure sets what watch's own flags (and systemd's watchdog) decide.
func (wo watchOptions) configure(cfg *watch.Config) {
	cfg.Resync, cfg.MaxRepairs, cfg.RepairWindow = wo.resync, wo.maxRepairs, wo.window
	cfg.Report = wo.onDrift == "report"
	if wo.textfile != "" {
		cfg.Publish = func(s watch.Status) error { return writeTextfile(wo.textfile, s) }
	}
	if wd, err := daemon.SdWatchdogEnabled(false); err == nil {
		cfg.Watchdog = wd
	}
}

// watchCommand is watch's entry in the command table.
func watchCommand() commandDef {
	return commandDef{
		name: "watch",
		synopsis: []synopsisLine{
			{"watch dr|tun|nat [flags]", "apply, then keep every invariant true (events, resync, damped)"},
			{"watch [--config FILE] [flags]", "the same, with the mode and its flags from FILE"},
		},
		summary: "apply, then keep every invariant true until stopped",
		description: `It listens to the namespace's address, link, route, neighbour, rule and
netconf (rp_filter, forwarding) events, re-checks what an event can have
broken, re-checks everything every --resync (arp_ignore, arp_announce and
fou ports send no events), and repairs drift through the same
engine as apply. A check that something keeps undoing is left alone for
--repair-window after --max-repairs repairs (one error names the fight).
SIGTERM/SIGINT: exit 0, change nothing. SIGHUP: re-read --config. With
--config, the file is the whole state: the first apply and each SIGHUP's
also undo what rsprep owns here that it does not declare.
--textfile writes node_exporter's textfile (verify's gauges and watch's
own); run one producer per host: with watch, no verify timer.`,
		examples: []string{
			"rsprep watch --config /etc/rsprep/rsprep.conf --on-drift report",
			"rsprep watch dr --vip 192.168.79.180 --textfile /var/lib/prometheus/node-exporter/rsprep.prom",
		},
		modes: modeOptional,
		note:  globalNote,
		flags: func(mode string) *pflag.FlagSet {
			fs, _ := watchFlagSet(mode, modeDefs()[mode], &options{}, &watchOptions{})
			return fs
		},
		run: runWatch,
	}
}

// watchFlagSet is the flags of watch for mode name ("": from --config).
func watchFlagSet(name string, def modeDef, o *options, wo *watchOptions) (fs *pflag.FlagSet, configPath *string) {
	fs = pflag.NewFlagSet(strings.TrimSpace("watch "+name), pflag.ContinueOnError)
	fs.SortFlags = false
	if def.flags != nil {
		def.flags(fs, o)
	}
	addWatchFlags(fs, wo)
	fs.StringVar(&o.netns, "netns", "", "act inside the named network namespace (ip netns add NAME)")
	fs.DurationVar(&o.lockWait, "lock-wait", 10*time.Second, "how long each repair waits for another rsprep in the same namespace")
	fs.BoolVarP(&o.verbose, "verbose", "v", false, "log debug detail")
	setHelp(fs, "watch", name)
	return fs, addConfigFlag(fs)
}

// watchFlagNames are watch's own flags, which install --watch also takes
// (for the unit's ExecStart).
var watchFlagNames = []string{"resync", "on-drift", "max-repairs", "repair-window", "textfile"}

func addWatchFlags(fs *pflag.FlagSet, wo *watchOptions) {
	fs.DurationVar(&wo.resync, "resync", 30*time.Second, "re-check everything this often (arp_ignore and fou ports send no events); at least 1s")
	fs.StringVar(&wo.onDrift, "on-drift", "repair", "repair: make it true again; report: only log and count it")
	fs.IntVar(&wo.maxRepairs, "max-repairs", 5, "repairs of one check within --repair-window before watch stops fighting over it")
	fs.DurationVar(&wo.window, "repair-window", time.Minute, "the damping window: a fought-over check is tried again once it has passed")
	fs.StringVar(&wo.textfile, "textfile", "", "write node_exporter's textfile here (atomically) on every change and resync")
}

// validate rejects watch flags that cannot work, before anything changes.
func (wo watchOptions) validate(lockWait time.Duration) error {
	switch {
	case wo.resync < time.Second:
		return input.Errorf("--resync %v: want a duration of at least 1s, like 30s", wo.resync)
	case wo.maxRepairs < 1:
		return input.Errorf("--max-repairs %d: want 1 or more", wo.maxRepairs)
	case wo.window < time.Second:
		return input.Errorf("--repair-window %v: want a duration of at least 1s, like 1m", wo.window)
	case wo.onDrift != "repair" && wo.onDrift != "report":
		return input.Errorf("--on-drift %q: want repair or report", wo.onDrift)
	case lockWait < 0:
		return input.Errorf("--lock-wait %v: want a duration of 0 or more, like 10s", lockWait)
	}
	if wo.textfile != "" {
		dir := filepath.Dir(wo.textfile)
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			return input.Errorf("--textfile %s: directory %s does not exist", wo.textfile, dir)
		}
	}
	return nil
}

// loadTarget re-reads a config file for SIGHUP: the same checks as at
// start, on a fresh flag set.
func loadTarget(path string) (watch.Target, error) {
	c, err := readModeConfig(path)
	if err != nil {
		return watch.Target{}, err
	}
	def := modeDefs()[c.mode]
	var o options
	if err := c.applyTo(ownFlags(def, &o), def); err != nil {
		return watch.Target{}, err
	}
	mode, err := def.mode(&o)
	if err != nil {
		return watch.Target{}, err
	}
	return watch.Target{Name: c.mode, Mode: mode}, nil
}

// writeTextfile writes the status for node_exporter's textfile collector,
// atomically: the gauges verify -o prometheus prints, then the watcher's
// own series.
func writeTextfile(path string, s watch.Status) error {
	var b bytes.Buffer
	b.Grow(128 * len(s.Checks)) // a line per finding: no regrowth at 10,000 VIPs
	writePrometheus(&b, realserver.Result{Mode: s.Mode, Checks: s.Checks}, time.Now(), "watch")
	writeWatchMetrics(&b, s)
	return atomicfile.Write(path, b.Bytes(), 0o644)
}

// writeWatchMetrics writes the watcher's counters and fights, one series
// per check ID it knows.
func writeWatchMetrics(w io.Writer, s watch.Status) {
	ids := s.IDs()
	series := func(name, typ, help string, value func(id string) int) {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
		for _, id := range ids {
			fmt.Fprintf(w, "%s{check=%s} %d\n", name, promLabel(id), value(id))
		}
	}
	series("rsprep_repairs_total", "counter", "Repairs rsprep watch made, per check, since it started.", func(id string) int { return s.Repairs[id] })
	series("rsprep_drift_events_total", "counter", "Drifted findings rsprep watch saw (repaired or not), per check, since it started.", func(id string) int { return s.Drift[id] })
	series("rsprep_fight", "gauge", "Whether rsprep watch has stopped repairing a check that something keeps undoing (1) or not (0).", func(id string) int { return promBool(s.Fights[id]) })
	fmt.Fprint(w, "# HELP rsprep_last_resync_timestamp_seconds When rsprep watch last re-checked everything, in seconds since the epoch.\n# TYPE rsprep_last_resync_timestamp_seconds gauge\n")
	fmt.Fprintf(w, "rsprep_last_resync_timestamp_seconds %d\n", s.LastResync.Unix())
}
