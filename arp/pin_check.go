package arp

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/rsprep/rsprep/realserver"
	"github.com/rsprep/rsprep/realserver/director"
	"github.com/rsprep/rsprep/realserver/input"
)

// Invariant is gw.pinned: the gateway's entry is PERMANENT with the MAC the
// gateway has.
//
// A permanent entry is never re-resolved by the kernel, so the neighbour
// table cannot tell that the router behind it was swapped. The check
// therefore asks the wire every time (View.ARPAnswer is an ARP probe that
// bypasses the table) and compares:
//
//   - without --gateway-mac the probe's answer is the MAC to pin; a pinned
//     MAC that differs is drift, and apply re-pins the new one;
//   - with --gateway-mac the operator's MAC is pinned; if the gateway
//     answers with another, that is drift which rsprep does not "fix": it
//     will not pin a MAC the gateway does not have, nor overrule the
//     operator, so the finding says to check the router and the flag.
//
// When the probe gets no answer (gateway silent, or verify without
// CAP_NET_RAW) the pinned entry is judged by the flag or by itself, and the
// finding says it is unconfirmed.
//
// The probe's answer is part of the observation: one probe per run, which
// every round of an apply reads (see realserver.View.ARPAnswer), and a
// new one for each run, each of watch's passes included.
func (p Pin) Invariant() realserver.Invariant {
	return realserver.OnEvents(realserver.CheckFunc(func(v *realserver.View) ([]realserver.Finding, error) {
		return p.check(v, v.ARPAnswer)
	}), realserver.RouteEventIn(realserver.MainTable), realserver.NeighEventOfSubject)
}

func (p Pin) check(v *realserver.View, resolve func(string, netip.Addr) (net.HardwareAddr, error)) ([]realserver.Finding, error) {
	gw, link, err := p.target(v)
	var in *input.Error
	if errors.As(err, &in) {
		return []realserver.Finding{{ID: "gw.pinned", Subject: "gateway", Want: "an on-link gateway", Got: in.Msg}}, nil
	}
	if err != nil {
		return nil, err
	}
	entry, found, err := director.Hop{Link: link, IP: gw}.Entry(v)
	if err != nil {
		return nil, err
	}
	live, probeErr := resolve(link, gw)
	want := p.MAC
	switch {
	case want != nil:
	case live != nil:
		want = live
	case found && director.Learned(entry):
		want = entry.MAC
	}
	f := realserver.Finding{ID: "gw.pinned", Subject: gw.String(), Got: "no entry"}
	if found {
		f.Got = fmt.Sprintf("%s lladdr %s", entry.State, entry.MAC)
	}
	if want == nil {
		f.Want = "PERMANENT with the gateway's MAC on " + link
		f.Detail = fmt.Sprintf("the gateway's MAC is unknown: %v; give --gateway-mac", probeErr)
		return []realserver.Finding{f}, nil
	}
	f.Want = fmt.Sprintf("PERMANENT lladdr %s on %s", want, link)
	pinned := found && entry.State == realserver.NeighPermanent && bytes.Equal(entry.MAC, want)
	answers := ""
	if live != nil && (!bytes.Equal(live, want) || (found && !bytes.Equal(live, entry.MAC))) {
		answers = "; the gateway answers with " + live.String()
	}
	switch {
	case live != nil && !bytes.Equal(live, want):
		f.Got += answers
		f.Detail = fmt.Sprintf("--gateway-mac is %s but the gateway answers with %s: check the router, then correct --gateway-mac (rsprep does not pin a MAC the gateway does not have)", want, live)
	case pinned:
		f.OK, f.Got = true, f.Want
		if live == nil {
			f.Detail = fmt.Sprintf("not confirmed by the gateway: %v", probeErr)
		}
	default:
		f.Got += answers
		fix := realserver.Change{Kind: realserver.KindNeighSet, Neigh: realserver.Neighbor{Link: link, IP: gw, MAC: want, State: realserver.NeighPermanent}}
		if found {
			prev := entry
			fix.PrevNeigh = &prev
		}
		f.Fix = []realserver.Change{fix}
	}
	return []realserver.Finding{f}, nil
}
