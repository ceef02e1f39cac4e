package test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rsprep/rsprep/test/nstest"
)

// badInput is one rejected command line: exit 2, one line on stderr that
// contains want, nothing on stdout, and nothing changed.
type badInput struct {
	name string
	args []string
	want string
}

// badDR covers apply, verify and down of every DR and common flag.
func badDR() []badInput {
	var cases []badInput
	for _, v := range []struct{ vip, want string }{
		{"", "dr needs at least one --vip"},
		{",,", "dr needs at least one --vip"},
		{"abc", `VIP "abc" is not an IP address`},
		{"300.1.1.1", `VIP "300.1.1.1" is not an IP address`},
		{"192.168.79.180/24", "VIP 192.168.79.180/24 is a prefix"},
		{"192.168.79.180/33", `VIP "192.168.79.180/33" is not an IP address`},
		{"192.168.79.180/32/32", `VIP "192.168.79.180/32/32" is not an IP address`},
		{"2001:db8::/64", "VIP 2001:db8::/64 is a prefix"},
		{"2001:db8::1/127", "VIP 2001:db8::1/127 is a prefix"},
		{"127.0.0.1", "is a loopback address"},
		{"::1", "is a loopback address"},
		{"0.0.0.0", "is the unspecified address"},
		{"::", "is the unspecified address"},
		{"224.0.0.5", "is a multicast address"},
		{"ff02::1", "is a multicast address"},
		{"255.255.255.255", "is the broadcast address"},
		{"169.254.1.1", "is link-local"},
		{"fe80::1", "is link-local"},
		{"fe80::1%eth0", "has a zone"},
		{"::ffff:192.168.79.180", "is IPv4-mapped IPv6"},
		{"240.0.0.1", "is in the reserved range 240.0.0.0/4"},
		{"0.1.2.3", "is in 0.0.0.0/8"},
		{"192.168.79.180,192.168.79.180", "VIP 192.168.79.180 is given twice"},
		{"192.168.79.180,192.168.79.180/32", "VIP 192.168.79.180 is given twice"},
		{"2001:db8::80,2001:DB8:0::80", "VIP 2001:db8::80 is given twice"},
		{"10.0.0.2", "VIP 10.0.0.2 is this host's own address (10.0.0.2/24 on eth0.100)"},
	} {
		for _, act := range [][]string{{"dr"}, {"verify", "dr"}, {"down", "dr"}} {
			cases = append(cases, badInput{strings.Join(act, " ") + " --vip " + v.vip, append(act, "--vip", v.vip), v.want})
		}
	}
	cases = append(cases,
		badInput{"dr twice across flags", []string{"dr", "--vip", vip, "--vip", vip + "/32"}, "is given twice"},
		badInput{"dr without --vip", []string{"dr"}, "dr needs at least one --vip"},
		badInput{"unknown flag", []string{"dr", "--vip", vip, "--bogus"}, "unknown flag: --bogus"},
		badInput{"unknown shorthand", []string{"dr", "--vip", vip, "-x"}, "unknown shorthand flag: 'x'"},
		badInput{"positional argument", []string{"dr", vip}, `unexpected argument "` + vip + `"`},
		badInput{"unknown mode", []string{"rd", "--vip", vip}, `unknown command "rd"`},
		badInput{"verify unknown mode", []string{"verify", "rd", "--vip", vip}, `unknown mode "rd"`},
		badInput{"down unknown mode", []string{"down", "rd", "--vip", vip}, `unknown mode "rd"`},
		badInput{"down without a mode", []string{"down", "--vip", vip}, "the mode is missing"},
		badInput{"-o yaml", []string{"dr", "--vip", vip, "-o", "yaml"}, `--output "yaml"`},
		badInput{"-o empty", []string{"verify", "dr", "--vip", vip, "-o", ""}, `--output ""`},
		badInput{"-o JSON", []string{"verify", "dr", "--vip", vip, "--output=JSON"}, `--output "JSON"`},
		badInput{"-o prometheus for apply", []string{"dr", "--vip", vip, "-o", "prometheus"}, `--output "prometheus"`},
		badInput{"--dry-run=maybe", []string{"dr", "--vip", vip, "--dry-run=maybe"}, "--dry-run"},
		badInput{"--verbose=2", []string{"dr", "--vip", vip, "--verbose=2"}, "--verbose"},
		badInput{"--lock-wait abc", []string{"dr", "--vip", vip, "--lock-wait", "abc"}, "--lock-wait"},
		badInput{"--lock-wait without unit", []string{"dr", "--vip", vip, "--lock-wait", "10"}, "--lock-wait"},
		badInput{"--lock-wait negative", []string{"dr", "--vip", vip, "--lock-wait", "-1s"}, "--lock-wait"},
		badInput{"--lock-wait negative for verify", []string{"verify", "dr", "--vip", vip, "--lock-wait", "-1s"}, "--lock-wait"},
		badInput{"--dry-run for verify", []string{"verify", "dr", "--vip", vip, "--dry-run"}, "unknown flag: --dry-run"},
	)
	return cases
}

// checkBad runs one case through run and checks it was rejected as bad
// input and that nothing changed: the namespace (snapshot) and the state
// directory (not even a lock file).
func checkBad(t *testing.T, rs *nstest.NS, before string, c badInput, run func(args ...string) nstest.Result) {
	t.Helper()
	r := run(c.args...)
	lines := strings.Split(strings.TrimRight(r.Stderr, "\n"), "\n")
	if r.Code != 2 || len(lines) != 1 || !strings.HasPrefix(r.Stderr, "rsprep: ") || !strings.Contains(r.Stderr, c.want) || r.Stdout != "" {
		t.Errorf("rsprep %q: exit %d, stdout %q, stderr %q; want exit 2, no stdout and one stderr line containing %q", c.args, r.Code, r.Stdout, r.Stderr, c.want)
	}
	if entries, _ := os.ReadDir(rs.StateDir); len(entries) != 0 {
		t.Errorf("rsprep %q wrote into the state directory", c.args)
	}
	if after := rs.Snapshot(t); after != before {
		t.Errorf("rsprep %q changed the namespace:\n%s", c.args, diffLines(before, after))
	}
}

// Bad input, table-driven: malformed, out of range, duplicated and
// contradictory values of every flag exit 2 with one line and change
// nothing.
func TestBadInputChangesNothing(t *testing.T) {
	rs, _ := realServer(t)
	before := rs.Snapshot(t)
	run := func(args ...string) nstest.Result { return rs.Rsprep(t, args...) }
	for _, c := range badDR() {
		t.Run(c.name, func(t *testing.T) { checkBad(t, rs, before, c, run) })
	}
}

// --netns names a namespace; a bad one is bad input, and an empty one
// must not silently mean "this host". (These cases, and a flag missing its
// value at the end, run without the harness's own --netns.)
func TestBadNetns(t *testing.T) {
	rs, _ := realServer(t)
	before := rs.Snapshot(t)
	for _, c := range []badInput{
		{"empty", []string{"verify", "dr", "--vip", vip, "--netns", ""}, `--netns ""`},
		{"empty for apply", []string{"dr", "--vip", vip, "--dry-run", "--netns="}, `--netns ""`},
		{"path", []string{"verify", "dr", "--vip", vip, "--netns", "a/b"}, `--netns "a/b"`},
		{"dot-dot", []string{"verify", "dr", "--vip", vip, "--netns", ".."}, `--netns ".."`},
		{"absent", []string{"dr", "--vip", vip, "--netns", "rsprep-no-such-ns"}, "no such network namespace"},
		{"--vip without value", []string{"dr", "--vip"}, "flag needs an argument: --vip"},
		{"--netns without value", []string{"down", "dr", "--vip", vip, "--netns"}, "flag needs an argument: --netns"},
	} {
		t.Run(c.name, func(t *testing.T) {
			checkBad(t, rs, before, c, func(args ...string) nstest.Result {
				return runAs(t, rs, append([]string{nstest.Rsprep(t)}, args...)...)
			})
		})
	}
}

// A config file's errors are bad input too, each naming FILE:LINE, and so
// is mixing --config with desired-state flags.
func TestBadConfigChangesNothing(t *testing.T) {
	rs, _ := realServer(t)
	before := rs.Snapshot(t)
	dir := t.TempDir()
	conf := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := conf("good.conf", "[rsprep]\nmode = dr\nvip = "+vip+"\n")
	run := func(args ...string) nstest.Result { return rs.Rsprep(t, args...) }
	for _, c := range []badInput{
		{"missing file", []string{"apply", "--config", filepath.Join(dir, "none.conf")}, "no such config file"},
		{"garbage", []string{"apply", "--config", conf("garbage.conf", "\x00\x01garbage\n")}, "garbage.conf:1:"},
		{"no section", []string{"verify", "--config", conf("nosection.conf", "mode = dr\n")}, "nosection.conf:1:"},
		{"other section", []string{"apply", "--config", conf("section.conf", "[Service]\nmode = dr\n")}, "section.conf:2:"},
		{"no mode", []string{"apply", "--config", conf("nomode.conf", "[rsprep]\nvip = "+vip+"\n")}, "no mode"},
		{"two modes", []string{"apply", "--config", conf("twomodes.conf", "[rsprep]\nmode = dr\nmode = tun\nvip = "+vip+"\n")}, "twomodes.conf:3:"},
		{"unknown mode", []string{"apply", "--config", conf("badmode.conf", "[rsprep]\nmode = rd\n")}, "badmode.conf:2:"},
		{"unknown key", []string{"apply", "--config", conf("key.conf", "[rsprep]\nmode = dr\nvip = "+vip+"\nnetns = x\n")}, "key.conf:4:"},
		{"bad VIP", []string{"down", "--config", conf("badvip.conf", "[rsprep]\nmode = dr\nvip = 300.1.1.1\n")}, "badvip.conf:3:"},
		{"same VIP twice", []string{"apply", "--config", conf("twice.conf", "[rsprep]\nmode = dr\nvip = "+vip+"\nvip = "+vip+"/32\n")}, "twice.conf:4:"},
		{"empty value", []string{"apply", "--config", conf("empty.conf", "[rsprep]\nmode = dr\nvip =\n")}, "empty.conf:3:"},
		{"continuation", []string{"apply", "--config", conf("cont.conf", "[rsprep]\nmode = dr\nvip = "+vip+" \\\n")}, "cont.conf:3:"},
		{"tun strict rp_filter", []string{"apply", "--config", conf("strict.conf", "[rsprep]\nmode = tun\nvip = "+vip+"\nrp-filter = strict\n")}, "strict.conf:4:"},
		{"tun gue without a port", []string{"apply", "--config", conf("gue.conf", "[rsprep]\nmode = tun\nvip = "+vip+"\nencap = gue\n")}, "--encap gue needs --encap-port"},
		{"nat DIP is the network", []string{"apply", "--config", conf("dip.conf", "[rsprep]\nmode = nat\ndip = 10.0.0.0\n")}, "is the network address"},
		{"nat DIP twice", []string{"apply", "--config", conf("dip2.conf", "[rsprep]\nmode = nat\ndip = 10.0.0.1\ndip = 10.0.0.3\n")}, "dip2.conf:4:"},
		{"dr key of nat", []string{"apply", "--config", conf("drkeep.conf", "[rsprep]\nmode = dr\nvip = "+vip+"\nkeep-route = 10.20.0.0/16\n")}, "drkeep.conf:4:"},
		{"dr forwarding on", []string{"apply", "--config", conf("fwd.conf", "[rsprep]\nmode = dr\nvip = "+vip+"\nforwarding = on\n")}, "fwd.conf:4: --forwarding \"on\""},
		{"tun bad dip", []string{"verify", "--config", conf("tundip.conf", "[rsprep]\nmode = tun\nvip = "+vip+"\ndip = 300.1.1.1\n")}, "tundip.conf:4:"},
		{"dr dip is the VIP", []string{"apply", "--config", conf("drdip.conf", "[rsprep]\nmode = dr\nvip = "+vip+"\ndip = "+vip+"\n")}, "is also a --vip"},
		{"flag and config", []string{"dr", "--config", good, "--vip", vip}, "--vip is given both in"},
		{"config of another mode", []string{"tun", "--config", good}, "mode = dr, but the command is for tun"},
	} {
		t.Run(c.name, func(t *testing.T) { checkBad(t, rs, before, c, run) })
	}
}

// badModes covers tun, nat and the gateway pinning flags, including flags
// that contradict the mode (a DIP for DR, a VIP for NAT).
func badModes() []badInput {
	mac := "52:54:00:12:34:56"
	var cases []badInput
	add := func(name, want string, args ...string) {
		cases = append(cases, badInput{name, args, want})
	}
	with := func(base []string, more ...string) []string { return append(slices.Clone(base), more...) }
	// Contradictory: each mode takes only its own flags.
	add("dr --keep-route", "unknown flag: --keep-route", "dr", "--vip", vip, "--keep-route", "172.16.0.0/12")
	add("dr --rp-filter", "unknown flag: --rp-filter", "dr", "--vip", vip, "--rp-filter", "loose")
	add("nat --forwarding", "unknown flag: --forwarding", "nat", "--dip", "10.0.0.1", "--forwarding", "off")
	add("nat --vip", "unknown flag: --vip", "nat", "--dip", "10.0.0.1", "--vip", vip)
	add("nat --rp-filter", "unknown flag: --rp-filter", "nat", "--dip", "10.0.0.1", "--rp-filter", "off")
	// tun
	add("tun without --vip", "tun needs at least one --vip", "tun")
	add("tun bad VIP", `VIP "10.0.0.256" is not an IP address`, "tun", "--vip", "10.0.0.256")
	add("tun VIP twice", "is given twice", "tun", "--vip", vip+","+vip)
	add("tun VIP is the RIP", "is this host's own address", "tun", "--vip", "10.0.0.2")
	add("tun VIP prefix", "is a prefix", "tun", "--vip", vip+"/24")
	for _, v := range []string{"strict", "1", "LOOSE", "on"} {
		add("tun --rp-filter "+v, `--rp-filter "`+v+`"`, "tun", "--vip", vip, "--rp-filter", v)
	}
	add("tun --rp-filter with IPv6 VIPs only", "rp_filter is IPv4 only", "tun", "--vip", "2001:db8::80", "--rp-filter", "loose")
	add("verify tun --rp-filter strict", `--rp-filter "strict"`, "verify", "tun", "--vip", vip, "--rp-filter", "strict")
	// tun encapsulations (issue 16): the same on apply, verify and down
	for _, act := range [][]string{{"tun"}, {"verify", "tun"}, {"down", "tun"}} {
		name := strings.Join(act, " ")
		add(name+" --encap gue without a port", "--encap gue needs --encap-port", append(act, "--vip", vip, "--encap", "gue")...)
		add(name+" --encap-port without gue", "--encap-port 6080 is for --encap gue, and the encapsulation is ipip", append(act, "--vip", vip, "--encap-port", "6080")...)
		add(name+" --encap-port with gre", "the encapsulation is gre", append(act, "--vip", vip, "--encap", "gre", "--encap-port", "6080")...)
		add(name+" --encap vxlan", `--encap "vxlan": want ipip, gue or gre`, append(act, "--vip", vip, "--encap", "vxlan")...)
		add(name+" --encap-port 70000", `invalid argument "70000" for "--encap-port"`, append(act, "--vip", vip, "--encap", "gue", "--encap-port", "70000")...)
		add(name+" --underlay 6", `--underlay "6": want ipv4 or ipv6`, append(act, "--vip", vip, "--underlay", "6")...)
		add(name+" --mss 100", `--mss "100": want auto or a number`, append(act, "--vip", vip, "--mss", "100")...)
	}
	// --forwarding and --dip for dr and tun (the host's default route is
	// via 10.0.0.1, so 192.0.2.1 is routed but not on-link).
	for _, mode := range [][]string{{"dr"}, {"tun"}, {"verify", "dr"}, {"down", "dr"}, {"verify", "tun"}} {
		m := strings.Join(mode, " ")
		base := with(mode, "--vip", vip)
		add(m+" --forwarding on", `--forwarding "on": the only value is off`, with(base, "--forwarding", "on")...)
		add(m+" --forwarding 0", `--forwarding "0"`, with(base, "--forwarding", "0")...)
		add(m+" --forwarding OFF", `--forwarding "OFF"`, with(base, "--forwarding", "OFF")...)
		add(m+" --dip 300.1.1.1", `--dip "300.1.1.1" is not an IP address`, with(base, "--dip", "300.1.1.1")...)
		add(m+" --dip is a VIP", "--dip "+vip+" is also a --vip", with(base, "--dip", vip)...)
		add(m+" --dip IPv6", "IPv4 only", with(base, "--dip", "2001:db8::1")...)
		add(m+" --dip loopback", "is a loopback address", with(base, "--dip", "127.0.0.1")...)
	}
	for _, mode := range [][]string{{"dr"}, {"verify", "dr"}} {
		m := strings.Join(mode, " ")
		base := with(mode, "--vip", vip)
		add(m+" --dip not on-link", "--dip 192.0.2.1 is not on-link: it is in no directly connected subnet of an up interface (connected: eth0.100 10.0.0.0/24): DR needs the director and the real server on one L2 segment", with(base, "--dip", "192.0.2.1")...)
		add(m+" --dip is this host", "--dip 10.0.0.2 is this host's own address", with(base, "--dip", "10.0.0.2")...)
		add(m+" --dip broadcast", "is the broadcast address of 10.0.0.0/24", with(base, "--dip", "10.0.0.255")...)
	}
	add("tun --dip is this host", "--dip 10.0.0.2 is this host's own address", "tun", "--vip", vip, "--dip", "10.0.0.2")
	// nat
	add("nat without --dip", "nat needs --dip", "nat")
	add("nat --dip garbage", `--dip "ten.0.0.1"`, "nat", "--dip", "ten.0.0.1")
	add("nat --dip with prefix", `--dip "10.0.0.1/24"`, "nat", "--dip", "10.0.0.1/24")
	add("nat --dip IPv6 off-link", "--dip 2001:db8::1 is not on-link", "nat", "--dip", "2001:db8::1")
	add("nat two IPv4 DIPs", "--dip 10.0.0.1 and --dip 10.0.0.3 are of one family", "nat", "--dip", "10.0.0.1", "--dip", "10.0.0.3")
	add("nat --dip loopback", "is a loopback address", "nat", "--dip", "127.0.0.1")
	add("nat --dip multicast", "is a multicast address", "nat", "--dip", "224.0.0.1")
	add("nat --dip unspecified", "is the unspecified address", "nat", "--dip", "0.0.0.0")
	add("nat --dip is this host", "is this host's own address", "nat", "--dip", "10.0.0.2")
	add("nat --dip off-link", "is not on-link", "nat", "--dip", "192.0.2.1")
	add("nat --dip network address", "is the network address of 10.0.0.0/24", "nat", "--dip", "10.0.0.0")
	add("nat --dip broadcast address", "is the broadcast address of 10.0.0.0/24", "nat", "--dip", "10.0.0.255")
	add("down nat --dip garbage", `--dip "x"`, "down", "nat", "--dip", "x")
	for _, c := range []struct{ route, want string }{
		{"garbage", `--keep-route "garbage"`},
		{"172.16.0.1/12", "has host bits set"},
		{"172.16.0.0/33", `--keep-route "172.16.0.0/33"`},
		{"0.0.0.0/0", "would keep every destination"},
		{"2001:db8::/32", "there is no --dip of its family"},
		{"172.16.0.0/12,172.16.0.0/12", "is given twice"},
		{"10.0.0.0/25", "directly connected"},
	} {
		add("nat --keep-route "+c.route, c.want, "nat", "--dip", "10.0.0.1", "--keep-route", c.route)
	}
	// --pin-gateway-arp and its companions, for every mode.
	for _, mode := range [][]string{{"dr", "--vip", vip}, {"tun", "--vip", vip}, {"nat", "--dip", "10.0.0.1"}} {
		m := mode[0]
		add(m+" --gateway without --pin-gateway-arp", "are for --pin-gateway-arp", with(mode, "--gateway", "10.0.0.1")...)
		add(m+" --gateway-mac without --pin-gateway-arp", "are for --pin-gateway-arp", with(mode, "--gateway-mac", mac)...)
		add(m+" --pin-gateway-arp=maybe", "--pin-gateway-arp", with(mode, "--pin-gateway-arp=maybe")...)
		pin := with(mode, "--pin-gateway-arp")
		add(m+" --gateway garbage", `--gateway "gw"`, with(pin, "--gateway", "gw")...)
		add(m+" --gateway IPv6", "IPv4 only", with(pin, "--gateway", "2001:db8::1")...)
		add(m+" --gateway multicast", "is a multicast address", with(pin, "--gateway", "224.0.0.1")...)
		add(m+" --gateway is this host", "is this host's own address", with(pin, "--gateway", "10.0.0.2", "--gateway-mac", mac)...)
		add(m+" --gateway off-link", "is not on-link", with(pin, "--gateway", "192.0.2.1", "--gateway-mac", mac)...)
		add(m+" --gateway broadcast", "is the broadcast address of 10.0.0.0/24", with(pin, "--gateway", "10.0.0.255", "--gateway-mac", mac)...)
		for _, bad := range []string{"52:54:00:12:34", "zz:54:00:12:34:56", "01:00:5e:00:00:01", "ff:ff:ff:ff:ff:ff", "00:00:00:00:00:00", "52:54:00:12:34:56:78:9a"} {
			add(m+" --gateway-mac "+bad, "--gateway-mac", with(pin, "--gateway-mac", bad)...)
		}
	}
	return cases
}

// The same for tun, nat and gateway pinning, on a real server with a
// default route (via 10.0.0.1, the peer).
func TestBadModeInputChangesNothing(t *testing.T) {
	rs, _ := realServer(t)
	rs.Must(t, "ip", "route", "add", "default", "via", "10.0.0.1")
	before := rs.Snapshot(t)
	run := func(args ...string) nstest.Result { return rs.Rsprep(t, args...) }
	for _, c := range badModes() {
		t.Run(c.name, func(t *testing.T) { checkBad(t, rs, before, c, run) })
	}
}
