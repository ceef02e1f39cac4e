package doctor

import (
	"bufio"
	"bytes"
	"fmt"
	"path"
	"regexp"
	"slices"
	"strings"
)

// ifupdownInterfaces is Debian's ifupdown configuration; `source` and
// `source-directory` pull in more (Debian's stock file ends with
// `source /etc/network/interfaces.d/*`, where cloud-init writes
// 50-cloud-init).
const ifupdownInterfaces = "/etc/network/interfaces"

// ifupdown reports, when ifupdown (or ifupdown2) is installed in the root:
//   - NAT: `iface UPLINK inet dhcp` (or inet6 dhcp/auto): every lease
//     renewal puts the router back as the default route;
//   - DR/TUN with ifupdown2: a stanza for a VIP's device (the stock
//     `iface lo inet loopback`): `ifreload -a` removes the addresses the
//     stanza does not list from it, rsprep's VIPs.
//
// Read: iface stanzas, source (globs) and source-directory. Not read:
// mapping stanzas, dhclient.conf or hooks that drop the router.
func (d *doctor) ifupdown() {
	ifup2 := d.t.exists("/usr/share/ifupdown2") || d.t.exists("/usr/sbin/ifreload") || d.t.exists("/sbin/ifreload")
	if !ifup2 && !d.t.exists("/sbin/ifup") && !d.t.exists("/usr/sbin/ifup") {
		return
	}
	fp, uplink := d.in.Footprint, d.uplink()
	for _, st := range d.ifaceStanzas(ifupdownInterfaces, 0) {
		if st.name == uplink && uplink != "" && (st.method == "dhcp" || st.family == "inet6" && st.method == "auto") {
			d.add(Finding{
				ID: "ifupdown.uplink-dhcp", Source: st.source, Subject: uplink,
				What: fmt.Sprintf("ifupdown configures the uplink %s by %s %s: at every lease renewal (and at ifup) the router becomes the default route again, over the one via the DIP", uplink, st.family, st.method),
				Fix:  fmt.Sprintf("make it `iface %s %s static` with its address and `gateway %s`, or stop the DHCP client from taking the router (dhclient.conf: leave routers out of request)", uplink, st.family, fp.DefaultVia),
			})
		}
		if ifup2 && slices.Contains(fp.VIPDevices, st.name) {
			d.add(Finding{
				ID: "ifupdown.lo", Source: st.source, Subject: st.name,
				What: fmt.Sprintf("ifupdown2 configures %s: ifreload -a (and ifup) removes the addresses its stanza does not list, rsprep's VIPs", st.name),
				Fix:  "list each VIP in that stanza (address VIP/32, VIP/128 for IPv6) so that ifreload keeps them, or remove the stanza",
			})
		}
	}
}

// ifaceStanza is one `iface NAME FAMILY METHOD` line.
type ifaceStanza struct {
	name, family, method, source string
}

// runPartsName is what source-directory includes (run-parts' default).
var runPartsName = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// ifaceStanzas reads one interfaces file and what it sources, in order.
func (d *doctor) ifaceStanzas(file string, depth int) []ifaceStanza {
	if depth > 8 {
		d.t.cannotRead(file, fmt.Errorf("sourced more than 8 deep"))
		return nil
	}
	data, ok := d.t.read(file)
	if !ok {
		return nil
	}
	var out []ifaceStanza
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		f := strings.Fields(sc.Text())
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		switch {
		case f[0] == "iface" && len(f) >= 4:
			out = append(out, ifaceStanza{name: f[1], family: f[2], method: f[3], source: fmt.Sprintf("%s:%d", file, n)})
		case f[0] == "iface" && len(f) >= 2: // ifupdown2: `iface lo` alone
			out = append(out, ifaceStanza{name: f[1], source: fmt.Sprintf("%s:%d", file, n)})
		case f[0] == "source" && len(f) >= 2:
			for _, inc := range d.sourceGlob(file, f[1]) {
				out = append(out, d.ifaceStanzas(inc, depth+1)...)
			}
		case (f[0] == "source-directory" || f[0] == "source-dir") && len(f) >= 2:
			dir := f[1]
			if !path.IsAbs(dir) {
				dir = path.Join(path.Dir(file), dir)
			}
			for _, name := range d.t.list(dir, "") {
				if runPartsName.MatchString(name) {
					out = append(out, d.ifaceStanzas(path.Join(dir, name), depth+1)...)
				}
			}
		}
	}
	return out
}

// sourceGlob expands a `source` pattern (relative to the sourcing file's
// directory) inside the root, in name order; a pattern without
// wildcards is the file itself.
func (d *doctor) sourceGlob(from, pattern string) []string {
	if !path.IsAbs(pattern) {
		pattern = path.Join(path.Dir(from), pattern)
	}
	dir, base := path.Split(pattern)
	if !strings.ContainsAny(base, "*?[") {
		return []string{pattern}
	}
	var out []string
	for _, name := range d.t.list(dir, "") {
		if ok, _ := path.Match(base, name); ok {
			out = append(out, path.Join(dir, name))
		}
	}
	return out
}
