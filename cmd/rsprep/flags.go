package main

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/spf13/pflag"

	"github.com/rsprep/rsprep/arp"
	"github.com/rsprep/rsprep/nat"
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

	// tun and nat, and --pin-gateway-arp for every mode (see the end of this file)
	rpFilter      string
	encap         string
	encapPort     uint16
	underlay      string
	mss           string
	dip           string
	forwarding    string
	keepRoutes    []string
	pinGatewayARP bool
	gateway       string
	gatewayMAC    string
	act           action // set by newFlagSet: down builds a mode that only undoes
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
				directorFlags(fs, o, drDIPHelp)
				pinFlags(fs, o)
			},
			build: func(o *options) (realserver.Mode, error) {
				vips, err := realserver.ParseVIPs(o.vips)
				if err != nil {
					return nil, err
				}
				dip, fwdOff, err := director(o)
				if err != nil {
					return nil, err
				}
				pin, err := buildPin(o)
				if err != nil {
					return nil, err
				}
				dr := arp.DR{VIPs: vips, Pin: pin, DIP: dip, ForwardingOff: fwdOff}
				if err := undoOnlyDIP(o, dr, &dr.DIP); err != nil {
					return nil, err
				}
				return dr, nil
			},
		},
		"tun": tunDef(),
		"nat": natDef(),
	}
}

func vipFlag(fs *pflag.FlagSet, o *options) {
	listVar(fs, &o.vips, "vip", "virtual IP, IPv4 or IPv6 (repeatable, comma-separated)")
}

// newFlagSet builds the flag set of one mode command.
func newFlagSet(act action, name string, def modeDef, o *options) *pflag.FlagSet {
	cmd := name
	if act != actApply {
		cmd = string(act) + " " + name
	}
	fs := pflag.NewFlagSet(cmd, pflag.ContinueOnError)
	fs.SortFlags = false
	o.act = act
	def.flags(fs, o)
	if act != actVerify {
		fs.BoolVar(&o.dryRun, "dry-run", false, "print the plan (the changes it would make) and change nothing")
	}
	fs.StringVarP(&o.output, "output", "o", "text", "output format: text or json; for verify also prometheus (node_exporter textfile)")
	fs.StringVar(&o.netns, "netns", "", "act inside the named network namespace (ip netns add NAME)")
	fs.DurationVar(&o.lockWait, "lock-wait", 10*time.Second, "how long to wait for another rsprep writing the same namespace")
	fs.BoolVarP(&o.verbose, "verbose", "v", false, "log debug detail")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "rsprep %s — %s\n\nUsage:\n  rsprep %s [flags]\n\nExample:\n  %s\n\nFlags:\n%s", cmd, actionSummary(act, def), cmd, exampleFor(act, def), fs.FlagUsages())
		fmt.Fprint(fs.Output(), globalNote)
	}
	return fs
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

// ---- tun, nat and --pin-gateway-arp (issue 4) ----

func tunDef() modeDef {
	return modeDef{
		summary: "tunnel (ipvsadm -i, --tun-type ipip|gue|gre): the decapsulating module loaded (and a fou port for GUE), its device (tunl0, gre0, ip6tnl0…) up with each VIP, arp_ignore=1, arp_announce=2, rp_filter off (or loose) for that device",
		example: "rsprep tun --vip 192.168.79.180",
		flags: func(fs *pflag.FlagSet, o *options) {
			vipFlag(fs, o)
			tunFlags(fs, o)
			fs.StringVar(&o.rpFilter, "rp-filter", "", "effective rp_filter for the tunnel device: off (0, default) or loose (2, when a hardening baseline forbids 0)")
			directorFlags(fs, o, tunDIPHelp)
			pinFlags(fs, o)
		},
		build: func(o *options) (realserver.Mode, error) {
			vips, err := realserver.ParseVIPs(o.vips)
			if err != nil {
				return nil, err
			}
			t, err := buildTUN(o)
			if err != nil {
				return nil, err
			}
			t.VIPs = vips
			if t.DIP, t.ForwardingOff, err = director(o); err != nil {
				return nil, err
			}
			if err := undoOnlyDIP(o, t, &t.DIP); err != nil {
				return nil, err
			}
			return t, nil
		},
	}
}

func natDef() modeDef {
	return modeDef{
		summary: "masquerading (ipvsadm -m): default route via the DIP, --keep-route destinations via the previous gateway",
		example: "rsprep nat --dip 192.168.10.1",
		flags: func(fs *pflag.FlagSet, o *options) {
			fs.StringVar(&o.dip, "dip", "", "the director's address on this host's subnet: the new default gateway")
			fs.StringSliceVar(&o.keepRoutes, "keep-route", nil, "destination CIDR that keeps going via the previous default gateway, e.g. a management subnet (repeatable, comma-separated)")
			pinFlags(fs, o)
		},
		build: func(o *options) (realserver.Mode, error) {
			var n nat.NAT
			dip, err := parseDIP(o.dip)
			if err != nil {
				return nil, err
			}
			n.DIP = dip
			for _, s := range o.keepRoutes {
				p, err := realserver.ParseCIDR("--keep-route", s)
				if err != nil {
					return nil, err
				}
				n.KeepRoutes = append(n.KeepRoutes, p)
			}
			pin, err := buildPin(o)
			if err != nil {
				return nil, err
			}
			n.Pin = pin
			if o.act == actDown {
				return undoOnly{n}, nil
			}
			return n, nil
		},
	}
}

func pinFlags(fs *pflag.FlagSet, o *options) {
	fs.BoolVar(&o.pinGatewayARP, "pin-gateway-arp", false, "write the gateway's neighbour entry PERMANENT with its MAC (gateway: --gateway, else the DIP for nat, else the default route's next hop)")
	fs.StringVar(&o.gateway, "gateway", "", "with --pin-gateway-arp: the gateway to pin")
	fs.StringVar(&o.gatewayMAC, "gateway-mac", "", "with --pin-gateway-arp: the gateway's MAC (default: what it answers to an ARP probe, else its live neighbour entry)")
}

// buildPin parses the pin flags. down takes them (a unit's stop command
// repeats the start command's flags) but needs no pin: it removes the
// entry rsprep recorded, whatever the flags say.
func buildPin(o *options) (*arp.Pin, error) {
	if !o.pinGatewayARP {
		if o.gateway != "" || o.gatewayMAC != "" {
			return nil, realserver.Inputf("--gateway and --gateway-mac are for --pin-gateway-arp, which is not given")
		}
		return nil, nil
	}
	p := &arp.Pin{}
	if o.gateway != "" {
		ip, err := netip.ParseAddr(o.gateway)
		if err != nil {
			return nil, realserver.Inputf("--gateway %q is not an IP address", o.gateway)
		}
		p.Gateway = ip
	}
	if o.gatewayMAC != "" {
		mac, err := realserver.ParseMAC(o.gatewayMAC)
		if err != nil {
			return nil, realserver.Inputf("--gateway-mac: %v", err)
		}
		p.MAC = mac
	}
	if o.act == actDown {
		return nil, p.Validate()
	}
	return p, nil
}

// undoOnly is a mode for down, which undoes what the record says: the host
// need not still match the input, so a DIP whose interface has gone away
// does not block its own teardown.
type undoOnly struct{ realserver.Mode }

func (undoOnly) Preflight(*realserver.View) error { return nil }
