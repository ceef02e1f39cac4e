# Sourced by systemd-boot-guest.sh in the tungue scenario (check,
# eventually and the scenario's state come from there): what Debian 12's
# systemd-networkd (252) really does, on a restart, to what rsprep puts in
# the kernel — --mss's policy rules and table, a drain's rule, a pinned
# gateway entry, VIPs on lo and on the tunnel device — and whether
# `rsprep doctor` says so beforehand. Each restart prints what the kernel
# kept ("networkd 252, NAME: … kept …"); the checks hold doctor's
# prediction against it, so a networkd that behaves otherwise than doctor
# assumes fails here.
GW=192.168.10.254 DIP=192.168.10.1 LOVIP=192.168.79.190 LOVIP6=2001:db8::90
TUNARGS="--vip $VIP4 --encap gue --encap-port 6080 --underlay ipv6 --mss 1400"

# What rsprep puts there, again after each restart: the unit's --mss
# rules and table (systemctl reload), a drain's rule, a pinned gateway
# entry on the uplink (as --pin-gateway-arp writes it), DR VIPs on lo;
# the unit's VIP is on ip6tnl0.
nd_put() {
	systemctl reload rsprep.service
	if ! ip rule show | grep -q "^7300:"; then
		# rsprep drain where its verify passes; the same rule by hand
		# (as drain writes it: rsprep's protocol) where the stand-in
		# director does not answer.
		/usr/sbin/rsprep drain tun $TUNARGS --dip $DIP --quiet 1s --timeout 20s >/run/nd-drain.log 2>&1 ||
			{ sed 's/^/    drain: /' /run/nd-drain.log; ip rule add from $VIP4 to $DIP ipproto 6 priority 7300 unreachable protocol 114; }
	fi
	ip neigh replace $GW lladdr 02:00:00:00:00:fe dev eth9 nud permanent
	ip addr replace $LOVIP/32 dev lo label lo:rsprep
	ip -6 addr replace $LOVIP6/128 dev lo
}
# What of it the kernel holds now, one word each.
ND_ITEMS="mss-rule drain-rule mss-table neighbour lo-vip4 lo-vip6 tnl-vip"
nd_seen() {
	ip rule show | grep -q "^7301:.*from $VIP4 lookup 7301" && echo mss-rule
	ip route show table 7301 | grep -q "^default " && echo mss-table # what VIP replies to clients take
	ip rule show | grep -q "^7300:.*from $VIP4 to $DIP" && echo drain-rule
	ip neigh show $GW dev eth9 | grep -q PERMANENT && echo neighbour
	ip -o addr show dev lo | grep -qw "$LOVIP/32" && echo lo-vip4
	ip -o addr show dev lo | grep -qw "$LOVIP6/128" && echo lo-vip6
	ip -o addr show dev ip6tnl0 | grep -qw "$VIP4/32" && echo tnl-vip
}
# nd_doctor NAME: doctor's finding IDs for what nd_put made (tun with
# --mss and the drain's --dip, a pinned gateway; dr for lo's VIPs).
nd_doctor() {
	{
		/usr/sbin/rsprep doctor tun $TUNARGS --dip $DIP --pin-gateway-arp --gateway $GW
		/usr/sbin/rsprep doctor dr --vip $LOVIP --vip $LOVIP6
	} >"/run/nd-doctor-$1.txt" 2>&1
	sed 's/^/    /' "/run/nd-doctor-$1.txt"
}
said() { grep -q "$2" "/run/nd-doctor-$1.txt"; }
lost() { ! grep -qx "$2" "/run/nd-seen-$1.txt"; }
# nd_restart NAME: doctor's prediction, a networkd restart, then what was
# kept, once networkd has configured what it manages (or 5 s for none).
nd_restart() {
	nd_put
	nd_seen >/run/nd-before-$1.txt
	nd_doctor "$1"
	systemctl restart systemd-networkd
	if [ -e /etc/systemd/network/20-eth9.network ]; then
		eventually "networkd-$1-configured" 'networkctl list --no-pager --no-legend eth9 | grep -q configured' 60
	fi
	# What doctor says goes: as soon as it has gone (within 30 s, on a
	# loaded machine); then a few seconds for anything else to go.
	_end=$(($(cut -d. -f1 /proc/uptime) + 30))
	for _w in $ND_ITEMS; do
		said "$1" "$(finding $_w)" || continue
		while nd_seen | grep -qx "$_w" && [ "$(cut -d. -f1 /proc/uptime)" -lt $_end ]; do sleep 0.5; done
	done
	sleep 3
	nd_seen >"/run/nd-seen-$1.txt"
	echo "networkd 252, $1: before the restart $(echo $(cat /run/nd-before-$1.txt)); kept $(echo $(cat /run/nd-seen-$1.txt))"
	ip route show table 7301 | sed 's/^/    table 7301: /'
	ip rule show | sed 's/^/    rule: /'
	check "nd-$1-all-there-before" "[ \$(wc -l </run/nd-before-$1.txt) = 7 ]"
}
# finding WHAT: the line of doctor's report about WHAT (a regular
# expression): each rule by its priority, the table by its number.
finding() {
	case $1 in
	mss-rule) echo '^networkd.foreign-rules .*pref 7301' ;;
	drain-rule) echo '^networkd.foreign-rules .*pref 7300' ;;
	mss-table) echo '^networkd.foreign-routes .*\[table 7301\]' ;;
	neighbour) echo '^networkd.foreign-neighbors .*\[eth9\]' ;;
	lo-vip*) echo '^networkd.lo-unkept .*\[lo\]' ;;
	tnl-vip) echo '^networkd.lo-unkept .*\[ip6tnl0\]' ;;
	esac
}
# agree NAME: for each thing rsprep put there, doctor named it exactly
# when networkd's restart took it.
agree() {
	for _w in $ND_ITEMS; do
		_re=$(finding $_w)
		check "nd-$1-doctor-iff-$_w-lost" "{ lost $1 $_w && said $1 '$_re'; } || { ! lost $1 $_w && ! said $1 '$_re'; }"
	done
}

echo "=== systemd-networkd $(networkctl --version | sed -n 1p)"
mkdir -p /etc/systemd/network /etc/systemd/networkd.conf.d
systemctl start systemd-networkd

# 1. networkd running, no .network of its own for eth9 or lo (Debian's
# stock files match neither).
nd_restart stock
agree stock

# 2. networkd manages the uplink, lo and the tunnel device, no
# KeepConfiguration=.
nd_networks() { # KeepConfiguration= value, or nothing
	printf '[Match]\nName=eth9\n\n[Network]\nAddress=192.168.10.2/24\nGateway=%s\n%b' $GW "${1:+KeepConfiguration=$1\n}" >/etc/systemd/network/20-eth9.network
	printf '[Match]\nName=lo\n\n[Network]\nDHCP=no\n%b' "${1:+KeepConfiguration=$1\n}" >/etc/systemd/network/10-lo.network
	printf '[Match]\nName=ip6tnl0\n\n[Network]\nDHCP=no\nLinkLocalAddressing=no\n%b' "${1:+KeepConfiguration=$1\n}" >/etc/systemd/network/30-ip6tnl0.network
}
nd_networks
nd_restart managed
agree managed

# 3. KeepConfiguration=static: static addresses and routes stay.
nd_networks static
nd_restart static
agree static

# 4. KeepConfiguration=yes, as doctor's fixes say.
nd_networks yes
nd_restart keep
agree keep

# 5. And networkd.conf's ManageForeign…=no (with no KeepConfiguration=),
# as doctor's fixes say.
nd_networks
printf '[Network]\nManageForeignRoutes=no\nManageForeignRoutingPolicyRules=no\n' >/etc/systemd/networkd.conf.d/rsprep.conf
nd_restart unmanaged
agree unmanaged
check nd-unmanaged-kept-rules-and-table 'grep -qx mss-rule /run/nd-seen-unmanaged.txt && grep -qx drain-rule /run/nd-seen-unmanaged.txt && grep -qx mss-table /run/nd-seen-unmanaged.txt'

# Back as the scenario was: networkd stopped, its files gone, the drain
# ended, lo's extra VIPs gone, the uplink's default route and the unit's
# state as at boot.
systemctl stop systemd-networkd systemd-networkd.socket
rm -rf /etc/systemd/network/20-eth9.network /etc/systemd/network/10-lo.network /etc/systemd/network/30-ip6tnl0.network /etc/systemd/networkd.conf.d/rsprep.conf
/usr/sbin/rsprep undrain tun $TUNARGS >/dev/null 2>&1
ip rule del priority 7300 2>/dev/null
ip neigh del $GW dev eth9 2>/dev/null
ip addr del $LOVIP/32 dev lo 2>/dev/null
ip -6 addr del $LOVIP6/128 dev lo 2>/dev/null
ip route replace default via $GW dev eth9
systemctl reload rsprep.service
check nd-cleaned-verify-0 '/usr/sbin/rsprep verify >/dev/null'
