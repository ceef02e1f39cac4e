package doctor

import (
	"bufio"
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/coreos/go-systemd/v22/unit"
	"gopkg.in/yaml.v3"

	"github.com/rsprep/rsprep/arp"
	"github.com/rsprep/rsprep/nat"
	"github.com/rsprep/rsprep/tunnel"
)

// fuzzRun writes data to each of paths under a new root and runs doctor
// with the facts of baseFacts (eth0 on 192.168.10.0/24) and every
// process running.
func fuzzRun(t *testing.T, mode string, data []byte, paths ...string) []Finding {
	t.Helper()
	root := t.TempDir()
	for _, p := range paths {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []string{"sbin/ifup", "usr/share/ifupdown2/x"} {
		os.MkdirAll(filepath.Join(root, filepath.Dir(p)), 0o755)
		os.WriteFile(filepath.Join(root, p), nil, 0o644)
	}
	facts := baseFacts()
	facts.Running = Processes()
	in := Input{Mode: mode, Root: root, Facts: facts}
	switch mode {
	case "nat":
		in.Footprint = nat.NAT{DIP: netip.MustParseAddr("192.168.10.1")}.Footprint()
	case "tun":
		in.Footprint = tunnel.TUN{VIPs: []netip.Addr{netip.MustParseAddr("192.168.79.180")}, RPFilter: tunnel.RPFilterLoose}.Footprint()
	default:
		in.Footprint = arp.DR{VIPs: []netip.Addr{netip.MustParseAddr("192.168.79.180")}}.Footprint()
	}
	rep, err := Run(in)
	if err != nil {
		t.Fatal(err)
	}
	return rep.Findings
}

func has(fs []Finding, id, source string) bool {
	return slices.ContainsFunc(fs, func(f Finding) bool {
		return f.ID == id && (source == "" || strings.HasPrefix(f.Source, source))
	})
}

// A netplan file: doctor never panics, a file YAML cannot parse is
// file.unreadable, and when a generic YAML decoding of it (another path
// through yaml.v3: anchors, merges, flow and block forms) turns DHCPv4 on
// for the uplink without use-routes: false, doctor says so.
func FuzzNetplanYAML(f *testing.F) {
	for _, s := range []string{
		"network: {version: 2, ethernets: {eth0: {dhcp4: true}}}\n",
		"network:\n  ethernets:\n    eth0:\n      dhcp4: yes\n      dhcp4-overrides: {use-routes: false}\n",
		"base: &b {dhcp4: on}\nnetwork:\n  ethernets:\n    eth0: {<<: *b}\n",
		"network:\n\tethernets: {}\n",
		"network: [1, 2]\n",
		"---\nnetwork: {ethernets: {eth0: {dhcp4: false}}}\n---\nnetwork: {ethernets: {eth0: {dhcp4: true}}}\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		const file = "/etc/netplan/50-cloud-init.yaml"
		fs := fuzzRun(t, "nat", data, file)
		doc, ok := yamlOracle(t, data, fs, file)
		if !ok {
			return
		}
		if want, known := netplanDHCP4(doc, "eth0"); known && want != has(fs, "netplan.uplink-dhcp", file) {
			t.Fatalf("generic decoding says DHCPv4 on eth0 is %v, doctor's findings: %+v", want, fs)
		}
	})
}

// yamlOracle checks that a file doctor's YAML reader cannot parse is
// file.unreadable, and returns a generic decoding of the file (another
// path through yaml.v3: anchors, merges, flow and block forms) to hold
// doctor's reading against; ok is false when there is none.
func yamlOracle(t *testing.T, data []byte, fs []Finding, file string) (doc any, ok bool) {
	t.Helper()
	if _, _, perr := parseYAML(data); perr != nil {
		if !has(fs, "file.unreadable", file) {
			t.Fatalf("YAML error %v, but no file.unreadable: %+v", perr, fs)
		}
		return nil, false
	}
	// yaml.v3 refuses some only into Go values (a duplicate key): no oracle.
	return doc, yaml.Unmarshal(data, &doc) == nil
}

// netplanDHCP4 is the oracle: dhcp4 true on dev in the last device
// section that names it, without use-routes false; known is false when a
// section has a match: (which the oracle does not evaluate).
func netplanDHCP4(doc any, dev string) (on, known bool) {
	m, _ := doc.(map[string]any)
	net, _ := m["network"].(map[string]any)
	on, routes := false, true
	for _, kind := range netplanKinds {
		devs, _ := net[kind].(map[string]any)
		for _, d := range devs {
			if d, ok := d.(map[string]any); ok {
				if _, has := d["match"]; has {
					return false, false
				}
			}
		}
		d, ok := devs[dev].(map[string]any)
		if !ok {
			continue
		}
		if v, set := d["dhcp4"]; set {
			on = truthy(v)
		}
		if o, ok := d["dhcp4-overrides"].(map[string]any); ok {
			if v, set := o["use-routes"]; set {
				routes = !falsy(v)
			}
		}
	}
	return on && routes, true
}

func truthy(v any) bool {
	switch v := v.(type) {
	case bool:
		return v
	case string:
		return yamlTrue(&ynode{value: v})
	}
	return false
}

func falsy(v any) bool {
	switch v := v.(type) {
	case bool:
		return !v
	case string:
		return yamlFalse(&ynode{value: v})
	}
	return false
}

// A .network, networkd.conf, a NetworkManager keyfile and conf: doctor
// never panics, and a file go-systemd cannot parse is file.unreadable.
func FuzzINIFiles(f *testing.F) {
	for _, s := range []string{
		"[Match]\nName=lo\n\n[Network]\nKeepConfiguration=static\n",
		"[Match]\nType=wlan\nWLANInterfaceType=ad-hoc\n",
		"[connection]\ntype=ethernet\n[ethernet]\nmac-address=52:54:00:12:34:56\n[ipv4]\nmethod=auto\n",
		"[Match]\nName lo\n",
		"[Network]\nDHCP=yes\n[DHCP]\nUseRoutes=false\\\n  continued\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		files := []string{"/etc/systemd/network/10-x.network", "/etc/NetworkManager/system-connections/x.nmconnection", "/etc/NetworkManager/conf.d/x.conf", "/etc/systemd/networkd.conf.d/x.conf"}
		for _, mode := range []string{"dr", "nat"} {
			fs := fuzzRun(t, mode, data, files...)
			if _, err := unit.DeserializeOptions(bytes.NewReader(data)); err != nil && !has(fs, "file.unreadable", files[0]) {
				t.Fatalf("go-systemd: %v, but no file.unreadable: %+v", err, fs)
			}
		}
	})
}

// sysctl.d: never a panic; every assignment comes from a line of the
// file; a plain "key = value" line of a key nothing else sets is what
// Final returns for it.
func FuzzSysctlD(f *testing.F) {
	for _, s := range []string{
		"net.ipv4.conf.all.arp_ignore = 1\n",
		"-net.ipv4.conf.*.rp_filter\nnet.ipv4.conf.eth0/100.rp_filter=2\n",
		"net/ipv4/conf/all/arp_announce=2\n; c\n# c\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s := &SysctlD{byKey: map[string]*Assignment{}}
		s.parse("/f.conf", data)
		lines := bytes.Count(data, []byte("\n")) + 1
		for _, a := range s.byKey {
			var n int
			if _, err := fmt.Sscanf(a.Source, "/f.conf:%d", &n); err != nil || n < 1 || n > lines {
				t.Fatalf("assignment %+v from outside the file's %d lines", a, lines)
			}
		}
		fuzzRun(t, "dr", data, "/etc/sysctl.d/90-x.conf")
	})
}

// ifupdown's interfaces: never a panic, and an `iface eth0 inet dhcp`
// line is always seen.
func FuzzIfupdown(f *testing.F) {
	for _, s := range []string{
		"source /etc/network/interfaces.d/*\nauto lo\niface lo inet loopback\n",
		"auto eth0\niface eth0 inet dhcp\n",
		"source-directory interfaces.d\nsource ../../x\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fs := fuzzRun(t, "nat", data, ifupdownInterfaces, "/etc/network/interfaces.d/x")
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			if f := strings.Fields(sc.Text()); len(f) >= 4 && slices.Equal(f[:4], []string{"iface", "eth0", "inet", "dhcp"}) && !has(fs, "ifupdown.uplink-dhcp", "") {
				t.Fatalf("iface eth0 inet dhcp not seen: %+v", fs)
			}
		}
		fuzzRun(t, "dr", data, ifupdownInterfaces)
	})
}

// [Match] Name= lists of a .network for tunl0 (two assignments, as
// networkd merges them): never a panic, and over names, "*", "?" and "!"
// doctor sees networkd manage tunl0 (networkd.lo-unkept) exactly when
// networkd's own rule says it matches: a matching negated word fails the
// list; otherwise a matching plain word, or no plain word, passes it.
func FuzzNetworkdMatch(f *testing.F) {
	for _, s := range [][2]string{{"tunl0", ""}, {"!eth*", "tun*"}, {"eth* tun?0", "!tunl0"}, {"", "!lo"}, {"!", "t*"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		const file = "/etc/systemd/network/10-x.network"
		data := []byte("[Match]\nName=" + a + "\nName=" + b + "\n\n[Network]\nLinkLocalAddressing=no\n")
		fs := fuzzRun(t, "tun", data, file)
		if strings.Trim(a+b, "abcdefghijklmnopqrstuvwxyz0123456789.*?! ") != "" {
			return // only no panic: no reference for quotes, escapes, classes
		}
		if want := networkdNameMatch([]string{a, b}, "tunl0"); want != has(fs, "networkd.lo-unkept", file) {
			t.Fatalf("Name=%q, Name=%q: networkd manages tunl0: %v; doctor's findings: %+v", a, b, want, fs)
		}
	})
}

// networkdNameMatch is the reference: networkd's config_parse_match_strv
// and net_condition_test_strv, with fnmatch over "*" and "?".
func networkdNameMatch(assignments []string, name string) bool {
	var pats []string
	for _, v := range assignments {
		v = strings.TrimSpace(v)
		if v == "" {
			pats = nil
			continue
		}
		neg := v[0] == '!'
		if neg {
			v = v[1:]
		}
		for _, w := range strings.Fields(v) {
			if neg {
				w = "!" + w
			}
			pats = append(pats, w)
		}
	}
	hit, positive := false, false
	for _, p := range pats {
		neg := p[0] == '!'
		if neg {
			p = p[1:]
		} else {
			positive = true
		}
		if glob(p, name) {
			if neg {
				return false
			}
			hit = true
		}
	}
	return hit || !positive
}

// glob is fnmatch(3) without flags over "*" and "?" only.
func glob(p, s string) bool {
	if p == "" {
		return s == ""
	}
	switch p[0] {
	case '*':
		return glob(p[1:], s) || (s != "" && glob(p, s[1:]))
	case '?':
		return s != "" && glob(p[1:], s[1:])
	}
	return s != "" && p[0] == s[0] && glob(p[1:], s[1:])
}

// cloud.cfg, NAT: never a panic; a file YAML cannot parse is
// file.unreadable; otherwise cloud-init's network configuration is named
// (cloudinit.network) exactly when a generic decoding of the file does
// not say network: {config: disabled}.
func FuzzCloudCfg(f *testing.F) {
	for _, s := range []string{
		"network: {config: disabled}\n",
		"network:\n  config: disabled\n",
		"datasource_list: [NoCloud, None]\nnetwork:\n  version: 2\n",
		"network: disabled\n",
		"base: &n {config: disabled}\nnetwork: *n\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fs := fuzzRun(t, "nat", data, cloudCfg)
		doc, ok := yamlOracle(t, data, fs, cloudCfg)
		if !ok {
			return
		}
		m, _ := doc.(map[string]any)
		n, _ := m["network"].(map[string]any)
		if disabled := n["config"] == "disabled"; disabled == has(fs, "cloudinit.network", "") {
			t.Fatalf("generic decoding: network config disabled %v; doctor's findings: %+v", disabled, fs)
		}
	})
}
