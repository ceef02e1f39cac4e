package systemd

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/coreos/go-systemd/v22/unit"
	"github.com/rsprep/rsprep/realserver/input"
)

func TestUnitGolden(t *testing.T) {
	spec := UnitSpec{Binary: "/usr/sbin/rsprep", Config: ConfigPath}
	golden(t, "rsprep.service", spec.Render())
	spec.Before = []string{"nginx.service", "haproxy.service"}
	golden(t, "rsprep-before.service", spec.Render())
	spec = UnitSpec{Binary: "/usr/sbin/rsprep", Config: ConfigPath, Watch: true, WatchFlags: []string{"--textfile", "/var/lib/node_exporter/textfile/rsprep.prom"}}
	golden(t, "rsprep-watch.service", spec.Render())
}

func TestConfigGolden(t *testing.T) {
	got := RenderConfig(ConfigPath, [][2]string{{"mode", "dr"}, {"vip", "192.168.79.180"}, {"vip", "2001:db8::80"}})
	golden(t, "rsprep.conf", got)
}

func TestModulesGolden(t *testing.T) {
	golden(t, "modules-load.conf", RenderModules([]string{"ipip", "ip6_tunnel"}))
}

// The rendered unit is what systemd reads back: every option survives
// go-systemd's own parser, in order.
func TestUnitRoundTrip(t *testing.T) {
	spec := UnitSpec{Binary: "/usr/sbin/rsprep", Config: ConfigPath, Before: []string{"nginx.service"}}
	got, err := unit.DeserializeOptions(bytes.NewReader(spec.Render()))
	if err != nil {
		t.Fatal(err)
	}
	want := spec.Options()
	if len(got) != len(want) {
		t.Fatalf("read back %d options, wrote %d", len(got), len(want))
	}
	for i := range want {
		if !got[i].Match(want[i]) {
			t.Errorf("option %d: read back %v, wrote %v", i, got[i], want[i])
		}
	}
	// And rsprep's own parser reads the same syntax.
	entries, err := ParseConfig("rsprep.service", spec.Render())
	if err != nil || len(entries) != len(want) {
		t.Fatalf("ParseConfig: %d entries, %v", len(entries), err)
	}
}

func TestUnitSpecValidate(t *testing.T) {
	for _, tc := range []struct {
		spec UnitSpec
		bad  string
	}{
		{UnitSpec{Binary: "/usr/sbin/rsprep", Config: ConfigPath}, ""},
		{UnitSpec{Binary: "rsprep", Config: ConfigPath}, "--bin"},
		{UnitSpec{Binary: "/opt/my rsprep", Config: ConfigPath}, "--bin"},
		{UnitSpec{Binary: "/opt/rsprep%i", Config: ConfigPath}, "--bin"},
		{UnitSpec{Binary: "/opt/$HOME/rsprep", Config: ConfigPath}, "--bin"},
		{UnitSpec{Binary: "/opt/../rsprep", Config: ConfigPath}, "--bin"},
		{UnitSpec{Binary: "/usr/sbin/rsprep", Config: "/etc/rsprep/a b.conf"}, "--config"},
		{UnitSpec{Binary: "/usr/sbin/rsprep", Config: ConfigPath, Before: []string{"nginx"}}, "--before"},
		{UnitSpec{Binary: "/usr/sbin/rsprep", Config: ConfigPath, Before: []string{"a.service b.service"}}, "--before"},
		{UnitSpec{Binary: "/usr/sbin/rsprep", Config: ConfigPath, Before: []string{"getty@tty1.service"}}, ""},
	} {
		err := tc.spec.Validate()
		var in *input.Error
		switch {
		case tc.bad == "" && err != nil:
			t.Errorf("%+v: %v", tc.spec, err)
		case tc.bad != "" && (!errors.As(err, &in) || !strings.Contains(err.Error(), tc.bad)):
			t.Errorf("%+v: got %v, want an input error about %s", tc.spec, err, tc.bad)
		}
	}
}

// Every unit rsprep writes carries the whole sandbox (systemd-checks.sh
// rates them with systemd-analyze; this names the option that went missing).
func TestEveryUnitCarriesTheHardening(t *testing.T) {
	units := map[string][]*unit.UnitOption{
		UnitName:                 UnitSpec{Binary: "/usr/sbin/rsprep", Config: ConfigPath}.Options(),
		"rsprep.service (watch)": UnitSpec{Binary: "/usr/sbin/rsprep", Config: ConfigPath, Watch: true}.Options(),
	}
	for name, opts := range units {
		for _, h := range Hardening() {
			if !slices.ContainsFunc(opts, h.Match) {
				t.Errorf("%s lacks [%s] %s=%s", name, h.Section, h.Name, h.Value)
			}
		}
	}
}
