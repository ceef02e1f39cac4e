package main

import (
	"fmt"
	"time"

	"github.com/spf13/pflag"

	"github.com/rsprep/rsprep/arp"
	"github.com/rsprep/rsprep/realserver"
)

// options are every flag's value; each mode defines only the flags it takes.
type options struct {
	// common
	dryRun   bool
	output   string
	netns    string
	lockWait time.Duration
	verbose  bool

	// modes
	vips []string
}

// modeDef is one forwarding mode on the command line.
type modeDef struct {
	summary string
	example string
	flags   func(fs *pflag.FlagSet, o *options)
	build   func(o *options) (realserver.Mode, error)
}

func modeDefs() map[string]modeDef {
	return map[string]modeDef{
		"dr": {
			summary: "direct routing (ipvsadm -g): VIP /32 on lo, arp_ignore=1, arp_announce=2",
			example: "rsprep dr --vip 192.168.79.180",
			flags: func(fs *pflag.FlagSet, o *options) {
				vipFlag(fs, o)
			},
			build: func(o *options) (realserver.Mode, error) {
				vips, err := realserver.ParseVIPs(o.vips)
				if err != nil {
					return nil, err
				}
				return arp.DR{VIPs: vips}, nil
			},
		},
	}
}

func vipFlag(fs *pflag.FlagSet, o *options) {
	fs.StringSliceVar(&o.vips, "vip", nil, "virtual IP, IPv4 or IPv6 (repeatable, comma-separated)")
}

// newFlagSet builds the flag set of one mode command.
func newFlagSet(act action, name string, def modeDef, o *options) *pflag.FlagSet {
	cmd := name
	if act != actApply {
		cmd = string(act) + " " + name
	}
	fs := pflag.NewFlagSet(cmd, pflag.ContinueOnError)
	fs.SortFlags = false
	def.flags(fs, o)
	if act != actVerify {
		fs.BoolVar(&o.dryRun, "dry-run", false, "print the plan (the changes it would make) and change nothing")
	}
	fs.StringVarP(&o.output, "output", "o", "text", "output format: text or json; for verify also prometheus (node_exporter textfile)")
	fs.StringVar(&o.netns, "netns", "", "act inside the named network namespace (ip netns add NAME)")
	if act != actVerify {
		fs.DurationVar(&o.lockWait, "lock-wait", 10*time.Second, "how long to wait for another rsprep in the same namespace")
	}
	fs.BoolVarP(&o.verbose, "verbose", "v", false, "log debug detail")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "rsprep %s — %s\n\nUsage:\n  rsprep %s [flags]\n\nExample:\n  %s\n\nFlags:\n%s", cmd, actionSummary(act, def), cmd, exampleFor(act, def), fs.FlagUsages())
		fmt.Fprint(fs.Output(), globalNote)
	}
	return fs
}

// globalNote warns that the ARP and rp_filter knobs are host-wide.
const globalNote = `
Note: arp_ignore, arp_announce (and rp_filter for tun) are set on conf/all and
conf/default, which affects every interface of the host (or namespace), and on
lo. down restores each value rsprep changed, if nobody changed it since.
`

func actionSummary(act action, def modeDef) string {
	switch act {
	case actVerify:
		return "audit: " + def.summary
	case actDown:
		return "undo what rsprep did for: " + def.summary
	}
	return def.summary
}

func exampleFor(act action, def modeDef) string {
	if act == actApply {
		return def.example
	}
	return "rsprep " + string(act) + def.example[len("rsprep"):]
}
