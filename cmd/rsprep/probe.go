package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/syslog"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/rsprep/rsprep/realserver/input"
	"github.com/rsprep/rsprep/realserver/probe"
)

// probeCommand is probe's entry in the command table.
func probeCommand() commandDef {
	return commandDef{
		name:     "probe",
		synopsis: []synopsisLine{{"probe --rip RIP --vip VIP:PORT [flags]", "from the director: does VIP:PORT answer through each real server?"}},
		summary:  "prove the VIP data path of each real server from the director",
		description: `Sends each real server the TCP SYN that IPVS would forward to it (dr: a frame
to its MAC with dst=VIP; ipip/gue/gre: encapsulated to the RIP) and waits for
the answer straight from VIP:port: SYN-ACK = open (answered with RST, so no
half-open connection stays), RST = closed, ICMP error = unreachable, nothing
within the timeout = lost. All real servers are probed at once.`,
		examples: []string{
			"rsprep probe --rip 10.0.0.11,10.0.0.12 --vip 192.168.79.180:80",
			"rsprep probe --rip 10.0.0.11 --vip 192.168.79.180:80 --encap ipip -o prometheus",
			"rsprep probe --rip 2001:db8::11 --vip [2001:db8::180]:443 --encap gue --encap-port 6080",
		},
		exitCodes: `Exit codes: 0 every real server open · 1 any closed, unreachable or lost ·
2 bad input · 3 cannot send (needs CAP_NET_RAW). With --error-exit N, a
probe that could not run (2 or 3) exits N instead and says why on syslog
too: a health checker such as keepalived drops a check's stderr. As
keepalived's MISC_CHECK with misc_dynamic, N = the real server's weight + 2
keeps the weight while the probe cannot tell (see rsprep(8), MAINTENANCE).`,
		flags: func(string) *pflag.FlagSet { return probeFlagSet(&probeOptions{}) },
		run:   runProbe,
	}
}

type probeOptions struct {
	rips, vips []string
	encap      string
	port       uint16
	underlay   string
	count      int
	timeout    time.Duration
	iface      string
	output     string
	netns      string
	verbose    bool
}

// runProbe is `rsprep probe`.
func runProbe(args []string, stdout, stderr io.Writer) int {
	var o probeOptions
	fs := probeFlagSet(&o)
	errExit, err := errorExitArg(args)
	if err != nil {
		fmt.Fprintf(stderr, "rsprep: %s\n", oneLine(err))
		return exitUsage
	}
	var said bytes.Buffer // what a probe that could not run said, for syslog
	if errExit != 0 {
		stderr = io.MultiWriter(stderr, &said)
	}
	cannotRun := func(code int) int {
		if errExit == 0 || code == exitOK {
			return code
		}
		logCannotRun(said.String(), errExit)
		return errExit
	}
	if code, done := parseFlags(fs, args, stdout, stderr); done {
		return cannotRun(code)
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "rsprep: %s\n", oneLine(err))
		var in *probe.InputError
		if errors.As(err, &in) {
			return cannotRun(exitUsage)
		}
		return cannotRun(exitCode(err))
	}
	cfg, err := o.config(fs)
	if err == nil {
		err = cfg.Validate()
	}
	if err != nil {
		return fail(err)
	}
	if fs.Changed("netns") {
		if err := enterNetns(o.netns); err != nil {
			return fail(err)
		}
	}
	cfg.Log = newLogger(stderr, o.verbose)
	results, err := probe.Run(cfg)
	if err != nil {
		return fail(err)
	}
	if err := writeProbe(stdout, o.output, results); err != nil {
		return fail(err)
	}
	for _, r := range results {
		if r.State != probe.Open {
			return exitDrift
		}
	}
	return exitOK
}

func probeFlagSet(o *probeOptions) *pflag.FlagSet {
	fs := pflag.NewFlagSet("probe", pflag.ContinueOnError)
	fs.SortFlags = false
	fs.StringSliceVar(&o.rips, "rip", nil, "real server address (repeatable, comma-separated)")
	fs.StringSliceVar(&o.vips, "vip", nil, "virtual service as VIP:PORT, IPv6 as [VIP]:PORT (repeatable, comma-separated)")
	fs.StringVar(&o.encap, "encap", "dr", "how the director forwards: dr, ipip, gue or gre")
	fs.Uint16Var(&o.port, "encap-port", 0, "the real servers' fou port (--encap gue)")
	fs.StringVar(&o.underlay, "underlay", "", "family of the RIPs: ipv4 or ipv6 (checked; the RIPs decide)")
	fs.IntVar(&o.count, "count", 1, "probes per real server (one SYN-ACK is enough for open)")
	fs.DurationVar(&o.timeout, "timeout", time.Second, "how long to wait for answers, per round of probes")
	fs.StringVar(&o.iface, "interface", "", "send (dr) and listen only on this interface")
	fs.StringVarP(&o.output, "output", "o", "text", "output format: text, json or prometheus (node_exporter textfile)")
	fs.StringVar(&o.netns, "netns", "", "probe from inside the named network namespace")
	fs.BoolVarP(&o.verbose, "verbose", "v", false, "log debug detail (the capture socket's counters)")
	fs.Int("error-exit", 0, "exit with this code (2 to 255) instead of 2 or 3 when the probe could not run, and log why to syslog: for keepalived's misc_dynamic, the real server's weight + 2")
	setHelp(fs, "probe", "")
	return fs
}

// config turns the flags into a probe.Config; bad input is an InputError.
func (o *probeOptions) config(fs *pflag.FlagSet) (probe.Config, error) {
	c := probe.Config{Encap: probe.Encap(o.encap), Port: o.port, Underlay: o.underlay,
		Count: o.count, Timeout: o.timeout, Interface: o.iface}
	switch o.output {
	case "text", "json", "prometheus":
	default:
		return c, input.Errorf("--output %q: want text, json or prometheus", o.output)
	}
	if fs.Changed("encap-port") && o.port == 0 {
		return c, input.Errorf("--encap-port 0: want the real servers' fou port, 1 to 65535")
	}
	if fs.Changed("interface") && o.iface == "" {
		return c, input.Errorf("--interface \"\": name an interface or leave the flag out")
	}
	seen := map[netip.Addr]bool{}
	for _, s := range o.rips {
		ip, err := netip.ParseAddr(strings.TrimSpace(s))
		if err != nil {
			return c, input.Errorf("--rip %q is not an IP address", s)
		}
		if err := input.CheckUnicast("RIP", ip); err != nil {
			return c, err
		}
		if !seen[ip] {
			seen[ip] = true
			c.RIPs = append(c.RIPs, ip)
		}
	}
	for _, s := range o.vips {
		vip, err := parseVIPPort(strings.TrimSpace(s))
		if err != nil {
			return c, err
		}
		c.VIPs = append(c.VIPs, vip)
	}
	if len(c.RIPs) == 0 {
		return c, input.Errorf("give the real servers with --rip RIP[,RIP…]")
	}
	if len(c.VIPs) == 0 {
		return c, input.Errorf("give the virtual service with --vip VIP:PORT, e.g. --vip 192.168.79.180:80")
	}
	return c, nil
}

// parseVIPPort reads 192.168.79.180:80 or [2001:db8::180]:80.
func parseVIPPort(s string) (netip.AddrPort, error) {
	ap, err := netip.ParseAddrPort(s)
	if err != nil {
		if _, addrErr := netip.ParseAddr(strings.Trim(s, "[]")); addrErr == nil {
			return ap, input.Errorf("--vip %s has no port: give VIP:PORT, e.g. 192.168.79.180:80 or [2001:db8::180]:80", s)
		}
		return ap, input.Errorf("--vip %q: want VIP:PORT, e.g. 192.168.79.180:80 or [2001:db8::180]:80", s)
	}
	if ap.Port() == 0 {
		return ap, input.Errorf("--vip %s: port 0 is no service port", s)
	}
	if err := input.CheckUnicast("VIP", ap.Addr()); err != nil {
		return ap, err
	}
	return ap, nil
}

// errorExitArg reads --error-exit from args before they are parsed: a
// probe whose other flags cannot be parsed must exit with it too.
func errorExitArg(args []string) (int, error) {
	val, given := "", false
	for i, a := range args {
		switch {
		case a == "--":
			return 0, nil
		case a == "--error-exit" && i+1 < len(args):
			val, given = args[i+1], true
		case strings.HasPrefix(a, "--error-exit="):
			val, given = strings.TrimPrefix(a, "--error-exit="), true
		}
	}
	if !given {
		return 0, nil
	}
	n, err := strconv.Atoi(val)
	if err != nil || n < 2 || n > 255 {
		return 0, input.Errorf("--error-exit %q: want an exit code from 2 to 255 (0 and 1 are the probe's verdicts)", val)
	}
	return n, nil
}

// logCannotRun says on syslog why a probe run as a health check could not
// run, and what exit code the checker got instead: keepalived sends a
// check's stdout and stderr to /dev/null, while journald files a syslog
// line from its check under keepalived's own unit (journalctl -u
// keepalived). Without a syslog socket, stderr has said it already.
func logCannotRun(said string, code int) {
	w, err := syslog.New(syslog.LOG_WARNING|syslog.LOG_DAEMON, "rsprep")
	if err != nil {
		return
	}
	defer w.Close()
	msg := strings.TrimPrefix(strings.TrimSpace(said), "rsprep: ")
	if msg == "" {
		msg = "(no message)"
	}
	w.Warning(fmt.Sprintf("probe could not run: %s; exit %d (--error-exit) instead of a verdict", strings.Join(strings.Fields(msg), " "), code))
}
