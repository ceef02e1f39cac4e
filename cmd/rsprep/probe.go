package main

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/rsprep/rsprep/realserver/input"
	"github.com/rsprep/rsprep/realserver/probe"
)

const probeUsage = `rsprep probe — prove the VIP data path of each real server from the director

Sends each real server the TCP SYN that IPVS would forward to it (dr: a frame
to its MAC with dst=VIP; ipip/gue/gre: encapsulated to the RIP) and waits for
the answer straight from VIP:port: SYN-ACK = open (answered with RST, so no
half-open connection stays), RST = closed, ICMP error = unreachable, nothing
within the timeout = lost. All real servers are probed at once.

Usage:
  rsprep probe --rip RIP[,RIP…] --vip VIP:PORT [flags]

Examples:
  rsprep probe --rip 10.0.0.11,10.0.0.12 --vip 192.168.79.180:80
  rsprep probe --rip 10.0.0.11 --vip 192.168.79.180:80 --encap ipip -o prometheus
  rsprep probe --rip 2001:db8::11 --vip [2001:db8::180]:443 --encap gue --encap-port 6080

Exit codes: 0 every real server open · 1 any closed, unreachable or lost ·
2 bad input · 3 cannot send (needs CAP_NET_RAW).

Flags:
`

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
	fs.Usage = func() { fmt.Fprint(fs.Output(), probeUsage+fs.FlagUsages()) }
	if code, done := parseFlags(fs, args, stdout, stderr); done {
		return code
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "rsprep: %s\n", oneLine(err))
		var in *probe.InputError
		if errors.As(err, &in) {
			return exitUsage
		}
		return exitCode(err)
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
