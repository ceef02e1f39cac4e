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

const doctorUsage = `rsprep doctor — read-only: what on this host will undo the real-server state

Usage:
  rsprep doctor dr|tun|nat [mode flags] [--root DIR] [-o text|json] [--netns NAME]
  rsprep doctor [--config FILE] [--root DIR] [-o text|json] [--netns NAME]

Without a mode, the mode and its flags come from FILE (default
/etc/rsprep/rsprep.conf, under --root when given).

--root DIR reads configuration files (sysctl.d, systemd-networkd,
NetworkManager, ifupdown, cloud-init, netplan, the wants links that enable
networkd, NetworkManager and the boot unit) under DIR instead of /.
Interfaces, live sysctl values and running processes still come from this
host (or --netns): without an interface on the DIP's subnet, NAT's uplink
checks cannot run, and doctor says so (uplink.unknown).

Examples:
  rsprep doctor dr --vip 192.168.79.180
  rsprep doctor --root /srv/image -o json

Exit codes: 0 no risk found · 1 risks found (a file that cannot be read or
parsed is one) · 2 bad input · 3 the host cannot be read.
`

// runDoctor is `rsprep doctor`: it builds the mode as apply would (the
// same mode definitions and config file), gathers the live facts, and
// lets systemd/doctor read the files.
func runDoctor(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
		fmt.Fprint(stdout, doctorUsage)
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
	fs := pflag.NewFlagSet("doctor "+name, pflag.ContinueOnError)
	fs.SortFlags = false
	def.flags(fs, &o)
	configPath := addConfigFlag(fs)
	root := fs.String("root", "/", "read configuration files under this directory instead of / (an image; interfaces, live sysctls and processes still come from this host)")
	fs.StringVarP(&o.output, "output", "o", "text", "output format: text or json")
	fs.StringVar(&o.netns, "netns", "", "look at the named network namespace's interfaces and sysctls (ip netns add NAME)")
	fs.Usage = func() { fmt.Fprint(fs.Output(), doctorUsage+"\nFlags:\n"+fs.FlagUsages()) }
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
	if o.output == "json" {
		err = doctor.WriteJSON(stdout, rep)
	} else {
		err = doctor.WriteText(stdout, rep)
	}
	if err != nil {
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
