package realserver_test

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/rsprep/rsprep/realserver"
	"github.com/rsprep/rsprep/realserver/fake"
	"github.com/rsprep/rsprep/tunnel"
)

// A dry run is the whole plan: on each mode's host, the changes --dry-run
// lists are the changes the real apply then makes, the same ones in the
// same order, while the dry run itself writes nothing (host, record). The
// tun host has no tunl0: a plan of one round would stop at modprobe and
// the sysctls of the devices that exist.
func TestDryRunIsWhatApplyDoes(t *testing.T) {
	mustPlan := map[string][]string{
		"tun": {
			"modprobe ipip",
			"ip link set dev tunl0 up",
			"ip addr add 192.0.2.1/32 dev tunl0 label tunl0:rsprep proto 114",
			"ip addr add 2001:db8::1/128 dev ip6tnl0 proto 114",
		},
	}
	cases := append(faultCases(), encapCases()...)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "record.json")
			h := c.seed(t, path)
			host, writes := h.Render(), h.Writes()
			record, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}

			dry, err := quietEngine(h, loadRecord(t, path), c.mode).Apply(c.invs, true)
			if err != nil {
				t.Fatalf("dry run: %v", err)
			}
			if h.Writes() != writes || h.Render() != host {
				t.Fatalf("the dry run changed the host (%d writes):\n%s", h.Writes()-writes, h.Render())
			}
			if after, _ := os.ReadFile(path); string(after) != string(record) {
				t.Fatalf("the dry run changed the record:\n%s", after)
			}
			if realserver.AllOK(dry.Checks) {
				t.Fatalf("the dry run's checks are not the host's as it is now: all pass")
			}

			real, err := quietEngine(h, loadRecord(t, path), c.mode).Apply(c.invs, false)
			if err != nil {
				t.Fatalf("apply: %v", err)
			}
			planned, made := changeLines(dry.Changes), changeLines(real.Changes)
			if !slices.Equal(planned, made) {
				t.Errorf("dry run planned:\n  %s\napply made:\n  %s", strings.Join(planned, "\n  "), strings.Join(made, "\n  "))
			}
			// Not only the commands: the values each change replaces
			// (what the record and a rollback use) are predicted too.
			if !reflect.DeepEqual(dry.Changes, real.Changes) {
				t.Errorf("same commands, other values:\nplanned %+v\nmade    %+v", dry.Changes, real.Changes)
			}
			for _, want := range mustPlan[c.name] {
				if !slices.Contains(planned, want) {
					t.Errorf("the plan lacks %q", want)
				}
			}
		})
	}
}

// encapCases are TUN's other encapsulations, on tunHost with every tunnel
// module loadable: GUE (fou and its port, once loaded), GRE (gre0, from
// ip_gre), IPv4 VIPs over an IPv6 underlay (ip6tnl0 switched to mode
// any), and an MSS clamp (policy routing in a table of its own).
func encapCases() []faultCase {
	seed := func(t *testing.T, path string) *fake.Host {
		h := tunHost(t, path)
		for _, m := range []string{"fou", "fou6", "ip_gre", "ip6_gre"} {
			h.AllowModule(m)
		}
		return h
	}
	v4 := vips("192.0.2.1", "192.0.2.2")
	var out []faultCase
	for name, spec := range map[string]tunnel.TUN{
		"tun-gue":        {VIPs: tunVIPs, Encap: tunnel.EncapGUE, Port: 6080},
		"tun-gre":        {VIPs: tunVIPs, Encap: tunnel.EncapGRE},
		"tun-underlay-6": {VIPs: v4, Underlay: 6},
		"tun-mss":        {VIPs: v4, MSS: 1400},
	} {
		out = append(out, faultCase{name: name, seed: seed, invs: spec.Invariants(), vips: spec.VIPs, mode: "tun"})
	}
	return out
}

func changeLines(cs []realserver.Change) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.String()
	}
	return out
}
