package doctor

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rsprep/rsprep/arp"
	"github.com/rsprep/rsprep/nat"
	"github.com/rsprep/rsprep/realserver"
	"github.com/rsprep/rsprep/tunnel"
)

var update = flag.Bool("update", false, "rewrite the golden want.txt files")

// goldenCase is testdata/<case>/case.json: the mode as the command line
// would give it, and the live facts on top of baseFacts.
type goldenCase struct {
	Mode     string         `json:"mode"`
	VIPs     []string       `json:"vips"`
	DIP      string         `json:"dip"`
	RPFilter string         `json:"rp_filter"`
	MSS      string         `json:"mss"`
	Encap    string         `json:"encap"`
	Port     uint16         `json:"port"`
	Keep     []string       `json:"keep_routes"`
	Pin      bool           `json:"pin_gateway_arp"`
	Links    []Link         `json:"links"`
	Sysctls  map[string]int `json:"sysctls"`
	Running  []string       `json:"running"`
	Note     string         `json:"note"`
	// Also are other finding IDs the tree shows by nature (netplan's
	// own finding beside the networkd file it generates).
	Also []string `json:"also"`
}

// baseFacts is a plain host: lo, and eth0 with the RIP, every ARP and
// forwarding knob at the kernel's default, IPv6 RAs not accepted.
func baseFacts() Facts {
	f := Facts{
		Links: []Link{
			{Name: "lo", Type: "device", Up: true},
			{Name: "eth0", Type: "veth", Up: true, ARPCapable: true, Addrs: []netip.Prefix{netip.MustParsePrefix("192.168.10.2/24")}},
		},
		Sysctls: map[string]int{keyIPForward: 0, keyIP6Forward: 0},
	}
	for _, i := range []string{"all", "default", "lo", "eth0"} {
		for _, n := range []string{"arp_ignore", "arp_announce", "rp_filter", "proxy_arp"} {
			f.Sysctls[confKey(4, i, n)] = 0
		}
		f.Sysctls[confKey(6, i, "accept_ra")] = 0
		f.Sysctls[confKey(6, i, "forwarding")] = 0
	}
	return f
}

func (c goldenCase) input(t *testing.T, dir string) Input {
	t.Helper()
	var vips []netip.Addr
	for _, v := range c.VIPs {
		vips = append(vips, netip.MustParseAddr(v))
	}
	var fp realserver.Footprint
	var dip netip.Addr // dr and tun: --dip, which rsprep drain needs
	if c.Mode != "nat" && c.DIP != "" {
		dip = netip.MustParseAddr(c.DIP)
	}
	switch c.Mode {
	case "dr":
		var pin *arp.Pin
		if c.Pin {
			pin = &arp.Pin{}
		}
		fp = arp.DR{VIPs: vips, Pin: pin, DIP: dip}.Footprint()
	case "tun":
		rp, err := tunnel.ParseRPFilter(c.RPFilter)
		if err != nil {
			t.Fatal(err)
		}
		mss, err := tunnel.ParseMSS(c.MSS)
		if err != nil {
			t.Fatal(err)
		}
		fp = tunnel.TUN{VIPs: vips, RPFilter: rp, MSS: mss, Encap: tunnel.Encap(c.Encap), Port: c.Port, DIP: dip}.Footprint()
	case "nat":
		var keep []netip.Prefix
		for _, k := range c.Keep {
			keep = append(keep, netip.MustParsePrefix(k))
		}
		n := nat.NAT{KeepRoutes: keep}
		for _, s := range strings.Split(c.DIP, ",") { // dual stack: "IPv4,IPv6"
			if ip := netip.MustParseAddr(s); ip.Is4() {
				n.DIP = ip
			} else {
				n.DIP6 = ip
			}
		}
		fp = n.Footprint()
	default:
		t.Fatalf("case mode %q", c.Mode)
	}
	f := baseFacts()
	for _, l := range c.Links { // a link of baseFacts' name replaces it
		if i := slices.IndexFunc(f.Links, func(b Link) bool { return b.Name == l.Name }); i >= 0 {
			f.Links[i] = l
		} else {
			f.Links = append(f.Links, l)
		}
	}
	for k, v := range c.Sysctls {
		f.Sysctls[k] = v
	}
	f.Running = c.Running
	return Input{Mode: c.Mode, Footprint: fp, Root: filepath.Join(dir, "root"), Facts: f}
}

// Each tree under testdata holds one finding (the directory's name, up to
// an optional "+variant"), or none for "clean": the golden file is the
// text output, and every finding in it must carry that ID.
func TestGoldenTrees(t *testing.T) {
	dirs, err := filepath.Glob("testdata/*")
	if err != nil || len(dirs) < 15 {
		t.Fatalf("testdata trees: %v %v", dirs, err)
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(dir, "case.json"))
			if err != nil {
				t.Fatal(err)
			}
			var c goldenCase
			if err := json.Unmarshal(data, &c); err != nil {
				t.Fatal(err)
			}
			in := c.input(t, dir)
			rep, err := Run(in)
			if err != nil {
				t.Fatal(err)
			}
			rep.Root = "testdata/" + filepath.Base(dir) + "/root"
			got := text(rep)
			id, _, _ := strings.Cut(filepath.Base(dir), "+")
			if id == "clean" {
				if !rep.OK || len(rep.Findings) != 0 {
					t.Errorf("clean tree: findings\n%s", got.String())
				}
			} else {
				if rep.OK || len(rep.Findings) == 0 {
					t.Errorf("no finding, want %s", id)
				}
				for _, f := range rep.Findings {
					if f.ID != id && !slices.Contains(c.Also, f.ID) {
						t.Errorf("finding %s in the %s tree:\n%s", f.ID, id, got.String())
					}
				}
			}
			golden := filepath.Join(dir, "want.txt")
			if *update {
				if err := os.WriteFile(golden, got.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if got.String() != string(want) {
				t.Errorf("got\n%s\nwant\n%s", got.String(), want)
			}
		})
	}
}

// text is the report as `rsprep doctor` prints it: a line per finding,
// then the summary.
func text(r Report) *bytes.Buffer {
	var b bytes.Buffer
	for _, f := range r.Findings {
		fmt.Fprintln(&b, f)
	}
	fmt.Fprintln(&b, r.Summary())
	return &b
}
