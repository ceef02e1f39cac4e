package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"

	"github.com/rsprep/rsprep/realserver"
	"github.com/rsprep/rsprep/realserver/input"
	"github.com/rsprep/rsprep/systemd"
)

// installOptions are install's own flags, beside the mode's.
type installOptions struct {
	root    string
	bin     string
	before  []string
	verbose bool
	watch   bool // the rsprep watch unit instead of the oneshot apply
	wo      watchOptions
}

// runInstall is `rsprep install MODE [mode flags]`: it validates the
// desired state exactly as apply would, then writes it as the config file,
// writes rsprep.service (plus modules-load.d for tun) and enables it.
func runInstall(args []string, stdout, stderr io.Writer) int {
	if len(args) > 1 && args[0] == "--watch" { // install --watch MODE …
		args = append([]string{args[1], "--watch"}, args[2:]...)
	}
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			c, _ := lookupCommand("install")
			c.writeHelp(stdout, nil, "")
			return exitOK
		}
		fmt.Fprintln(stderr, "rsprep: install needs a mode: rsprep install dr|tun|nat [flags]")
		return exitUsage
	}
	name := args[0]
	def, ok := modeDefs()[name]
	if !ok {
		fmt.Fprintf(stderr, "rsprep: install: unknown mode %q (want one of %s)\n", name, strings.Join(modeNames(), ", "))
		return exitUsage
	}
	var o options
	var inst installOptions
	fs := installFlagSet(name, def, &o, &inst)
	if code, done := parseFlags(fs, args[1:], stdout, stderr); done {
		return code
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "rsprep: %s\n", oneLine(err))
		return exitCode(err)
	}
	mode, err := def.mode(&o)
	if err != nil {
		return fail(err)
	}
	spec := systemd.UnitSpec{Binary: inst.bin, Config: systemd.ConfigPath, Before: inst.before, Watch: inst.watch}
	spec.WatchFlags, err = installWatchFlags(fs, inst)
	if err == nil {
		err = spec.Validate()
	}
	if err != nil {
		return fail(err)
	}
	if err := checkRoot(inst.root); err != nil {
		return fail(err)
	}
	log := newLogger(stderr, inst.verbose)
	if _, err := os.Stat(filepath.Join(inst.root, inst.bin)); inst.root != "/" && err != nil {
		log.Warn("the unit runs a binary that is not in the root yet: put it there, or pass --bin", "bin", inst.bin, "root", inst.root)
	}
	files := installFiles(mode, configPairs(name, fs, def), spec)
	in := systemd.Installer{Root: inst.root, Log: log}
	if err := in.Install(context.Background(), files); err != nil {
		return fail(hostError(err))
	}
	return exitOK
}

func installFlagSet(name string, def modeDef, o *options, inst *installOptions) *pflag.FlagSet {
	fs := pflag.NewFlagSet("install "+name, pflag.ContinueOnError)
	fs.SortFlags = false
	def.flags(fs, o)
	fs.StringVar(&inst.root, "root", "/", "install into this directory (an image or chroot) instead of this host: write the files and the wants link, never ask systemd")
	fs.StringVar(&inst.bin, "bin", defaultBin(), "the rsprep binary the unit runs, as the target host sees it")
	fs.StringSliceVar(&inst.before, "before", nil, "units that listen on a VIP and so must start after rsprep (repeatable): written as Before= in the unit")
	fs.BoolVarP(&inst.verbose, "verbose", "v", false, "log debug detail")
	fs.BoolVar(&inst.watch, "watch", false, "write the rsprep watch unit (Type=notify: apply, then keep it true) instead of the oneshot apply")
	addWatchFlags(fs, &inst.wo)
	setHelp(fs, "install", name)
	return fs
}

// defaultBin is the running binary: the one the operator just used.
func defaultBin() string {
	p, err := os.Executable()
	if err != nil {
		return "/usr/sbin/rsprep"
	}
	if r, err := filepath.EvalSymlinks(p); err == nil {
		p = r
	}
	return p
}

// configPairs renders the mode's flags that were given as config entries,
// mode first, in the order the mode defines them, one line per list value.
func configPairs(name string, fs *pflag.FlagSet, def modeDef) [][2]string {
	pairs := [][2]string{{"mode", name}}
	ownFlags(def, &options{}).VisitAll(func(own *pflag.Flag) {
		f := fs.Lookup(own.Name)
		switch {
		case !f.Changed:
		case isList(f):
			for _, v := range f.Value.(pflag.SliceValue).GetSlice() {
				pairs = append(pairs, [2]string{f.Name, v})
			}
		case f.Value.Type() == "bool" && f.Value.String() == "true":
			pairs = append(pairs, [2]string{f.Name, "yes"})
		case f.Value.Type() == "bool":
			pairs = append(pairs, [2]string{f.Name, "no"})
		default:
			pairs = append(pairs, [2]string{f.Name, f.Value.String()})
		}
	})
	return pairs
}

// installFiles is every file install writes for one mode.
func installFiles(mode realserver.Mode, pairs [][2]string, spec systemd.UnitSpec) []systemd.File {
	files := []systemd.File{
		{Path: systemd.ConfigPath, Data: systemd.RenderConfig(systemd.ConfigPath, pairs), Perm: 0o644},
		{Path: systemd.UnitPath, Data: spec.Render(), Perm: 0o644},
	}
	// systemd-modules-load loads them before rsprep.service runs.
	if mods := mode.Modules(); len(mods) > 0 {
		files = append(files, systemd.File{Path: systemd.ModulesPath, Data: systemd.RenderModules(mods), Perm: 0o644})
	}
	return files
}

// runUninstall is `rsprep uninstall [--root DIR]`.
func runUninstall(args []string, stdout, stderr io.Writer) int {
	var root string
	var verbose bool
	fs := uninstallFlagSet(&root, &verbose)
	if code, done := parseFlags(fs, args, stdout, stderr); done {
		return code
	}
	err := checkRoot(root)
	if err == nil {
		in := systemd.Installer{Root: root, Log: newLogger(stderr, verbose)}
		err = hostError(in.Uninstall(context.Background()))
	}
	if err != nil {
		fmt.Fprintf(stderr, "rsprep: %s\n", oneLine(err))
		return exitCode(err)
	}
	return exitOK
}

func uninstallFlagSet(root *string, verbose *bool) *pflag.FlagSet {
	fs := pflag.NewFlagSet("uninstall", pflag.ContinueOnError)
	fs.StringVar(root, "root", "/", "uninstall from this directory (an image or chroot) instead of this host")
	fs.BoolVarP(verbose, "verbose", "v", false, "log debug detail")
	setHelp(fs, "uninstall", "")
	return fs
}

// installCommand and uninstallCommand are the table's entries.
func installCommand() commandDef {
	return commandDef{
		name: "install",
		synopsis: []synopsisLine{
			{"install dr|tun|nat [flags]", "write that config and rsprep.service, enable it for boot"},
			{"install dr|tun|nat --watch [flags]", "the same with the rsprep watch unit: apply, then keep it true"},
		},
		summary: "write the desired state as " + systemd.ConfigPath + " and the boot unit " + systemd.UnitPath + ", and enable it",
		description: "The flags are checked exactly as apply checks them, then written as the config file; the unit's ExecStart applies it at boot, its ExecStop runs down. " +
			"For tun, the tunnel modules go to " + systemd.ModulesPath + ". --watch writes the rsprep watch unit (Type=notify) instead of the oneshot; " +
			"with --textfile it replaces the audit timer as the host's one producer of node_exporter's textfile. --root writes into an image without asking systemd.",
		examples: []string{
			"rsprep install dr --vip 192.168.79.180 --before nginx.service",
			"rsprep install tun --watch --vip 192.168.79.180 --textfile /var/lib/prometheus/node-exporter/rsprep.prom",
		},
		modes: modeRequired,
		flags: func(mode string) *pflag.FlagSet {
			return installFlagSet(mode, modeDefs()[mode], &options{}, &installOptions{})
		},
		run: runInstall,
	}
}

func uninstallCommand() commandDef {
	return commandDef{
		name:     "uninstall",
		synopsis: []synopsisLine{{"uninstall [--root DIR]", "stop, disable and remove them"}},
		summary:  "stop " + systemd.UnitName + " if it runs (its ExecStop runs rsprep down), disable it, and remove it, " + systemd.ConfigPath + " and " + systemd.ModulesPath,
		flags: func(string) *pflag.FlagSet {
			var root string
			var verbose bool
			return uninstallFlagSet(&root, &verbose)
		},
		run: runUninstall,
	}
}

// checkRoot rejects a --root that is not a directory: bad input, before
// anything is written.
func checkRoot(root string) error {
	if fi, err := os.Stat(root); err != nil || !fi.IsDir() {
		return input.Errorf("--root %s is not a directory", root)
	}
	return nil
}

// installWatchFlags are the watch flags given to install --watch, checked
// as watch checks them, for the unit's ExecStart. The textfile's directory
// is on the target host, so only its path is checked here.
func installWatchFlags(fs *pflag.FlagSet, inst installOptions) ([]string, error) {
	var given []string
	for _, n := range watchFlagNames {
		if f := fs.Lookup(n); f.Changed {
			given = append(given, "--"+n, f.Value.String())
		}
	}
	if !inst.watch {
		if len(given) > 0 {
			return nil, input.Errorf("%s is a watch flag: add --watch", given[0])
		}
		return nil, nil
	}
	wo := inst.wo
	tf := wo.textfile
	wo.textfile = ""
	if err := wo.validate(0); err != nil {
		return nil, err
	}
	if tf != "" && (!filepath.IsAbs(tf) || filepath.Clean(tf) != tf) {
		return nil, input.Errorf("--textfile %q: want a clean absolute path", tf)
	}
	return given, nil
}
