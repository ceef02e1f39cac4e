#!/usr/bin/env bash
# doctor-cloudinit.sh CASE…: image roots holding what cloud-init 22.4
# (Debian 12's package) writes for a datasource's network configuration,
# rendered by its own renderers with Debian's settings (its
# Distro.renderer_configs: the file names and headers), never by hand.
# CASE is RENDERER-CONFIG: RENDERER netplan, eni, networkd or nm
# (network_manager); CONFIG dhcp (network config v1, as an OpenStack or EC2
# datasource gives it: eth0 by MAC 52:54:00:12:34:56, DHCPv4) or static
# (v2: the same eth0, 10.0.0.2/24, gateway 10.0.0.254). netplan's
# renderer writes the YAML only (its `netplan generate` post-command is not
# run); RENDERER netplan+networkd adds what netplan's own generator
# (Debian 12's netplan.io and libnetplan0) writes from it at boot:
# /run/systemd/network/10-netplan-eth0.network and its neighbours.
#
# cloud-init's Python code and the Python packages it imports come from
# Debian 12's debs (test/doctor-debs.sh: downloaded and unpacked once) and
# run under the host's /usr/bin/python3 with only them on its path;
# nothing is installed. Prints one root per CASE, cached under
# test/.cache/cloudinit/<cloud-init's deb>/CASE; `rm -rf test/.cache`
# renders them again.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
py=/usr/bin/python3 # Debian's (3.11 on Debian 12), which cloud-init 22.4 is packaged for
[ -x "$py" ] || { echo "doctor-cloudinit.sh: $py is missing (apt-get install python3)" >&2; exit 1; }
mapfile -t dirs < <("$here/doctor-debs.sh" cloud-init python3-yaml python3-configobj python3-requests \
	python3-urllib3 python3-idna python3-certifi python3-charset-normalizer)
pythonpath=$(printf '%s/usr/lib/python3/dist-packages:' "${dirs[@]}")
# netplan_generate ROOT: netplan's generator on ROOT's /etc/netplan, as
# systemd runs it at boot, from its debs (with the libraries a minimal
# Debian may lack).
netplan_generate() {
	local np libs
	mapfile -t np < <("$here/doctor-debs.sh" netplan.io libnetplan0 libglib2.0-0 libyaml-0-2)
	libs=$(printf '%s/usr/lib/x86_64-linux-gnu:' "${np[@]:1}")
	env -i PATH=/usr/bin:/bin LD_LIBRARY_PATH="$libs" "${np[0]}/usr/libexec/netplan/generate" --root-dir "$1" 2>&1 |
		{ grep -v 'Permissions for .* are too open' || true; } >&2
}
cache=$here/.cache/cloudinit/$(basename "${dirs[0]}")
mkdir -p "$cache"
for c in "$@"; do
	out=$cache/$c
	if [ ! -d "$out" ]; then
		tmp=$(mktemp -d "$cache/r.XXXXXX") && chmod 755 "$tmp"
		renderer=${c%%-*}
		if ! env -i PATH=/usr/bin:/bin PYTHONPATH="$pythonpath" PYTHONWARNINGS=ignore "$py" -s - "${renderer%+networkd}" "${c#*-}" "$tmp" <<'EOF'; then
import sys
from cloudinit.distros import debian
from cloudinit.net import eni, netplan, network_manager, network_state, networkd

renderer, config, target = sys.argv[1:4]
mac = "52:54:00:12:34:56"
configs = {
    "dhcp": {"version": 1, "config": [
        {"type": "physical", "name": "eth0", "mac_address": mac, "subnets": [{"type": "dhcp4"}]},
    ]},
    "static": {"version": 2, "ethernets": {"eth0": {
        "match": {"macaddress": mac}, "set-name": "eth0",
        "addresses": ["10.0.0.2/24"], "gateway4": "10.0.0.254",
    }}},
}
modules = {"netplan": netplan, "eni": eni, "networkd": networkd, "nm": network_manager}
if renderer not in modules or config not in configs:
    sys.exit(f"unknown case {renderer}-{config}: want (netplan|eni|networkd|nm)-(dhcp|static)")
settings = dict(debian.Distro.renderer_configs.get(renderer, {}), postcmds=False)
# The paths relative: netplan's renderer joins them to the target with
# os.path.join, which drops the target before an absolute path (cloud-init
# renders into / itself).
for k, v in settings.items():
    if k.endswith("_path"):
        settings[k] = v.lstrip("/")
state = network_state.parse_net_config_data(configs[config])
modules[renderer].Renderer(config=settings).render_network_state(state, target=target)
EOF
			rm -rf "$tmp"
			echo "doctor-cloudinit.sh: rendering $c failed" >&2
			exit 1
		fi
		if [ "$renderer" = netplan+networkd ]; then
			if ! netplan_generate "$tmp" || [ ! -s "$tmp/run/systemd/network/10-netplan-eth0.network" ]; then
				rm -rf "$tmp"
				echo "doctor-cloudinit.sh: netplan generate for $c failed" >&2
				exit 1
			fi
		fi
		mv "$tmp" "$out" 2>/dev/null || rm -rf "$tmp" # another run got there first
	fi
	echo "$out"
done
