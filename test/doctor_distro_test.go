package test

import (
	"encoding/json"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rsprep/rsprep/test/nstest"
)

// debImage unpacks Debian packages (downloaded and unpacked once by
// test/doctor-debs.sh, cached in test/.cache) into a new image root and
// adds files on top: path → content, "->TARGET" for a symlink. The
// packages' own files, not imitations of them.
func debImage(t *testing.T, pkgs []string, extra map[string]string) string {
	t.Helper()
	out, err := exec.Command(filepath.Join(nstest.RepoRoot(), "test/doctor-debs.sh"), pkgs...).Output()
	if err != nil {
		t.Fatalf("test/doctor-debs.sh %s: %v (it needs apt sources and the network once; its cache is test/.cache)", strings.Join(pkgs, " "), err)
	}
	img := t.TempDir()
	for _, dir := range strings.Fields(string(out)) {
		if out, err := exec.Command("cp", "-a", dir+"/.", img).CombinedOutput(); err != nil {
			t.Fatalf("cp -a %s: %v\n%s", dir, err, out)
		}
	}
	for p, content := range extra {
		full := filepath.Join(img, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		os.Remove(full)
		if target, ok := strings.CutPrefix(content, "->"); ok {
			err = os.Symlink(target, full)
		} else {
			err = os.WriteFile(full, []byte(content), 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return img
}

// editFile replaces old by new in a file of the image, as an operator would.
func editFile(t *testing.T, img, p, old, new string) {
	t.Helper()
	full := filepath.Join(img, p)
	data, err := os.ReadFile(full)
	if err != nil || !strings.Contains(string(data), old) {
		t.Fatalf("%s: %v, or no %q in it", p, err, old)
	}
	if err := os.WriteFile(full, []byte(strings.Replace(string(data), old, new, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}

// cloudInit is what cloud-init 22.4's own renderers (Debian 12's
// package, with Debian's settings) write for a datasource's eth0, MAC
// ciMAC: test/doctor-cloudinit.sh renders case RENDERER-CONFIG once into
// test/.cache. Returned as path → content ("->TARGET" for a link), for
// debImage.
func cloudInit(t *testing.T, c string) map[string]string {
	t.Helper()
	out, err := exec.Command(filepath.Join(nstest.RepoRoot(), "test/doctor-cloudinit.sh"), c).Output()
	if err != nil {
		t.Fatalf("test/doctor-cloudinit.sh %s: %v (it needs apt sources and the network once, and /usr/bin/python3; its cache is test/.cache)", c, err)
	}
	dir := strings.TrimSpace(string(out))
	files := map[string]string{}
	err = filepath.WalkDir(dir, func(p string, e os.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if e.Type()&os.ModeSymlink != 0 { // netplan's generator links units into .wants
			target, err := os.Readlink(p)
			files[rel] = "->" + target
			return err
		}
		data, err := os.ReadFile(p)
		files[rel] = string(data)
		return err
	})
	if err != nil || len(files) == 0 {
		t.Fatalf("cloud-init's %s files in %s: %v (%d files)", c, dir, err, len(files))
	}
	return files
}

// with is files and more, as one map for debImage.
func with(files map[string]string, more map[string]string) map[string]string {
	out := maps.Clone(files)
	maps.Copy(out, more)
	return out
}

// ciMAC is the MAC of eth0 in the network config test/doctor-cloudinit.sh
// renders.
const ciMAC = "52:54:00:12:34:56"

// debInterfaces is /etc/network/interfaces as Debian 12's installer writes
// it: no package ships it, so it is the one file written here by hand.
const (
	debInterfaces = "# This file describes the network interfaces available on your system\n# and how to activate them. For more information, see interfaces(5).\n\nsource /etc/network/interfaces.d/*\n\n# The loopback network interface\nauto lo\niface lo inet loopback\n"
	networkdOn    = "->/lib/systemd/system/systemd-networkd.service"
	nmOn          = "->/lib/systemd/system/NetworkManager.service"
	wants         = "etc/systemd/system/multi-user.target.wants/"
	ciDisabled    = "network: {config: disabled}\n" // cloud.cfg.d/99-disable-network-config.cfg, as its header says
)

var debPackages = []string{"systemd", "procps", "ifupdown", "netplan.io", "network-manager", "cloud-init"}

// doctor on images built from Debian 12's own packages (systemd, procps,
// ifupdown, netplan.io, network-manager, cloud-init) and the files
// cloud-init's own renderers write, with the live facts of a namespace
// whose uplink eth0 holds 10.0.0.2/24 and the MAC the datasource gave:
// every stock file parses (no file.unreadable), the stock .network files
// match neither tunl0 nor eth0, and each risk an operator's or
// cloud-init's file adds is found, by the file's real path.
func TestDoctorOnDebianImages(t *testing.T) {
	rs, _ := realServer(t)
	rs.Must(t, "ip", "link", "set", "eth0.100", "name", "eth0")
	rs.Must(t, "ip", "link", "set", "eth0", "address", ciMAC)
	rs.Must(t, "sysctl", "-qw", "net.ipv6.conf.eth0.accept_ra=0") // the kernel's RA: not what these images are about
	// fixes holds each run's findings' fixes, in ids' order.
	var fixes []string
	ids := func(t *testing.T, want int, img string, args ...string) []string {
		t.Helper()
		r := mustRun(t, rs, want, append(append([]string{"doctor"}, args...), "--root", img, "-o", "json")...)
		var rep struct{ Findings []doctorFinding }
		if err := json.Unmarshal([]byte(r.Stdout), &rep); err != nil {
			t.Fatal(err)
		}
		var out []string
		fixes = nil
		for _, f := range rep.Findings {
			out = append(out, f.ID+" "+f.Source+" ["+f.Subject+"]")
			fixes = append(fixes, f.Fix)
		}
		return out
	}
	check := func(t *testing.T, got, want []string) {
		t.Helper()
		if !slices.Equal(got, want) {
			t.Errorf("findings\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}

	t.Run("stock image, dr: no risk", func(t *testing.T) {
		img := debImage(t, debPackages, with(cloudInit(t, "eni-dhcp"), map[string]string{
			"etc/network/interfaces":           debInterfaces,
			wants + "systemd-networkd.service": networkdOn,
			wants + "NetworkManager.service":   nmOn,
		}))
		check(t, ids(t, 0, img, "dr", "--vip", vip), nil)
		check(t, ids(t, 0, img, "tun", "--vip", vip, "--rp-filter", "loose"), nil)
	})

	t.Run("sysctl.conf's rp_filter lines on, tun", func(t *testing.T) {
		img := debImage(t, []string{"systemd", "procps"}, map[string]string{wants + "systemd-networkd.service": networkdOn})
		editFile(t, img, "etc/sysctl.conf", "#net.ipv4.conf.all.rp_filter=1", "net.ipv4.conf.all.rp_filter=1")
		// Read through systemd's /etc/sysctl.d/99-sysctl.conf link and as
		// sysctl.conf itself: one finding, by the real path.
		check(t, ids(t, 1, img, "tun", "--vip", vip), []string{"sysctl.override /etc/sysctl.conf:20 [net.ipv4.conf.all.rp_filter]"})
	})

	// Each of cloud-init's renderers, for DHCP and for a static address
	// with the router as gateway, in the image that has the network
	// manager it renders for (enabled); nat, then dr. cloud-init's own
	// network configuration is disabled where the case is about the file
	// alone.
	for _, c := range []struct {
		name string
		pkgs []string
		on   map[string]string
		nat  []string // nat --dip 10.0.0.1's findings
	}{
		{"eni-dhcp", debPackages, map[string]string{"etc/network/interfaces": debInterfaces, wants + "NetworkManager.service": nmOn}, []string{
			"cloudinit.network /etc/cloud/cloud.cfg []",
			"ifupdown.uplink-dhcp /etc/network/interfaces.d/50-cloud-init:10 [eth0]",
		}},
		{"eni-static", debPackages, map[string]string{"etc/network/interfaces": debInterfaces}, []string{
			"cloudinit.network /etc/cloud/cloud.cfg []",
		}},
		// The keyfile has no [ipv6]: NetworkManager's default, auto.
		{"nm-dhcp", []string{"systemd", "network-manager", "cloud-init"}, map[string]string{wants + "NetworkManager.service": nmOn}, []string{
			"nm.uplink-dhcp /etc/NetworkManager/system-connections/cloud-init-eth0.nmconnection [eth0]",
			"nm.uplink-dhcp /etc/NetworkManager/system-connections/cloud-init-eth0.nmconnection:15 [eth0]",
		}},
		{"nm-static", []string{"systemd", "network-manager", "cloud-init"}, map[string]string{wants + "NetworkManager.service": nmOn}, []string{
			"nm.uplink-dhcp /etc/NetworkManager/system-connections/cloud-init-eth0.nmconnection [eth0]",
		}},
		{"netplan-dhcp", []string{"systemd", "netplan.io", "cloud-init"}, map[string]string{wants + "systemd-networkd.service": networkdOn}, []string{
			"netplan.uplink-dhcp /etc/netplan/50-cloud-init.yaml:10 [eth0]",
		}},
		{"netplan-static", []string{"systemd", "netplan.io", "cloud-init"}, map[string]string{wants + "systemd-networkd.service": networkdOn}, nil},
		// With what netplan's generator writes from it at boot (matched
		// by PermanentMACAddress= and Name=): the networkd findings point
		// their fixes at the YAML, below.
		{"netplan+networkd-dhcp", []string{"systemd", "netplan.io", "cloud-init"}, map[string]string{wants + "systemd-networkd.service": networkdOn}, []string{
			"netplan.uplink-dhcp /etc/netplan/50-cloud-init.yaml:10 [eth0]",
			"networkd.dhcp-gateway /run/systemd/network/10-netplan-eth0.network (no IPv6AcceptRA=: networkd's default is yes) [eth0]",
			"networkd.dhcp-gateway /run/systemd/network/10-netplan-eth0.network:6 [eth0]",
			"networkd.foreign-routes networkd.conf default (ManageForeignRoutes=yes) [eth0]",
		}},
		{"netplan+networkd-static", []string{"systemd", "netplan.io", "cloud-init"}, map[string]string{wants + "systemd-networkd.service": networkdOn}, []string{
			"networkd.dhcp-gateway /run/systemd/network/10-netplan-eth0.network (no IPv6AcceptRA=: networkd's default is yes) [eth0]",
			"networkd.foreign-routes networkd.conf default (ManageForeignRoutes=yes) [eth0]",
		}},
		// networkd matches the file by MACAddress= and Name=; it accepts
		// router advertisements (no IPv6AcceptRA=) and cleans eth0.
		{"networkd-dhcp", []string{"systemd", "cloud-init"}, map[string]string{wants + "systemd-networkd.service": networkdOn}, []string{
			"networkd.dhcp-gateway /etc/systemd/network/10-cloud-init-eth0.network (no IPv6AcceptRA=: networkd's default is yes) [eth0]",
			"networkd.dhcp-gateway /etc/systemd/network/10-cloud-init-eth0.network:6 [eth0]",
			"networkd.foreign-routes networkd.conf default (ManageForeignRoutes=yes) [eth0]",
		}},
		{"networkd-static", []string{"systemd", "cloud-init"}, map[string]string{wants + "systemd-networkd.service": networkdOn}, []string{
			"networkd.dhcp-gateway /etc/systemd/network/10-cloud-init-eth0.network (no IPv6AcceptRA=: networkd's default is yes) [eth0]",
			"networkd.foreign-routes networkd.conf default (ManageForeignRoutes=yes) [eth0]",
		}},
	} {
		t.Run("cloud-init's "+c.name, func(t *testing.T) {
			files := with(cloudInit(t, c.name), c.on)
			if !strings.HasPrefix(c.name, "eni") {
				files["etc/cloud/cloud.cfg.d/99-disable-network-config.cfg"] = ciDisabled
			}
			img := debImage(t, c.pkgs, files)
			got := ids(t, min(len(c.nat), 1), img, "nat", "--dip", "10.0.0.1")
			check(t, got, c.nat)
			const yaml = "/etc/netplan/50-cloud-init.yaml"
			for i, fix := range fixes {
				if strings.HasPrefix(c.name, "netplan") && !strings.Contains(got[i]+fix, yaml) {
					t.Errorf("%s: its fix is not in the netplan file: %s", got[i], fix)
				}
			}
			// None of cloud-init's renderers touches lo: nothing for dr.
			check(t, ids(t, 0, img, "dr", "--vip", vip), nil)
		})
	}

	// The same files on a host whose eth0 has another MAC: networkd's
	// [Match] MACAddress= (PermanentMACAddress= in what netplan
	// generates) and netplan's match: macaddress do not match it, so
	// neither configures eth0; NetworkManager's keyfile (mac-address=) is
	// not for it either, so NetworkManager makes its automatic "Wired
	// connection" for eth0.
	t.Run("cloud-init's files, another MAC", func(t *testing.T) {
		rs.Must(t, "ip", "link", "set", "eth0", "address", "52:54:00:aa:bb:cc")
		defer rs.Must(t, "ip", "link", "set", "eth0", "address", ciMAC)
		for _, c := range []string{"networkd-dhcp", "netplan-dhcp", "netplan+networkd-dhcp"} {
			img := debImage(t, []string{"systemd", "netplan.io", "cloud-init"}, with(cloudInit(t, c), map[string]string{
				wants + "systemd-networkd.service":                    networkdOn,
				"etc/cloud/cloud.cfg.d/99-disable-network-config.cfg": ciDisabled,
			}))
			check(t, ids(t, 0, img, "nat", "--dip", "10.0.0.1"), nil)
		}
		img := debImage(t, []string{"systemd", "network-manager", "cloud-init"}, with(cloudInit(t, "nm-dhcp"), map[string]string{
			wants + "NetworkManager.service":                      nmOn,
			"etc/cloud/cloud.cfg.d/99-disable-network-config.cfg": ciDisabled,
		}))
		check(t, ids(t, 1, img, "nat", "--dip", "10.0.0.1"), []string{"nm.uplink-dhcp NetworkManager.conf (no-auto-default unset) [eth0]"})
	})
}
