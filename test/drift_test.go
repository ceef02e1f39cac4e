package test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rsprep/rsprep/test/nstest"
)

// driftVIPs are the drift storm's VIPs, both families.
var driftVIPs = []string{"192.168.79.180", "192.168.79.181", "192.168.79.182", "10.9.0.1", "2001:db8::80", "2001:db8::81"}

// driftKeys are the sysctls the storm flips, with the values the kernel
// accepts; rp_filter is no DR invariant, so flipping it must not be
// reported.
var driftKeys = map[string][]int{"arp_ignore": {0, 1, 2, 3, 8}, "arp_announce": {0, 1, 2}, "rp_filter": {0, 1, 2}}

// driftIfaces are where the storm flips them: the uplink has a dotted name.
var driftIfaces = []string{"all", "default", "lo", "eth0.100"}

// drift builds one round of random drift as a shell script: remove some
// VIPs from lo, put one on the uplink, flip some sysctls.
func drift(rng *rand.Rand) string {
	var sh []string
	for _, ip := range driftVIPs {
		if rng.IntN(4) == 0 {
			sh = append(sh, "ip addr del "+hostPrefix(ip)+" dev lo")
		}
	}
	if rng.IntN(2) == 0 {
		sh = append(sh, "ip addr add "+hostPrefix(driftVIPs[rng.IntN(len(driftVIPs))])+" dev eth0.100 nodad")
	}
	for _, iface := range driftIfaces {
		for _, name := range []string{"arp_ignore", "arp_announce", "rp_filter"} {
			if rng.IntN(5) == 0 {
				vals := driftKeys[name]
				sh = append(sh, fmt.Sprintf("echo %d > /proc/sys/net/ipv4/conf/%s/%s", vals[rng.IntN(len(vals))], iface, name))
			}
		}
	}
	return strings.Join(sh, "\n")
}

func hostPrefix(ip string) string {
	if strings.Contains(ip, ":") {
		return ip + "/128"
	}
	return ip + "/32"
}

// expectedFailures computes, independently of rsprep, which DR checks fail
// in ns now: from `ip` and /proc, with the kernel's max(all, iface) rule.
func expectedFailures(t *testing.T, ns *nstest.NS) []string {
	t.Helper()
	var fail []string
	lo := ns.Must(t, "ip", "-o", "addr", "show", "dev", "lo")
	up := ns.Must(t, "ip", "-o", "addr", "show", "dev", "eth0.100")
	for _, ip := range driftVIPs {
		if !strings.Contains(lo, " "+hostPrefix(ip)+" ") {
			fail = append(fail, "vip.bound "+ip)
		}
		if strings.Contains(up, " "+hostPrefix(ip)+" ") {
			fail = append(fail, "vip.exclusive "+ip)
		}
	}
	values := map[string]int{}
	out := ns.Sh(t, "cd /proc/sys/net/ipv4/conf && for f in */arp_ignore */arp_announce; do echo $f $(cat $f); done")
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Fields(l)
		v, err := strconv.Atoi(f[1])
		if err != nil {
			t.Fatal(l)
		}
		values[f[0]] = v
	}
	for _, c := range []struct {
		id, name string
		want     int
	}{{"arp.ignore", "arp_ignore", 1}, {"arp.announce", "arp_announce", 2}} {
		for _, iface := range []string{"all", "default", "lo"} {
			if values[iface+"/"+c.name] != c.want {
				fail = append(fail, c.id+" "+iface)
			}
		}
		if max(values["all/"+c.name], values["eth0.100/"+c.name]) != c.want {
			fail = append(fail, c.id+" eth0.100")
		}
	}
	slices.Sort(fail)
	return fail
}

// verifyFailures runs verify -o json and returns its exit code and the
// failing checks as "id subject".
func verifyFailures(t *testing.T, ns *nstest.NS, vips string) (int, []string) {
	t.Helper()
	r := ns.Rsprep(t, "verify", "dr", "--vip", vips, "-o", "json")
	var rep struct {
		Checks []struct {
			ID, Subject string
			OK          bool
		}
	}
	if err := json.Unmarshal([]byte(r.Stdout), &rep); err != nil {
		t.Fatalf("verify exit %d: %v\n%s%s", r.Code, err, r.Stdout, r.Stderr)
	}
	var fail []string
	for _, c := range rep.Checks {
		if !c.OK {
			fail = append(fail, c.ID+" "+c.Subject)
		}
	}
	slices.Sort(fail)
	return r.Code, fail
}

// The drift storm: 200 rounds of random drift, each followed by verify
// (which must report exactly the checks the drift broke, computed here
// from ip and /proc) and apply (after which verify must hold). Set
// RSPREP_DRIFT_SEED to replay a failing storm.
func TestDriftStorm(t *testing.T) {
	const rounds = 200
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("RSPREP_DRIFT_SEED"); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("replay with RSPREP_DRIFT_SEED=%d", seed)
		}
	})
	rng := rand.New(rand.NewPCG(seed, 0))
	rs, _ := realServer(t)
	vips := strings.Join(driftVIPs, ",")
	mustRun(t, rs, 0, "dr", "--vip", vips)
	drifted := 0
	for round := 1; round <= rounds; round++ {
		script := drift(rng)
		if script != "" {
			rs.Sh(t, script)
		}
		want := expectedFailures(t, rs)
		code, got := verifyFailures(t, rs, vips)
		if wantCode := min(len(want), 1); code != wantCode || !slices.Equal(got, want) {
			t.Fatalf("round %d: after the drift\n%s\nverify exit %d (want %d) reports failing %q, want %q", round, script, code, wantCode, got, want)
		}
		if len(want) > 0 {
			drifted++
		}
		mustRun(t, rs, 0, "dr", "--vip", vips, "--take-vip-from-arp-interface") // the VIP put on the uplink
		if code, got := verifyFailures(t, rs, vips); code != 0 {
			t.Fatalf("round %d: after apply, verify exit %d: %q still fail", round, code, got)
		}
	}
	t.Logf("%d rounds, %d with drift that verify caught (seed %d)", rounds, drifted, seed)
	if drifted < rounds/2 {
		t.Errorf("only %d of %d rounds drifted: the storm is too calm to prove anything", drifted, rounds)
	}
}
