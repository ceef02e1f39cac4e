package main

import (
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/pflag"

	"github.com/rsprep/rsprep/realserver/input"
	"github.com/rsprep/rsprep/systemd"
	"github.com/rsprep/rsprep/systemd/doctor"
)

// doctorCommand is doctor's entry in the command table.
func doctorCommand() commandDef {
	return commandDef{
		name: "doctor",
		synopsis: []synopsisLine{
			{"doctor dr|tun|nat [flags]", "read-only: what on this host will undo it (file:line, unit, process)"},
			{"doctor [--config FILE] [--root DIR] [flags]", "the same, with the mode and its flags from FILE"},
		},
		summary: "read-only: what on this host will undo the real-server state",
		description: `Without a mode, the mode and its flags come from FILE (default
/etc/rsprep/rsprep.conf, under --root when given).
--root DIR reads configuration files (sysctl.d, systemd-networkd,
NetworkManager, ifupdown, cloud-init, netplan, the wants links that enable
networkd, NetworkManager and the boot unit) under DIR instead of /.
Interfaces, live sysctl values and running processes still come from this
host (or --netns): without an interface on the DIP's subnet, NAT's uplink
checks cannot run, and doctor says so (uplink.unknown).`,
		examples: []string{"rsprep doctor dr --vip 192.168.79.180", "rsprep doctor --root /srv/image -o json"},
		exitCodes: `Exit codes: 0 no risk found · 1 risks found (a file that cannot be read or
parsed is one) · 2 bad input · 3 the host cannot be read.`,
		modes: modeOptional,
		flags: func(mode string) *pflag.FlagSet {
			fs, _, _ := doctorFlagSet(mode, &options{})
			return fs
		},
		run: runDoctor,
	}
}

// doctorFlagSet is doctor's flags for mode name ("": from --config).
func doctorFlagSet(name string, o *options) (fs *pflag.FlagSet, configPath, root *string) {
	fs = pflag.NewFlagSet(strings.TrimSpace("doctor "+name), pflag.ContinueOnError)
	fs.SortFlags = false
	if def, ok := modeDefs()[name]; ok {
		def.flags(fs, o)
	}
	configPath = addConfigFlag(fs)
	root = fs.String("root", "/", "read configuration files under this directory instead of / (an image; interfaces, live sysctls and processes still come from this host)")
	fs.StringVarP(&o.output, "output", "o", "text", "output format: text or json")
	fs.StringVar(&o.netns, "netns", "", "look at the named network namespace's interfaces and sysctls (ip netns add NAME)")
	setHelp(fs, "doctor", name)
	return fs, configPath, root
}

// runDoctor is `rsprep doctor`: it builds the mode as apply would (the
// same mode definitions and config file), gathers the live facts, and
// lets systemd/doctor read the files.
func runDoctor(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
		fs, _, _ := doctorFlagSet("", &options{})
		fs.SetOutput(stdout)
		fs.Usage()
		return exitOK
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "rsprep: %s\n", oneLine(err))
		return exitCode(err)
	}
	name, rest := "", args
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, rest = args[0], args[1:]
	} else {
		// The mode comes from the config file: under --root when given.
		path, given := configPathArg(args)
		if !given {
			path = filepath.Join(rootArg(args), systemd.ConfigPath)
			rest = append(slices.Clone(args), "--config", path)
		}
		c, err := readModeConfig(path)
		if err != nil {
			return fail(err)
		}
		name = c.mode
	}
	def, ok := modeDefs()[name]
	if !ok {
		return fail(input.Errorf("doctor: unknown mode %q (want one of %s)", name, strings.Join(modeNames(), ", ")))
	}
	var o options
	fs, configPath, root := doctorFlagSet(name, &o)
	if code, done := parseFlags(fs, rest, stdout, stderr); done {
		return code
	}
	if err := applyConfigFlag(fs, *configPath, name, def); err != nil {
		return fail(err)
	}
	if o.output != "text" && o.output != "json" {
		return fail(input.Errorf("-o %q: doctor writes text or json", o.output))
	}
	mode, err := def.mode(&o)
	if err != nil {
		return fail(err)
	}
	if fs.Changed("netns") {
		if err := enterNetns(o.netns); err != nil {
			return fail(err)
		}
	}
	fp := mode.Footprint()
	facts, err := liveFacts(fp)
	if err != nil {
		return fail(err)
	}
	rep, err := doctor.Run(doctor.Input{Mode: name, Footprint: fp, Root: *root, Facts: facts})
	if err != nil {
		return fail(err)
	}
	if err := writeDoctor(stdout, o.output, rep); err != nil {
		return fail(err)
	}
	if !rep.OK {
		return exitDrift
	}
	return exitOK
}

// rootArg finds --root in args before they are parsed, for the default
// config path under it.
func rootArg(args []string) string {
	for i, a := range args {
		switch {
		case a == "--":
			return "/"
		case a == "--root" && i+1 < len(args):
			return args[i+1]
		case strings.HasPrefix(a, "--root="):
			return strings.TrimPrefix(a, "--root=")
		}
	}
	return "/"
}
