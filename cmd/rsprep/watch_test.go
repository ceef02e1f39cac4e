package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rsprep/rsprep/realserver"
	"github.com/rsprep/rsprep/realserver/watch"
)

// install --watch MODE writes the notify unit running watch with the
// given watch flags; the config is the same as the oneshot's.
func TestInstallWatchUnit(t *testing.T) {
	for _, args := range [][]string{
		{"install", "--watch", "dr", "--vip", "192.168.79.180", "--textfile", "/var/lib/prometheus/node-exporter/rsprep.prom", "--on-drift", "report"},
		{"install", "dr", "--vip", "192.168.79.180", "--watch", "--textfile", "/var/lib/prometheus/node-exporter/rsprep.prom", "--on-drift", "report"},
	} {
		root := t.TempDir()
		args = append(args, "--root", root, "--bin", "/usr/sbin/rsprep")
		if code, _, stderr := runCLI(args...); code != exitOK {
			t.Fatalf("%v: exit %d: %s", args, code, stderr)
		}
		unit, err := os.ReadFile(filepath.Join(root, "etc/systemd/system/rsprep.service"))
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{
			"Type=notify\n",
			"ExecStart=/usr/sbin/rsprep watch --config /etc/rsprep/rsprep.conf --on-drift report --textfile /var/lib/prometheus/node-exporter/rsprep.prom\n",
			"ExecStop=-/bin/kill -TERM $MAINPID\nExecStop=/usr/sbin/rsprep down --all\n",
			"WatchdogSec=30s\n", "Restart=on-failure\n",
		} {
			if !strings.Contains(string(unit), want) {
				t.Errorf("%v: unit lacks %q:\n%s", args, want, unit)
			}
		}
		conf, _ := os.ReadFile(filepath.Join(root, "etc/rsprep/rsprep.conf"))
		if !strings.Contains(string(conf), "mode=dr\nvip=192.168.79.180\n") || strings.Contains(string(conf), "textfile") {
			t.Errorf("config:\n%s", conf)
		}
	}
}

func TestInstallWatchBadInput(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--textfile", "/x.prom"}, "--textfile is a watch flag: add --watch"},
		{[]string{"--watch", "--resync", "100ms"}, "--resync 100ms"},
		{[]string{"--watch", "--textfile", "rel/x.prom"}, "clean absolute path"},
		{[]string{"--watch", "--on-drift", "ignore"}, "--on-drift"},
	} {
		root := t.TempDir()
		args := append([]string{"install", "dr", "--vip", "192.168.79.180", "--root", root}, tc.args...)
		code, _, stderr := runCLI(args...)
		if code != exitUsage || !strings.Contains(stderr, tc.want) || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%v: exit %d, %q; want exit 2 with %q", tc.args, code, stderr, tc.want)
		}
		if entries, _ := os.ReadDir(root); len(entries) != 0 {
			t.Errorf("%v: wrote into the root", tc.args)
		}
	}
}

// The textfile has the verify gauges and the watcher's series, one per
// known check, counters typed as counters.
func TestWatchTextfile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rsprep.prom")
	s := watch.Status{
		Mode:       "dr",
		Checks:     []realserver.Finding{{ID: "vip.bound", Subject: "192.168.79.180", OK: false}, {ID: "arp.ignore", Subject: "all", OK: true}},
		Repairs:    map[string]int{"vip.bound": 3, "arp.ignore": 0},
		Drift:      map[string]int{"vip.bound": 9, "arp.ignore": 0},
		Fights:     map[string]bool{"vip.bound": true},
		LastResync: time.Unix(1700000000, 0),
	}
	if err := writeTextfile(path, s); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	for _, want := range []string{
		`rsprep_invariant_ok{mode="dr",id="vip.bound",subject="192.168.79.180",source="watch"} 0`,
		`rsprep_verify_ok{mode="dr",source="watch"} 0`,
		"# TYPE rsprep_repairs_total counter\nrsprep_repairs_total{check=\"arp.ignore\"} 0\nrsprep_repairs_total{check=\"vip.bound\"} 3\n",
		`rsprep_drift_events_total{check="vip.bound"} 9`,
		"# TYPE rsprep_fight gauge\nrsprep_fight{check=\"arp.ignore\"} 0\nrsprep_fight{check=\"vip.bound\"} 1\n",
		"rsprep_last_resync_timestamp_seconds 1700000000\n",
	} {
		if !strings.Contains(string(data), want) {
			t.Errorf("textfile lacks %q:\n%s", want, data)
		}
	}
}

func TestWatchHelpAndMissingConfig(t *testing.T) {
	for _, args := range [][]string{{"watch", "--help"}, {"watch", "dr", "--help"}} {
		code, stdout, _ := runCLI(args...)
		if code != exitOK || !strings.Contains(stdout, "--resync") || !strings.Contains(stdout, "--max-repairs") {
			t.Errorf("%v: exit %d:\n%s", args, code, stdout)
		}
	}
	code, _, stderr := runCLI("watch", "--config", filepath.Join(t.TempDir(), "none.conf"))
	if code != exitUsage || !strings.Contains(stderr, "no such config file") {
		t.Errorf("watch with a missing config: exit %d, %q", code, stderr)
	}
}
