package systemd

import (
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/coreos/go-systemd/v22/unit"
	"github.com/rsprep/rsprep/realserver/input"
)

// UnitName is the boot unit rsprep install writes.
const UnitName = "rsprep.service"

// Where install writes, as seen from inside the root it installs into.
const (
	ConfigPath  = "/etc/rsprep/rsprep.conf"
	UnitPath    = "/etc/systemd/system/" + UnitName
	ModulesPath = "/etc/modules-load.d/rsprep.conf"
	WantsPath   = "/etc/systemd/system/multi-user.target.wants/" + UnitName
)

// UnitSpec is what the unit says: which binary applies which config, and
// which units must wait for it.
type UnitSpec struct {
	Binary string   // absolute path of rsprep on the target host
	Config string   // the config file ExecStart and ExecStop read
	Before []string // units that listen on the VIP: they start after rsprep
	// Watch makes it the rsprep watch unit (Type=notify) instead of the
	// oneshot apply; WatchFlags are watch's own flags for its ExecStart.
	Watch      bool
	WatchFlags []string
}

// Validate rejects paths and unit names that would need quoting or would
// be read as systemd specifiers ('%') or variables ('$') on ExecStart.
func (u UnitSpec) Validate() error {
	for what, p := range map[string]string{"--bin": u.Binary, "--config": u.Config} {
		if !path.IsAbs(p) || path.Clean(p) != p || !plainWord(p, "/._+-@") {
			return input.Errorf("%s %q: want a clean absolute path of letters, digits and / . _ + - @", what, p)
		}
	}
	for _, f := range u.WatchFlags {
		if !plainWord(f, "/._+-@=:") {
			return input.Errorf("watch flag %q: want letters, digits and / . _ + - @ = : only", f)
		}
	}
	for _, b := range u.Before {
		if !strings.Contains(b, ".") || !plainWord(b, ".:_-@\\") {
			return input.Errorf("--before %q is not a unit name like nginx.service", b)
		}
	}
	return nil
}

func plainWord(s, extra string) bool {
	for _, c := range s {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.ContainsRune(extra, c)) {
			return false
		}
	}
	return s != ""
}

// Options is the unit as data. Ordering: the unit runs once the network is
// configured (network-online.target: the default gateway for
// --pin-gateway-arp and the DIP's subnet for NAT exist by then) and before
// the services that listen on a VIP (Before=, or their own
// After=rsprep.service). Default dependencies stay on: that orders the unit
// before shutdown.target, so ExecStop (down) runs at shutdown after the VIP
// services have stopped and before the network goes down.
func (u UnitSpec) Options() []*unit.UnitOption {
	run := func(act string) string { return u.Binary + " " + act + " --config " + u.Config }
	opts := []*unit.UnitOption{
		unit.NewUnitOption("Unit", "Description", "Prepare this host as an LVS/IPVS real server (rsprep)"),
		unit.NewUnitOption("Unit", "Wants", "network-online.target"),
		unit.NewUnitOption("Unit", "After", "network-online.target"),
	}
	if len(u.Before) > 0 {
		opts = append(opts, unit.NewUnitOption("Unit", "Before", strings.Join(u.Before, " ")))
	}
	if u.Watch {
		opts[0] = unit.NewUnitOption("Unit", "Description", "Keep this host an LVS/IPVS real server (rsprep watch)")
		opts = append(opts, u.watchService()...)
	} else {
		opts = append(opts,
			unit.NewUnitOption("Service", "Type", "oneshot"),
			unit.NewUnitOption("Service", "RemainAfterExit", "yes"),
			unit.NewUnitOption("Service", "ExecStart", run("apply")),
			// reload re-applies: repairs drift and converges to the config,
			// VIPs added and removed alike.
			unit.NewUnitOption("Service", "ExecReload", run("apply")),
			unit.NewUnitOption("Service", "ExecStop", u.downAll()),
		)
	}
	opts = append(opts,
		unit.NewUnitOption("Service", "SyslogIdentifier", "rsprep"),
		// apply logs one line per change, the boot's audit trail: at 10,000
		// VIPs journald's default limit (10,000 lines per 30 s) would drop
		// its tail with "Suppressed N messages".
		unit.NewUnitOption("Service", "LogRateLimitIntervalSec", "0"),
	)
	opts = append(opts, Hardening()...)
	return append(opts, unit.NewUnitOption("Install", "WantedBy", "multi-user.target"))
}

// downAll is the units' stop: everything rsprep owns goes, whatever the
// config says by then (an edit before a stop cannot strand state, and a
// config broken since start cannot block the stop).
func (u UnitSpec) downAll() string { return u.Binary + " down --all" }

// Render is the unit file's text.
func (u UnitSpec) Render() []byte {
	head := fmt.Sprintf("# Written by rsprep install; rsprep uninstall removes it.\n# The desired state is in %s: edit that, then systemctl reload rsprep.\n", u.Config)
	return render(head, u.Options())
}

// RenderConfig is a config file's text: a comment saying what reads it,
// then one [rsprep] section of the given key/value pairs, in order.
func RenderConfig(configPath string, pairs [][2]string) []byte {
	head := fmt.Sprintf("# rsprep's desired state for this host, written by rsprep install.\n"+
		"# rsprep.service applies it at boot (rsprep apply --config %[1]s);\n"+
		"# audit with: rsprep verify --config %[1]s\n"+
		"# Keys are the long flags of the mode's command (rsprep MODE --help); list keys repeat.\n", configPath)
	opts := make([]*unit.UnitOption, 0, len(pairs))
	for _, p := range pairs {
		opts = append(opts, unit.NewUnitOption("rsprep", p[0], p[1]))
	}
	return render(head, opts)
}

// RenderModules is a modules-load.d file loading mods at boot.
func RenderModules(mods []string) []byte {
	return []byte("# Written by rsprep install: modules its tunnel mode needs at boot.\n" + strings.Join(mods, "\n") + "\n")
}

func render(head string, opts []*unit.UnitOption) []byte {
	body, _ := io.ReadAll(unit.Serialize(opts)) // reads a bytes.Buffer: cannot fail
	return append([]byte(head), body...)
}
