package doctor

import "fmt"

const (
	cloudCfg      = "/etc/cloud/cloud.cfg"
	cloudCfgD     = "/etc/cloud/cloud.cfg.d"
	cloudDisabled = "/etc/cloud/cloud-init.disabled"
)

// cloudInit: cloud-init is installed and its network configuration is
// not disabled, so at boot it regenerates the network config (netplan,
// networkd, ifupdown) from the datasource, which can drop lo's addresses
// or replace NAT's default route. cloud.cfg, then cloud.cfg.d/*.cfg in
// name order: the last `network: config:` wins. The kernel command line
// (cloud-init=disabled) is not read.
func (d *doctor) cloudInit() error {
	if !d.t.exists(cloudCfg) || d.t.exists(cloudDisabled) {
		return nil
	}
	files, err := d.t.confFiles(".cfg", cloudCfgD)
	if err != nil {
		return err
	}
	disabled, source := false, cloudCfg
	for _, f := range append([]string{cloudCfg}, files...) {
		data, ok, err := d.t.read(f)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		if c := parseYAML(data).path("network", "config"); c != nil {
			disabled, source = c.value == "disabled", fmt.Sprintf("%s:%d", f, c.line)
		}
	}
	if disabled {
		return nil
	}
	d.add(Finding{
		ID: "cloudinit.network", Source: source,
		What: "cloud-init is installed and its network configuration is not disabled: at boot it regenerates the network config from the datasource, which can drop lo's addresses or replace the default route",
		Fix:  "write network: {config: disabled} to " + cloudCfgD + "/99-disable-network-config.cfg",
	})
	return nil
}
