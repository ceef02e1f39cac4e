package arp

import (
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/rsprep/rsprep/realserver"
	"github.com/rsprep/rsprep/realserver/director"
	"github.com/rsprep/rsprep/realserver/input"
)

// Pin is --pin-gateway-arp, shared by every mode: the gateway's neighbour
// entry written PERMANENT with the MAC the gateway really has, so that a
// forged or flapping ARP reply cannot redirect the host's outgoing traffic.
type Pin struct {
	// Gateway is --gateway; when invalid it is the next hop of the default
	// route as the host has it apart from rsprep (realserver.HostDefaultRoute:
	// NAT's route via the DIP is not DR's gateway). NAT sets it to the DIP.
	Gateway netip.Addr
	// MAC is --gateway-mac; when nil it is what the gateway answers to an
	// ARP probe, else what its live neighbour entry holds.
	MAC net.HardwareAddr
}

// Footprint adds the pinned neighbour entry to a mode's footprint.
func (p *Pin) Footprint(fp realserver.Footprint) realserver.Footprint {
	if p != nil {
		fp.PinsGateway, fp.PinnedGateway = true, p.Gateway
	}
	return fp
}

// Validate rejects a gateway that cannot be an IPv4 router address.
func (p Pin) Validate() error {
	if !p.Gateway.IsValid() {
		return nil
	}
	if !p.Gateway.Is4() {
		return input.Errorf("--gateway %s: ARP pinning is IPv4 only", p.Gateway)
	}
	return input.CheckUnicast("gateway", p.Gateway)
}

// Preflight finds the gateway and makes sure its MAC can be known, before
// anything changes: no gateway to pin is bad input (exit 2), a MAC that
// nothing tells is a host that cannot be read (exit 3).
func (p Pin) Preflight(v *realserver.View) error {
	gw, link, err := p.target(v)
	var in *input.Error
	if errors.As(err, &in) {
		return err
	}
	if err != nil {
		return &realserver.ObserveError{Err: err}
	}
	if p.MAC != nil {
		return nil
	}
	n, found, err := director.Hop{Link: link, IP: gw}.Entry(v)
	if err != nil {
		return &realserver.ObserveError{Err: err}
	}
	if found && director.Learned(n) {
		return nil
	}
	if _, err := v.ARPAnswer(link, gw); err != nil {
		return fmt.Errorf("cannot learn the MAC of gateway %s on %s to pin it: no neighbour entry, and %v; give it with --gateway-mac", gw, link, err)
	}
	return nil
}

// target is the gateway to pin and the interface it is on.
func (p Pin) target(v *realserver.View) (gw netip.Addr, link string, err error) {
	gw = p.Gateway
	if !gw.IsValid() {
		r, ok, err := realserver.HostDefaultRoute(v)
		if err != nil {
			return gw, "", err
		}
		if !ok {
			return gw, "", input.Errorf("--pin-gateway-arp: there is no default route to take the gateway from; give --gateway")
		}
		if !r.Gw.IsValid() {
			return gw, "", input.Errorf("--pin-gateway-arp: the default route (%s) has no gateway to pin; give --gateway", r)
		}
		gw = r.Gw
	}
	own, err := v.AddrsOf(gw)
	if err != nil {
		return gw, "", err
	}
	if len(own) > 0 {
		return gw, "", input.Errorf("gateway %s is this host's own address (on %s): there is no neighbour to pin", gw, own[0].Link)
	}
	if err := realserver.CheckHostOnLink(v, "gateway", gw); err != nil {
		return gw, "", err
	}
	link, ok, err := realserver.OnLink(v, gw)
	if err != nil {
		return gw, "", err
	}
	if !ok {
		conn, err := realserver.Connected(v)
		if err != nil {
			return gw, "", err
		}
		return gw, "", input.Errorf("gateway %s is not on-link: it is in no directly connected subnet of an up interface (%s)", gw, realserver.DescribeConnected(conn))
	}
	return gw, link, nil
}
