package main

import (
	"io"
	"strings"

	"github.com/spf13/pflag"
)

// modeCommand is the table entry of apply, verify or down.
func modeCommand(act action, synopsis []synopsisLine) commandDef {
	c := commandDef{
		name:     string(act),
		synopsis: synopsis,
		modes:    modeOptional,
		note:     globalNote,
		flags: func(mode string) *pflag.FlagSet {
			fs, _ := modeFlagSet(act, mode, &options{})
			return fs
		},
		run: func(args []string, stdout, stderr io.Writer) int { return runAction(act, args, stdout, stderr) },
	}
	const fromConfig = "Without a mode, the mode and its flags come from --config FILE (default /etc/rsprep/rsprep.conf, which rsprep install writes); with --config, a mode flag on the command line is an error. The command line adds (two applies give the union); a config file declares the whole state."
	switch act {
	case actApply:
		c.modeWords = true
		c.summary = "make this host a real server of the mode"
		c.description = "Checks every invariant, fixes each finding, and checks again: drift left over is exit 1. Sysctls go in before a VIP is bound. Idempotent: a second run changes nothing. A failure half-way rolls back what the run changed. " + fromConfig + " With --config, apply also undoes what rsprep owns here that the file does not declare."
		c.examples = []string{"rsprep dr --vip 192.168.79.180 --dry-run", "rsprep apply --config /etc/rsprep/rsprep.conf"}
	case actVerify:
		c.summary = "audit every invariant of the mode; changes nothing"
		c.description = "Reports every invariant and subject with what it wants, what it got and where that came from (text, json, or prometheus for node_exporter's textfile collector), and what rsprep owns here beyond what it is given as drift (own.undeclared). Works without root as far as the kernel allows reading. " + fromConfig
		c.examples = []string{"rsprep verify dr --vip 192.168.79.180 -o json", "rsprep verify -o prometheus"}
		c.exitCodes = "Exit codes: 0 every invariant holds · 1 drift · 2 bad input · 3 cannot read."
	case actDrain:
		c.summary = "take this real server out of the director's rotation without a failed request"
		c.description = "Fails exactly the director's rsprep probe of this host (a policy rule per VIP: what goes from the VIP to --dip, and --probe-from, over TCP has no route; clients are untouched), so keepalived with inhibit_on_failure sets its weight to 0; returns once no new connection has come for --quiet and none is open; --timeout bounds the wait (exit 1 naming what is open; the host stays drained). verify and status say drained; watch leaves it; down and undrain end it, and so does a reboot. For dr and tun, with --dip. " + fromConfig
		c.examples = []string{"rsprep drain --config /etc/rsprep/rsprep.conf --timeout 30m"}
		c.modeExampleArgs = "--dip 10.0.0.1"
	case actUndrain:
		c.summary = "put a drained real server back in the director's rotation"
		c.description = "Removes the rules drain added, so the director's probe succeeds again; on a host that is not drained it changes nothing. " + fromConfig
		c.examples = []string{"rsprep undrain --config /etc/rsprep/rsprep.conf"}
	case actDown:
		c.summary = "undo what rsprep did for the mode, and only that"
		c.description = "Removes the VIPs named (never a flush of lo), rsprep's pinned neighbour entries and its default route, and restores each sysctl and route rsprep replaced, if it still holds the value rsprep wrote (one changed since is left alone and reported). With --config it undoes all rsprep owns; down --all undoes everything rsprep owns in the namespace, of every mode, whatever any config says (the units' stop). " + fromConfig
		c.examples = []string{"rsprep down dr --vip 192.168.79.180", "rsprep down --config /etc/rsprep/rsprep.conf", "rsprep down --all --netns lab"}
		c.extra = func() []invocation {
			return []invocation{{[]string{"down", "--all"}, downAllFlagSet(&modeRun{})}}
		}
	}
	return c
}

// runAction is apply, verify or down: with a mode, or with the mode from
// the config file.
func runAction(act action, args []string, stdout, stderr io.Writer) int {
	if act == actDown && wantsAll(args) {
		return runDownAll(args, stdout, stderr)
	}
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		return runMode(act, args[0], args[1:], stdout, stderr)
	}
	return runFromConfig(act, args, stdout, stderr)
}
