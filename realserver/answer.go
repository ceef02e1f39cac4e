package realserver

import (
	"net"
	"net/netip"
)

// Question is what only the network can answer, not the host's tables:
// which MAC answers ARP for IP on Link.
type Question struct {
	Link string
	IP   netip.Addr
}

// Answer is the network's answer to a Question: the MAC, or why none came
// (nobody answered within the probe's bound; no CAP_NET_RAW).
type Answer struct {
	MAC net.HardwareAddr
	Err error
}

// ARPAnswer is the MAC that answers ARP for ip on link, as part of this
// observation: the first ask sends an ARP probe (Host.Resolve, which
// bypasses the neighbour table and waits a bounded time), later ones read
// its answer, so a mode's preflight and its checks share one probe. The
// view reads the network and never hands out the host: a check cannot
// change what it observes.
func (v *View) ARPAnswer(link string, ip netip.Addr) (net.HardwareAddr, error) {
	q := Question{Link: link, IP: ip}
	a, ok := v.arp[q]
	if !ok {
		a.MAC, a.Err = v.host.Resolve(link, ip)
		v.arp[q] = a
	}
	return a.MAC, a.Err
}
