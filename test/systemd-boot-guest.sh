#!/bin/sh
# Runs inside the boot-test VM (see systemd-boot.sh) as a oneshot unit
# ordered after rsprep.service, with systemd as PID 1. The scenario (dr,
# tun, tungue, gre, nat, deb, watch) comes from the kernel command line.
# Each check prints PASS or FAIL on the second serial port; DONE marks a
# complete run.
exec >/dev/ttyS1 2>&1
VIP4=192.168.79.180 VIP6=2001:db8::80
scenario=$(sed -n 's/.*rsprep\.scenario=\([a-z]*\).*/\1/p' /proc/cmdline)
mode=$scenario # deb: dr, installed from the package
[ "$scenario" = deb ] && mode=dr
[ "$scenario" = watch ] && mode=dr # rsprep watch keeping DR true
[ "$scenario" = tungue ] && mode=tun # GUE, IPv6 underlay, --mss
[ "$scenario" = gre ] && mode=tun    # keyless GRE: gre0, ip6gre0
check() { # name, then a shell condition, run in this shell: it may use
	# the functions below (a "sh -c" would not see them, and "! applied"
	# would pass on "applied: not found")
	if eval "$2"; then echo "PASS $scenario $1"; else echo "FAIL $scenario $1"; fi
}
# eventually: like check, for what the system reports late (journald
# reads the services' output on its own time; a loaded VM is slow): PASS
# once the condition holds, FAIL if it never does within a bound (30 s).
eventually() {
	_end=$(($(cut -d. -f1 /proc/uptime) + ${3:-30}))
	while ! eval "$2"; do
		if [ "$(cut -d. -f1 /proc/uptime)" -ge "$_end" ]; then
			echo "FAIL $scenario $1 (not within ${3:-30} s)"
			return
		fi
		sleep 0.5
	done
	echo "PASS $scenario $1"
}
state() { systemctl show -p ActiveState --value rsprep.service; }
show() { systemctl show -p "$1" --value rsprep.service; }
# applied: what the scenario makes true, as the kernel shows it.
applied() {
	case $scenario in
	nat) ip route show default | grep -q "via 192.168.10.1 " ;;
	*) ip -o addr show | grep -qw "$VIP4/32" ;;
	esac
}

echo "=== $scenario booted: $(uname -r), PID 1 is $(cat /proc/1/comm)"
check pid1-is-systemd '[ "$(cat /proc/1/comm)" = systemd ]'
check unit-enabled '[ "$(systemctl is-enabled rsprep.service)" = enabled ]'
check unit-active "[ \"$(state)\" = active ]"
[ "$(state)" = active ] || {
	systemctl status --no-pager rsprep.service systemd-modules-load.service
	journalctl -b --no-pager -o cat -u rsprep.service -u systemd-modules-load.service
}
# vip-listener (ordered only by rsprep's Before=) saw the applied state.
case $scenario in
nat) check applied-before-listener 'grep -q "^default via 192.168.10.1 " /run/vip-listener' ;;
*) check applied-before-listener 'grep -qw 192.168.79.180/32 /run/vip-listener' ;;
esac
# The sandbox (systemd/hardening.go) as the running systemd rates the
# loaded unit: everything above ran inside it.
systemd-analyze security --no-pager --threshold=20 rsprep.service >/run/security.txt 2>&1
check unit-exposure-at-most-2.0 "[ $? = 0 ] && awk '/Overall exposure level for rsprep.service:/ { found = 1; ok = (\$(NF-2) + 0 <= 2.0) } END { exit !(found && ok) }' /run/security.txt"
grep 'Overall exposure' /run/security.txt
# The "! applied" checks below mean something only if applied sees it now.
check applied-while-active applied
case $scenario in
nat) check keep-route-while-active 'ip route show | grep -q "^10.20.0.0/16 via 192.168.10.254 "' ;;
tungue)
	check gue-port-6080 'ip -6 fou show | grep -q "port 6080 gue"'
	check ip6tnl0-mode-any 'ip -6 -d link show ip6tnl0 | grep -q "ip6tnl any"'
	check vip-on-ip6tnl0 'ip -o addr show dev ip6tnl0 | grep -qw "192.168.79.180/32"'
	check mss-rule 'ip rule show | grep -q "from 192.168.79.180 lookup 7301"'
	;;
gre)
	check vip4-on-gre0 'ip -o addr show dev gre0 | grep -qw "$VIP4/32" && ip -o link show gre0 | grep -q ",UP"'
	check vip6-on-ip6gre0 'ip -o addr show dev ip6gre0 | grep -q " $VIP6/128 " && ip -o link show ip6gre0 | grep -q ",UP"'
	;;
watch) . /usr/local/sbin/rsprep-boot-director ;; # the director absent at boot, then present
esac

/usr/sbin/rsprep verify -o json >/run/verify.json
check verify-exit-0 "[ $? = 0 ]"
cat /run/verify.json
/usr/sbin/rsprep verify -o prometheus

journal() { journalctl -u rsprep.service -o verbose --no-pager >/run/journal.txt; }
case $scenario in
nat) eventually journal-fields 'journal && grep -q "^    MODE=nat" /run/journal.txt && grep -q "^    CHANGE=ip route replace default via 192.168.10.1 dev eth9" /run/journal.txt' ;;
*) eventually journal-fields 'journal && grep -q "^    MODE='$mode'" /run/journal.txt && grep -q "^    SYSCTL=net.ipv4.conf.all.arp_ignore" /run/journal.txt && grep -q "^    BEFORE=0" /run/journal.txt && grep -q "^    AFTER=1" /run/journal.txt && grep -q "^    ADDR=192.168.79.180/32" /run/journal.txt' ;;
esac
grep -E '^    (MESSAGE|MODE|CHANGE|SYSCTL|BEFORE|AFTER|ADDR)=' /run/journal.txt | head -n 12
# Nothing the unit did was refused by its sandbox (a socket family it may
# not open, a filtered system call: EPERM).
check unit-nothing-refused '! grep -Eiq "address family not supported|operation not permitted" /run/journal.txt'

# The config is the whole truth: a VIP removed from it goes at the next
# reload (oneshot: apply --config again; watch: SIGHUP), without a restart,
# and comes back when the file has it again. nat binds no VIP, and
# tungue's config declares one (IPv4 over GUE): dr, tun and watch edit.
case $scenario in
nat | tungue) ;;
*)
	conf=/etc/rsprep/rsprep.conf
	cp -p $conf /run/rsprep.conf.orig
	sed -i "/^vip *= *$VIP6 *\$/d" $conf
	check edit-dropped-vip6 "! grep -q '$VIP6' $conf"
	/usr/sbin/rsprep verify >/run/verify-edited.txt
	check edit-verify-undeclared "[ $? = 1 ] && grep -q '^FAIL own.undeclared $VIP6/128 on ' /run/verify-edited.txt"
	systemctl reload rsprep.service
	check edit-reload-exit-0 "[ $? = 0 ]"
	eventually edit-reload-removed-vip6 "! ip -o addr show | grep -q ' $VIP6/128 '"
	check edit-reload-kept-vip4 "ip -o addr show | grep -qw '$VIP4/32'"
	check edit-reload-active "[ \"\$(state)\" = active ]"
	eventually edit-reload-verify-0 "/usr/sbin/rsprep verify >/dev/null"
	cp -p /run/rsprep.conf.orig $conf
	systemctl reload rsprep.service
	eventually edit-restored-vip6 "ip -o addr show | grep -q ' $VIP6/128 '"
	;;
esac

if [ "$scenario" = watch ]; then
	. /usr/local/sbin/rsprep-boot-watch
	echo DONE
	systemctl poweroff --no-block
	exit 0
fi

# tungue: what systemd-networkd 252 does to rsprep's kernel state on a
# restart, against doctor's prediction (systemd-boot-networkd.sh).
[ "$scenario" = tungue ] && . /usr/local/sbin/rsprep-boot-networkd

# Drift, then systemctl reload (ExecReload applies again) repairs it.
case $scenario in
nat) ip route replace default via 192.168.10.254 dev eth9 ;;
*) echo 0 >/proc/sys/net/ipv4/conf/all/arp_ignore ;;
esac
/usr/sbin/rsprep verify >/dev/null
check drift-seen "[ $? = 1 ]"
systemctl reload rsprep.service
check reload-exit-0 "[ $? = 0 ]"
/usr/sbin/rsprep verify >/dev/null
check reload-repaired "[ $? = 0 ]"

systemctl stop rsprep.service
check stop-inactive "[ \"$(state)\" = inactive ]"
check stop-undid "! applied"
# RuntimeDirectoryPreserve=: the record outlives the stop, for the next
# start or a down by hand.
check stop-kept-run-rsprep '[ -d /run/rsprep ]'
check stop-restored-arp-ignore '[ "$(cat /proc/sys/net/ipv4/conf/all/arp_ignore)" = 0 ]'
/usr/sbin/rsprep verify >/dev/null
check verify-drift-after-stop "[ $? = 1 ]"

# The tunnel modules came from modules-load.d at boot, not from rsprep's
# modprobe, before rsprep.service started: the unit cannot load modules
# (ProtectKernelModules=), and it never had to.
modules_loaded_at_boot() { # module...
	journalctl -b -t systemd-modules-load -o cat --no-pager
	for m; do
		eventually modules-load-$m 'journalctl -b -t systemd-modules-load -o cat | grep -q "Inserted module .'$m'."'
	done
	check unit-ran-no-modprobe 'journal && grep -q "^    MODE=tun" /run/journal.txt && ! grep -q "^    CHANGE=modprobe" /run/journal.txt'
}
case $scenario in
gre) modules_loaded_at_boot ip_gre ip6_gre ;;
tun)
	modules_loaded_at_boot ipip ip6_tunnel

	# A host whose sysctl.d sets rp_filter on every interface (systemd's
	# default on Fedora and Arch, many hardening baselines). When rsprep's
	# own modprobe creates tunl0, udev applies that to it; rsprep must wait
	# for udev, or the 2 lands after rsprep set and checked 0.
	echo 'net.ipv4.conf.*.rp_filter = 2' >/etc/sysctl.d/60-rp-filter-everywhere.conf
	ip link add rsp-probe type dummy && udevadm settle
	check udev-applies-wildcard '[ "$(cat /proc/sys/net/ipv4/conf/rsp-probe/rp_filter)" = 2 ]'
	ip link del rsp-probe
	modprobe -r ipip ip6_tunnel # stop ran down: nothing uses them
	# (not "ip link show tunl0": naming tunl0 makes the kernel load ipip
	# again, through its netdev-tunl0 alias)
	check ipip-unloaded-before-own-modprobe '[ ! -e /sys/class/net/tunl0 ] && ! grep -q "^ipip " /proc/modules'
	/usr/sbin/rsprep tun --vip $VIP4 2>/run/tun-own-modprobe.log
	check own-modprobe-exit-0 "[ $? = 0 ]"
	cat /run/tun-own-modprobe.log
	udevadm settle # the events of rsprep's modprobe have run,
	sleep 2        # and a late one has had ample time to land
	check own-modprobe-rp-filter-held '[ "$(cat /proc/sys/net/ipv4/conf/tunl0/rp_filter)" = 0 ]'
	/usr/sbin/rsprep verify tun --vip $VIP4 >/run/tun-own-modprobe-verify.txt
	check own-modprobe-verify-0 "[ $? = 0 ]"
	grep -v '^ok ' /run/tun-own-modprobe-verify.txt | sed 's/^/    /' # indented: a line starting FAIL would count as a check
	/usr/sbin/rsprep down tun --vip $VIP4 2>/dev/null
	rm /etc/sysctl.d/60-rp-filter-everywhere.conf
	;;
nat)
	ip route show
	check stop-restored-default 'ip route show default | grep -q "^default via 192.168.10.254 dev eth9"'
	check stop-removed-keep-route '! ip route show | grep -q "^10.20.0.0/16"'
	;;
dr)
	# The live path: D-Bus disable/enable against this systemd.
	systemctl start rsprep.service
	check start-applied applied
	/usr/sbin/rsprep uninstall 2>/run/uninstall.log
	check uninstall-exit-0 "[ $? = 0 ]"
	cat /run/uninstall.log
	check uninstall-stopped "[ \"$(state)\" = inactive ]"
	check uninstall-ran-down "! applied"
	check uninstall-disabled '[ ! -e /etc/systemd/system/multi-user.target.wants/rsprep.service ]'
	check uninstall-removed '[ ! -e /etc/rsprep ] && [ ! -e /etc/systemd/system/rsprep.service ]'
	/usr/sbin/rsprep uninstall 2>/run/uninstall2.log
	check uninstall-again-silent "[ $? = 0 ] && [ ! -s /run/uninstall2.log ]"
	cat /run/uninstall2.log

	/usr/sbin/rsprep install dr --vip $VIP4 --vip $VIP6 --before vip-listener.service 2>/run/install.log
	check install-exit-0 "[ $? = 0 ]"
	cat /run/install.log
	check install-enabled '[ "$(systemctl is-enabled rsprep.service)" = enabled ]'
	/usr/sbin/rsprep install dr --vip $VIP4 --vip $VIP6 --before vip-listener.service 2>/run/install2.log
	check install-again-silent "[ $? = 0 ] && [ ! -s /run/install2.log ]"
	systemctl start rsprep.service
	/usr/sbin/rsprep verify >/dev/null
	check verify-after-live-install "[ $? = 0 ]"
	# install with another VIP set rewrites the config and reloads the
	# running unit, which converges to it: the dropped VIP goes, no restart.
	/usr/sbin/rsprep install dr --vip $VIP4 --before vip-listener.service 2>/run/install3.log
	check install-other-vips-exit-0 "[ $? = 0 ] && grep -q 'reloaded rsprep.service' /run/install3.log"
	cat /run/install3.log
	check install-other-vips-dropped "! ip -o addr show | grep -q ' $VIP6/128 ' && applied"
	check install-other-vips-active "[ \"\$(state)\" = active ]"
	/usr/sbin/rsprep verify >/dev/null
	check install-other-vips-verify-0 "[ $? = 0 ]"
	;;
deb)
	# Booted with rsprep from its .deb, installed by dpkg --root at image
	# build: the checks above ran on the package's binary.
	v=$(dpkg-query -W -f '${Status} ${Version}' rsprep)
	echo "    dpkg: $v; $(/usr/sbin/rsprep version)"
	check deb-installed '[ "${v% *}" = "install ok installed" ]'
	check deb-version-is-rsprep-version '[ "$(/usr/sbin/rsprep version | cut -d" " -f2)" = "${v##* }" ]'
	check deb-man-page 'zcat /usr/share/man/man8/rsprep.8.gz | grep -q "^\.SH INVARIANTS"'

	# dpkg -r leaves a running host's VIPs (and rsprep install's files)
	# alone and says how to take them down.
	systemctl start rsprep.service
	check deb-start-applied applied
	dpkg -r rsprep 2>/run/dpkg-r.log >/dev/null
	check deb-remove-exit-0 "[ $? = 0 ]"
	sed 's/^/    /' /run/dpkg-r.log
	check deb-remove-binary-gone '[ ! -e /usr/sbin/rsprep ]'
	check deb-remove-left-vip applied
	check deb-remove-left-arp-ignore '[ "$(cat /proc/sys/net/ipv4/conf/all/arp_ignore)" = 1 ]'
	check deb-remove-says-how-to-down 'grep -q "rsprep down" /run/dpkg-r.log && grep -q "rsprep uninstall" /run/dpkg-r.log'
	check deb-remove-left-config '[ -e /etc/rsprep/rsprep.conf ] && [ -e /etc/systemd/system/rsprep.service ]'
	# dpkg -P removes nothing rsprep install wrote, and names it.
	dpkg -P rsprep 2>/run/dpkg-p.log >/dev/null
	check deb-purge-exit-0 "[ $? = 0 ]"
	sed 's/^/    /' /run/dpkg-p.log
	check deb-purge-left-config '[ -e /etc/rsprep/rsprep.conf ] && [ -e /etc/systemd/system/rsprep.service ] && [ -e /etc/systemd/system/multi-user.target.wants/rsprep.service ]'
	check deb-purge-names-them 'grep -q "/etc/rsprep/rsprep.conf" /run/dpkg-p.log'
	check deb-purge-left-vip applied

	# Live: dpkg -i brings the binary back; the host is still as it was.
	dpkg -i /var/cache/rsprep-test/rsprep.deb >/dev/null 2>/run/dpkg-i.log
	check deb-live-install-exit-0 "[ $? = 0 ]"
	/usr/sbin/rsprep verify >/dev/null
	check deb-verify-after-reinstall "[ $? = 0 ]"
	# rsprep uninstall, then purge: nothing is left.
	/usr/sbin/rsprep uninstall 2>/dev/null
	check deb-uninstall-ran-down "! applied"
	dpkg -P rsprep 2>/run/dpkg-p2.log >/dev/null
	check deb-purge-after-uninstall-exit-0 "[ $? = 0 ]"
	sed 's/^/    /' /run/dpkg-p2.log
	check deb-nothing-left '[ ! -e /etc/rsprep ] && [ ! -e /etc/systemd/system/rsprep.service ] && [ ! -e /usr/sbin/rsprep ] && [ ! -s /run/dpkg-p2.log ] && ! dpkg-query -W rsprep >/dev/null 2>&1'
	;;
esac

echo DONE
systemctl poweroff --no-block
