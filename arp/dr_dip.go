package arp

import (
	"errors"
	"net/netip"

	"github.com/rsprep/rsprep/realserver"
	"github.com/rsprep/rsprep/realserver/director"
	"github.com/rsprep/rsprep/realserver/input"
)

// drNeedsL2 is why DR rejects a DIP it cannot reach by MAC.
const drNeedsL2 = "DR needs the director and the real server on one L2 segment (the director rewrites only the destination MAC; across a router it cannot work)"

// L2DIPLink is director.DIPLink for DR: the DIP must also be on an interface that
// speaks ARP, since the director hands each packet to this host's MAC.
func L2DIPLink(v *realserver.View, dip netip.Addr) (string, error) {
	link, err := director.DIPLink(v, dip)
	var in *input.Error
	if errors.As(err, &in) {
		return "", input.Errorf("%s: %s", in.Msg, drNeedsL2)
	}
	if err != nil {
		return "", err
	}
	l, _, err := v.Link(link)
	if err != nil {
		return "", err
	}
	if !l.ARPCapable() {
		return "", input.Errorf("--dip %s is on-link only through %s, which does not speak ARP: %s", dip, link, drNeedsL2)
	}
	return link, nil
}
