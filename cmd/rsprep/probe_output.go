package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/rsprep/rsprep/cmd/rsprep/schema"
	"github.com/rsprep/rsprep/realserver/probe"
)

// jsonProbe is the stable JSON schema of one result.
type jsonProbe struct {
	RIP        string   `json:"rip"`
	VIP        string   `json:"vip"`
	Port       uint16   `json:"port"`
	Encap      string   `json:"encap"`
	State      string   `json:"state"`
	RTTSeconds *float64 `json:"rtt_seconds,omitempty"`
	MSS        int      `json:"mss,omitempty"`
	ICMP       string   `json:"icmp,omitempty"`
	ICMPType   *int     `json:"icmp_type,omitempty"`
	ICMPCode   *int     `json:"icmp_code,omitempty"`
	ICMPFrom   string   `json:"icmp_from,omitempty"`
	Sent       int      `json:"sent"`
	Answered   int      `json:"answered"`
	Detail     string   `json:"detail,omitempty"`
}

func writeProbe(w io.Writer, format string, results []probe.Result) error {
	bw := bufio.NewWriter(w)
	switch format {
	case "json":
		out := struct {
			Schema  int         `json:"schema"` // schema/rsprep.schema.json
			OK      bool        `json:"ok"`
			Results []jsonProbe `json:"results"`
		}{Schema: schema.Version, OK: true, Results: []jsonProbe{}}
		for _, r := range results {
			out.OK = out.OK && r.State == probe.Open
			out.Results = append(out.Results, toJSON(r))
		}
		enc := json.NewEncoder(bw)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			return err
		}
	case "prometheus":
		writeProbePrometheus(bw, results)
	default:
		for _, r := range results {
			fmt.Fprintln(bw, probeLine(r))
		}
	}
	return bw.Flush()
}

func toJSON(r probe.Result) jsonProbe {
	j := jsonProbe{RIP: r.RIP.String(), VIP: r.VIP.Addr().String(), Port: r.VIP.Port(), Encap: string(r.Encap),
		State: string(r.State), MSS: r.MSS, Sent: r.Sent, Answered: r.Answered, Detail: r.Detail}
	if r.Answered > 0 {
		s := r.RTT.Seconds()
		j.RTTSeconds = &s
	}
	if r.State == probe.Unreachable {
		j.ICMP, j.ICMPType, j.ICMPCode, j.ICMPFrom = icmpText(r), &r.ICMPType, &r.ICMPCode, r.ICMPFrom.String()
	}
	return j
}

// probeLine is one line per real server, e.g.
// "10.0.0.11 192.168.79.180:80 dr open rtt=0.412ms mss=1460".
func probeLine(r probe.Result) string {
	line := fmt.Sprintf("%s %s %s %s", r.RIP, r.VIP, r.Encap, r.State)
	if r.Answered > 0 {
		line += fmt.Sprintf(" rtt=%.3fms", float64(r.RTT)/float64(time.Millisecond))
	}
	switch r.State {
	case probe.Open:
		line += fmt.Sprintf(" mss=%d", r.MSS)
	case probe.Closed:
		line += fmt.Sprintf(" (RST: the path works, nothing listens on port %d)", r.VIP.Port())
	case probe.Unreachable:
		line += fmt.Sprintf(" icmp=%d/%d (%s) from=%s", r.ICMPType, r.ICMPCode, icmpText(r), r.ICMPFrom)
	case probe.Lost:
		if r.Detail != "" {
			line += " (" + r.Detail + ")"
		} else {
			line += " (no answer from the VIP)"
		}
	}
	if r.Sent > 1 {
		line += fmt.Sprintf(" answered=%d/%d", r.Answered, r.Sent)
	}
	return line
}

// icmpText names the common ICMP errors a probe draws.
func icmpText(r probe.Result) string {
	v4 := map[[2]int]string{{3, 0}: "net unreachable", {3, 1}: "host unreachable", {3, 2}: "protocol unreachable",
		{3, 3}: "port unreachable", {3, 4}: "fragmentation needed", {3, 13}: "administratively prohibited"}
	v6 := map[[2]int]string{{1, 0}: "no route", {1, 1}: "administratively prohibited", {1, 3}: "address unreachable",
		{1, 4}: "port unreachable", {2, 0}: "packet too big"}
	names, timeExceeded, paramProblem := v4, 11, 12
	if r.ICMPFrom.Is6() {
		names, timeExceeded, paramProblem = v6, 3, 4
	}
	switch {
	case names[[2]int{r.ICMPType, r.ICMPCode}] != "":
		return names[[2]int{r.ICMPType, r.ICMPCode}]
	case r.ICMPType == timeExceeded:
		return "time exceeded"
	case r.ICMPType == paramProblem:
		return "parameter problem"
	}
	return "icmp error"
}

func writeProbePrometheus(w io.Writer, results []probe.Result) {
	labels := func(r probe.Result) string {
		return fmt.Sprintf("{rip=%s,vip=%s,port=%s,encap=%s}", promLabel(r.RIP.String()), promLabel(r.VIP.Addr().String()),
			promLabel(strconv.Itoa(int(r.VIP.Port()))), promLabel(string(r.Encap)))
	}
	fmt.Fprint(w, "# HELP rsprep_probe_up Whether VIP:port answered a SYN sent through the real server as IPVS would (1) or not (0), per rsprep probe.\n# TYPE rsprep_probe_up gauge\n")
	for _, r := range results {
		fmt.Fprintf(w, "rsprep_probe_up%s %d\n", labels(r), promBool(r.State == probe.Open))
	}
	fmt.Fprint(w, "# HELP rsprep_probe_rtt_seconds Round-trip time of the probe's answer (median over --count), for real servers that answered.\n# TYPE rsprep_probe_rtt_seconds gauge\n")
	for _, r := range results {
		if r.Answered > 0 {
			fmt.Fprintf(w, "rsprep_probe_rtt_seconds%s %g\n", labels(r), r.RTT.Seconds())
		}
	}
	fmt.Fprint(w, "# HELP rsprep_probe_mss The TCP MSS the real server offered in its SYN-ACK, for open real servers.\n# TYPE rsprep_probe_mss gauge\n")
	for _, r := range results {
		if r.State == probe.Open {
			fmt.Fprintf(w, "rsprep_probe_mss%s %d\n", labels(r), r.MSS)
		}
	}
}
