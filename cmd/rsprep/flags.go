package main

import (
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/rsprep/rsprep/realserver"
)

// options are every flag's value; each mode defines only the flags it takes.
type options struct {
	// common
	act      action // what the flags are for (newFlagSet)
	dryRun   bool
	output   string
	netns    string
	lockWait time.Duration
	verbose  bool

	// drain's own
	drainTimeout time.Duration
	drainQuiet   time.Duration
	probeFrom    []string

	// the modes' own flags: each mode's file (flags_dr.go, flags_tun.go,
	// flags_nat.go) names its flags and builds its mode from them;
	// flags_director.go and flags_pin.go are flags more than one mode takes
	vips          []string
	takeVIP       bool
	rpFilter      string
	encap         string
	encapPort     uint16
	underlay      string
	mss           string
	dip           string
	natDIPs       []string // nat's --dip: one per family
	forwarding    string
	keepRoutes    []string
	pinGatewayARP bool
	gateway       string
	gatewayMAC    string
}

// modeDef is one forwarding mode on the command line.
type modeDef struct {
	summary string
	example string
	flags   func(fs *pflag.FlagSet, o *options)
	build   func(o *options) (realserver.Mode, error)
	docs    []realserver.InvariantDoc // the man page's INVARIANTS, from the mode's package
}

// mode builds the mode from the flags and validates it: bad input is
// found here, before the host is read.
func (d modeDef) mode(o *options) (realserver.Mode, error) {
	m, err := d.build(o)
	if err == nil {
		err = m.Validate()
	}
	if err != nil {
		return nil, err
	}
	return m, nil
}

func modeDefs() map[string]modeDef {
	return map[string]modeDef{
		"dr":  drDef(),
		"tun": tunDef(),
		"nat": natDef(),
	}
}

func vipFlag(fs *pflag.FlagSet, o *options) {
	listVar(fs, &o.vips, "vip", "virtual IP, IPv4 or IPv6 (repeatable, comma-separated)")
}

// takeVIPFlag is --take-vip-from-arp-interface, for the modes that bind
// VIPs (dr, tun).
func takeVIPFlag(fs *pflag.FlagSet, o *options) {
	fs.BoolVar(&o.takeVIP, strings.TrimPrefix(realserver.TakeVIPFlag, "--"), false,
		"a VIP already on an interface that answers ARP (eth0) is refused: that is where the director or its VRRP peer (keepalived) holds it. With this flag rsprep moves it (recorded, with its label, flags and lifetimes) and down gives it back as it was")
}

// heldVIPs is what the run does with a VIP on an ARP-capable interface:
// apply refuses it unless --take-vip-from-arp-interface, verify reports it.
func heldVIPs(o *options) realserver.HeldVIPs {
	switch {
	case o.takeVIP:
		return realserver.TakeHeldVIPs
	case o.act == actVerify:
		return realserver.ReportHeldVIPs
	}
	return realserver.RefuseHeldVIPs
}

// newFlagSet builds the flag set of one mode command: name "" is the form
// whose mode comes from --config (the run's own flags only).
func newFlagSet(act action, name string, def modeDef, o *options) *pflag.FlagSet {
	cmd := strings.TrimSpace(string(act) + " " + name)
	if act == actApply && name != "" {
		cmd = name
	}
	fs := pflag.NewFlagSet(cmd, pflag.ContinueOnError)
	o.act = act
	fs.SortFlags = false
	if def.flags != nil {
		def.flags(fs, o)
	}
	if act == actDrain {
		fs.DurationVar(&o.drainTimeout, "timeout", 10*time.Minute, "give up waiting after this long (exit 1 naming the connections still open; the host stays drained); 0: no bound")
		fs.DurationVar(&o.drainQuiet, "quiet", 5*time.Second, "the director has stopped once no new connection came for this long: more than its delay_loop plus the check's timeout")
		listVar(fs, &o.probeFrom, "probe-from", "another address the director's probes come from, besides --dip: the other director of a VRRP pair, the director's IPv6 address for IPv6 VIPs (repeatable, comma-separated)")
	}
	if act == actApply || act == actDown {
		fs.BoolVar(&o.dryRun, "dry-run", false, "print the plan (the changes it would make) and change nothing")
	}
	fs.StringVarP(&o.output, "output", "o", "text", "output format: text or json; for verify also prometheus (node_exporter textfile)")
	fs.StringVar(&o.netns, "netns", "", "act inside the named network namespace (ip netns add NAME)")
	fs.DurationVar(&o.lockWait, "lock-wait", 10*time.Second, "how long to wait for another rsprep writing the same namespace")
	fs.BoolVarP(&o.verbose, "verbose", "v", false, "log debug detail")
	setHelp(fs, string(act), name)
	return fs
}

// modeFlagSet is newFlagSet with --config: the flags apply, verify and
// down parse, for mode name ("" when the mode comes from the file).
func modeFlagSet(act action, name string, o *options) (fs *pflag.FlagSet, configPath *string) {
	fs = newFlagSet(act, name, modeDefs()[name], o)
	return fs, addConfigFlag(fs)
}

// setHelp makes fs's --help the help of command name (for mode) in the
// command table.
func setHelp(fs *pflag.FlagSet, name, mode string) {
	fs.Usage = func() {
		c, _ := lookupCommand(name)
		c.writeHelp(fs.Output(), fs, mode)
	}
}

// globalNote warns that the ARP and rp_filter knobs are host-wide.
const globalNote = `
Note: for dr and tun, arp_ignore and arp_announce are set on conf/all and
conf/default, which affects every interface of the host (or namespace), and
on lo (nat changes no sysctl). For tun, the effective rp_filter of the
tunnel device (tunl0, gre0, ip6tnl0) is max(conf/all, conf/DEV): with the
default --rp-filter off, a conf/all of 1 is lowered to 0, which turns
reverse-path filtering off on every interface; --rp-filter loose keeps
conf/all and raises only the device to 2. With --forwarding off (dr, tun),
IP forwarding is turned off for the whole host (or namespace): do not use
it on a Docker or Kubernetes node. down restores each value rsprep changed,
if nobody changed it since.

The command line adds: two applies give the union. With --config the file
is the whole state: apply also undoes what rsprep owns here that the file
does not declare, and verify reports it either way (own.undeclared).
`
