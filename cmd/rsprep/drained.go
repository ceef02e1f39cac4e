package main

import (
	"fmt"
	"net/netip"
	"slices"

	"github.com/rsprep/rsprep/realserver"
	"github.com/rsprep/rsprep/realserver/drain"
)

// What verify and status say of the drains in place.

// undeclaredDrains reports, as drift (own.undeclared), each drain of a
// VIP that vips does not hold: apply --config or down --all ends it.
func undeclaredDrains(vips []netip.Addr) ([]realserver.Finding, error) {
	have, err := drainsInPlace()
	if err != nil {
		return nil, err
	}
	var out []realserver.Finding
	for _, p := range have {
		if !slices.Contains(vips, p.VIP) {
			out = append(out, realserver.Finding{ID: realserver.UndeclaredID, Subject: "drain " + p.String(),
				Want: "not declared: undone", Got: "owned by rsprep drain", Detail: p.Rule()})
		}
	}
	return out, nil
}

// drainedJSON is one drained VIP in status -o json.
type drainedJSON struct {
	VIP string `json:"vip"`
	DIP string `json:"dip"`
}

// drainsInPlace lists the drain rules of this namespace.
func drainsInPlace() ([]drain.Pair, error) {
	rules, err := drain.Open()
	if err != nil {
		return nil, err
	}
	defer rules.Close()
	return rules.List()
}

// drainedNow lists the drain rules in place, for status.
func drainedNow() ([]drainedJSON, error) {
	have, err := drainsInPlace()
	var out []drainedJSON
	for _, p := range have {
		out = append(out, drainedJSON{p.VIP.String(), p.DIP.String()})
	}
	return out, err
}

// drainFindings are verify's rows for the drained VIPs: a drain is
// intended, so they pass, and say so.
func drainFindings(vips []netip.Addr) ([]realserver.Finding, error) {
	have, err := drainsInPlace()
	if err != nil {
		return nil, err
	}
	var out []realserver.Finding
	for _, p := range drain.Of(have, vips) {
		out = append(out, realserver.Finding{ID: "drain.active", Subject: p.VIP.String(), OK: true,
			Want: "in service, or drained", Got: "drained",
			Detail: fmt.Sprintf("the director's probes from %s fail (rsprep undrain ends it)", p.DIP)})
	}
	return out, nil
}
