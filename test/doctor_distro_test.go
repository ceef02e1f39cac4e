package test

import (
	"encoding/json"
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

// Files as Debian 12's installer and cloud-init 22.4's renderers write them.
const (
	debInterfaces = "# This file describes the network interfaces available on your system\n# and how to activate them. For more information, see interfaces(5).\n\nsource /etc/network/interfaces.d/*\n\n# The loopback network interface\nauto lo\niface lo inet loopback\n"
	cloudInitENI  = "# This file is generated from information provided by the datasource.  Changes\n# to it will not persist across an instance reboot.  To disable cloud-init's\n# network configuration capabilities, write a file\n# /etc/cloud/cloud.cfg.d/99-disable-network-config.cfg with the following:\n# network: {config: disabled}\nauto lo\niface lo inet loopback\n\nauto eth0\niface eth0 inet dhcp\n"
	networkdOn    = "->/lib/systemd/system/systemd-networkd.service"
	nmOn          = "->/lib/systemd/system/NetworkManager.service"
	wants         = "etc/systemd/system/multi-user.target.wants/"
)

var debPackages = []string{"systemd", "procps", "ifupdown", "netplan.io", "network-manager", "cloud-init"}

// doctor on images built from Debian 12's own packages (systemd, procps,
// ifupdown, netplan.io, network-manager, cloud-init), with the live facts
// of a namespace whose uplink eth0 holds 10.0.0.2/24: every stock file
// parses (no file.unreadable), the stock .network files match neither
// tunl0 nor eth0, and each risk an operator's or cloud-init's file adds
// is found, by the file's real path.
func TestDoctorOnDebianImages(t *testing.T) {
	rs, _ := realServer(t)
	rs.Must(t, "ip", "link", "set", "eth0.100", "name", "eth0")
	rs.Must(t, "sysctl", "-qw", "net.ipv6.conf.eth0.accept_ra=0") // the kernel's RA: not what these images are about
	mac := rs.MAC(t, "eth0")
	ids := func(t *testing.T, want int, img string, args ...string) []string {
		t.Helper()
		r := mustRun(t, rs, want, append(append([]string{"doctor"}, args...), "--root", img, "-o", "json")...)
		var rep struct{ Findings []doctorFinding }
		if err := json.Unmarshal([]byte(r.Stdout), &rep); err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, f := range rep.Findings {
			out = append(out, f.ID+" "+f.Source+" ["+f.Subject+"]")
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
		img := debImage(t, debPackages, map[string]string{
			"etc/network/interfaces":                 debInterfaces,
			wants + "systemd-networkd.service":       networkdOn,
			wants + "NetworkManager.service":         nmOn,
			"etc/network/interfaces.d/50-cloud-init": cloudInitENI,
		})
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

	t.Run("cloud-init's eni on ifupdown, nat", func(t *testing.T) {
		img := debImage(t, debPackages, map[string]string{
			"etc/network/interfaces":                 debInterfaces,
			"etc/network/interfaces.d/50-cloud-init": cloudInitENI,
			wants + "NetworkManager.service":         nmOn,
		})
		check(t, ids(t, 1, img, "nat", "--dip", "10.0.0.1"), []string{
			"cloudinit.network /etc/cloud/cloud.cfg []",
			"ifupdown.uplink-dhcp /etc/network/interfaces.d/50-cloud-init:10 [eth0]",
		})
	})

	t.Run("cloud-init's NetworkManager keyfile, nat", func(t *testing.T) {
		keyfile := "# Generated by cloud-init. Changes will be lost.\n\n[connection]\nid=cloud-init eth0\nuuid=1dd9a779-d327-56e1-8454-c65e2556c12c\ntype=ethernet\n\n[user]\norg.freedesktop.NetworkManager.origin=cloud-init\n\n[ethernet]\nmac-address=" + strings.ToUpper(mac) + "\n\n[ipv4]\nmethod=auto\nmay-fail=false\n\n[ipv6]\nmethod=ignore\n"
		img := debImage(t, []string{"systemd", "network-manager", "cloud-init"}, map[string]string{
			"etc/NetworkManager/system-connections/cloud-init-eth0.nmconnection": keyfile,
			"etc/cloud/cloud.cfg.d/99-disable-network-config.cfg":                "network: {config: disabled}\n",
			wants + "NetworkManager.service":                                     nmOn,
		})
		check(t, ids(t, 1, img, "nat", "--dip", "10.0.0.1"), []string{
			"nm.uplink-dhcp /etc/NetworkManager/system-connections/cloud-init-eth0.nmconnection:15 [eth0]",
		})
	})
}
