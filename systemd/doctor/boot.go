package doctor

import (
	"path"
	"strings"

	"github.com/rsprep/rsprep/systemd"
)

// boot: a config file says what this host must be, but no unit is enabled
// to apply it at boot, so a reboot silently undoes the host.
func (d *doctor) boot() {
	if !d.t.exists(systemd.ConfigPath) {
		return
	}
	for _, n := range d.t.list(path.Dir(systemd.WantsPath), ".service") {
		if n == systemd.UnitName || strings.HasPrefix(n, "rsprep-") {
			return // rsprep.service, or another rsprep unit (the watcher)
		}
	}
	d.add(Finding{
		ID: "boot.not-enabled", Source: systemd.ConfigPath, Subject: systemd.UnitName,
		What: "a config exists but " + systemd.UnitName + " is not enabled: boot will not apply it, and the host comes up as a plain host",
		Fix:  "systemctl enable " + systemd.UnitName + " (or rsprep install MODE …, which writes and enables it)",
	})
}
