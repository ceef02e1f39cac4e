package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/rsprep/rsprep/cmd/rsprep/schema"
	"github.com/rsprep/rsprep/realserver"
	"github.com/rsprep/rsprep/realserver/input"
)

// statusLockWait is how long status waits for another rsprep's run, as
// the mode commands' default --lock-wait.
const statusLockWait = 10 * time.Second

// runStatus is `rsprep status [-o text|json] [--netns NAME]`: what rsprep
// owns in this namespace, so an operator can see what down would undo
// before trusting it. Read-only, no lock: it works without root as far as
// the kernel and the record allow reading.
func runStatus(args []string, stdout, stderr io.Writer) int {
	var output, ns string
	fs := statusFlagSet(&output, &ns)
	if code, done := parseFlags(fs, args, stdout, stderr); done {
		return code
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "rsprep: %s\n", oneLine(err))
		return exitCode(err)
	}
	if output != "text" && output != "json" {
		return fail(input.Errorf("--output %q: want text or json", output))
	}
	host, state, err := openNamespace(fs.Changed("netns"), ns, nil)
	if err != nil {
		return fail(err)
	}
	defer host.Close()
	var owned realserver.Owned
	var drained []drainedJSON
	// As a reader, like verify: never half-way through another rsprep's run.
	unlock, err := asReader(state, statusLockWait, func() error {
		rec, err := state.Load()
		var untrusted *realserver.RecordError
		if errors.As(err, &untrusted) {
			return err
		}
		if err != nil {
			rec = nil // not readable by this user: the marked addresses still are
		}
		if owned, err = realserver.Ownership(realserver.NewView(host), rec); err != nil {
			return &realserver.ObserveError{Err: err}
		}
		drained, err = drainedNow()
		return err
	})
	if unlock != nil {
		unlock()
	}
	if err != nil {
		return fail(err)
	}
	if output == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		doc := struct {
			Schema int `json:"schema"`
			realserver.Owned
			Drained []drainedJSON `json:"drained,omitempty"`
		}{schema.Version, owned, drained}
		if err := enc.Encode(doc); err != nil {
			return fail(err)
		}
		return exitOK
	}
	writeOwned(stdout, owned)
	for _, d := range drained {
		fmt.Fprintf(stdout, "drained: %s (the director's probes from %s fail; rsprep undrain ends it)\n", d.VIP, d.DIP)
	}
	return exitOK
}

func statusFlagSet(output, ns *string) *pflag.FlagSet {
	fs := pflag.NewFlagSet("status", pflag.ContinueOnError)
	fs.StringVarP(output, "output", "o", "text", "text or json")
	fs.StringVar(ns, "netns", "", "look inside this named network namespace (ip netns)")
	setHelp(fs, "status", "")
	return fs
}

// statusCommand is status's entry in the command table.
func statusCommand() commandDef {
	return commandDef{
		name:     "status",
		synopsis: []synopsisLine{{"status [-o text|json] [--netns NAME]", "what rsprep owns in this namespace (read-only)"}},
		summary:  "what rsprep owns in this network namespace; changes nothing",
		description: `Per mode: each VIP (and how it is known to be rsprep's: record, IFA_PROTO
tag, label), each sysctl with the value it replaced, routes, pinned
neighbours: what down would undo. The IFA_PROTO tag is the "proto 114"
that ip address shows and the dry-run plan prints: 114 (ASCII 'r') marks
an address as rsprep's on kernels from 5.18; "114 rsprep" in
/etc/iproute2/rt_addrprotos makes ip print the name.`,
		examples: []string{"rsprep status", "rsprep status -o json --netns blue"},
		flags: func(string) *pflag.FlagSet {
			var output, ns string
			return statusFlagSet(&output, &ns)
		},
		run: runStatus,
	}
}

// writeOwned prints status as text, one line per thing owned.
func writeOwned(w io.Writer, o realserver.Owned) {
	for _, n := range o.Notes {
		fmt.Fprintf(w, "# %s\n", n)
	}
	if len(o.Modes) == 0 {
		fmt.Fprintln(w, "rsprep owns nothing in this network namespace")
		return
	}
	for _, m := range o.Modes {
		name := m.Mode
		if name == "" {
			name = "marked as rsprep's, in no record"
		}
		fmt.Fprintf(w, "%s:\n", name)
		for _, v := range m.VIPs {
			state := ""
			if !v.Present {
				state = ", absent"
			}
			fmt.Fprintf(w, "  vip %s on %s (%s%s)\n", v.VIP, v.Device, strings.Join(v.By, ", "), state)
		}
		for _, s := range m.Sysctls {
			now := "interface gone"
			if s.Now != nil {
				now = fmt.Sprintf("now %d", *s.Now)
			}
			fmt.Fprintf(w, "  sysctl %s=%d (replaced %d; %s)\n", s.Key, s.Wrote, s.Replaced, now)
		}
		for _, l := range m.Links {
			fmt.Fprintf(w, "  link %s set up\n", l)
		}
		for _, r := range m.Routes {
			if r.Replaced != "" {
				fmt.Fprintf(w, "  route %s (replaced %s)\n", r.Route, r.Replaced)
			} else {
				fmt.Fprintf(w, "  route %s\n", r.Route)
			}
		}
		for _, n := range m.Neighbours {
			fmt.Fprintf(w, "  neighbour %s lladdr %s dev %s permanent\n", n.IP, n.MAC, n.Link)
		}
	}
}
