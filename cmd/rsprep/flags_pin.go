package main

import (
	"net/netip"

	"github.com/spf13/pflag"

	"github.com/rsprep/rsprep/arp"
	"github.com/rsprep/rsprep/realserver/input"
)

// --pin-gateway-arp, --gateway and --gateway-mac (issue 4), for every mode.

func pinFlags(fs *pflag.FlagSet, o *options) {
	fs.BoolVar(&o.pinGatewayARP, "pin-gateway-arp", false, "write the gateway's neighbour entry PERMANENT with its MAC (gateway: --gateway, else the DIP for nat, else the default route's next hop)")
	fs.StringVar(&o.gateway, "gateway", "", "with --pin-gateway-arp: the gateway to pin")
	fs.StringVar(&o.gatewayMAC, "gateway-mac", "", "with --pin-gateway-arp: the gateway's MAC (default: what it answers to an ARP probe, else its live neighbour entry)")
}

// buildPin parses the pin flags. down takes them too (a unit's stop
// command repeats the start command's flags); the mode's ForDown drops
// the pin.
func buildPin(o *options) (*arp.Pin, error) {
	if !o.pinGatewayARP {
		if o.gateway != "" || o.gatewayMAC != "" {
			return nil, input.Errorf("--gateway and --gateway-mac are for --pin-gateway-arp, which is not given")
		}
		return nil, nil
	}
	p := &arp.Pin{}
	if o.gateway != "" {
		ip, err := netip.ParseAddr(o.gateway)
		if err != nil {
			return nil, input.Errorf("--gateway %q is not an IP address", o.gateway)
		}
		p.Gateway = ip
	}
	if o.gatewayMAC != "" {
		mac, err := input.ParseMAC(o.gatewayMAC)
		if err != nil {
			return nil, input.Errorf("--gateway-mac: %v", err)
		}
		p.MAC = mac
	}
	return p, nil
}
