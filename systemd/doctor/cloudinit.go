package doctor

import "fmt"

const (
	cloudCfg      = "/etc/cloud/cloud.cfg"
	cloudCfgD     = "/etc/cloud/cloud.cfg.d"
	cloudDisabled = "/etc/cloud/cloud-init.disabled"
)

// cloudInit, NAT: cloud-init is installed and its network configuration
// is not disabled, so at boot it regenerates the network config (netplan,
// networkd, ifupdown, NetworkManager) from the datasource, DHCP on the
// uplink as a rule: the router's default route comes back. None of its
// renderers touches lo, so DR and TUN are not at risk from it.
// cloud.cfg, then cloud.cfg.d/*.cfg in name order: the last
// `network: config:` wins. The kernel command line (cloud-init=disabled)
// is not read.
func (d *doctor) cloudInit() {
	if !d.in.Footprint.DefaultVia.IsValid() || !d.t.exists(cloudCfg) || d.t.exists(cloudDisabled) {
		return
	}
	files := d.t.confFiles(".cfg", cloudCfgD)
	disabled, source := false, cloudCfg
	for _, f := range append([]string{cloudCfg}, files...) {
		y, ok := d.t.readYAML(f)
		if !ok {
			continue
		}
		if c := y.path("network", "config"); c != nil {
			disabled, source = c.value == "disabled", fmt.Sprintf("%s:%d", f, c.line)
		}
	}
	if disabled {
		return
	}
	d.add(Finding{
		ID: "cloudinit.network", Source: source,
		What: "cloud-init is installed and its network configuration is not disabled: at boot it regenerates the network config from the datasource (DHCP on the uplink, as a rule), which brings the router's default route back over the one via the DIP",
		Fix:  "write network: {config: disabled} to " + cloudCfgD + "/99-disable-network-config.cfg",
	})
}
