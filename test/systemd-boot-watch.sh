# Sourced by systemd-boot-guest.sh in the watch scenario (check, eventually,
# state, show and applied come from there): rsprep.service is rsprep watch
# (install --watch). What undoes a real server in the field happens here
# for real, and watch must put it back.
watch_journal() { journalctl -b -u rsprep.service -o verbose --no-pager; }

# sd_notify as systemd saw it: READY (a notify unit is active only once
# READY=1 came), STATUS=, and WATCHDOG=1 pings.
check type-notify '[ "$(show Type)" = notify ]'
show StatusText
check status-text 'show StatusText | grep -q "^dr: all [0-9]* checks hold"'
wd1=$(show WatchdogTimestampMonotonic)
sleep 17 # WatchdogSec=30s: a ping every 15 s
wd2=$(show WatchdogTimestampMonotonic)
echo "watchdog timestamps: $wd1 -> $wd2, NRestarts=$(show NRestarts)"
check watchdog-pinged '[ "$wd2" -gt "$wd1" ] && [ "$(state)" = active ] && [ "$(show NRestarts)" = 0 ]'
# WatchdogSec=30s is what the default --lock-wait (10s) needs
# (watch.WatchdogFor): the watcher did not have to raise it.
check watchdog-30s-not-raised '[ "$(show WatchdogUSec)" = 30s ] && ! watch_journal | grep -q "raised the watchdog"'

# doctor, live (no --root), names beforehand what will undo this host: a
# sysctl.d wildcard that lowers arp_ignore on every interface; not a
# .network managing lo without KeepConfiguration (networkd running), as
# networkd never cleans the loopback (systemd-boot-networkd.sh).
mkdir -p /etc/systemd/network
printf '[Match]\nName=lo\n\n[Network]\nKeepConfiguration=no\n' >/etc/systemd/network/10-lo.network
echo 'net.ipv4.conf.*.arp_ignore = 0' >/etc/sysctl.d/90-arp-ignore-everywhere.conf
systemctl start systemd-networkd
/usr/sbin/rsprep doctor >/run/doctor-before.txt 2>&1
rc=$?
sed 's/^/    /' /run/doctor-before.txt
check doctor-names-risks '[ $rc = 1 ] && ! grep -q "^networkd.lo-unkept" /run/doctor-before.txt && grep -q "^sysctl.override /etc/sysctl.d/90-arp-ignore-everywhere.conf:1 " /run/doctor-before.txt'
rm /etc/sysctl.d/90-arp-ignore-everywhere.conf

# systemd-networkd managing lo (no KeepConfiguration=static|yes). Whether
# a restart drops the VIPs (foreign addresses) depends on the version: it
# is reported, not required (bookworm's 252 was seen to keep them).
mkdir -p /etc/systemd/network
printf '[Match]\nName=lo\n\n[Network]\nDHCP=no\nKeepConfiguration=no\n' >/etc/systemd/network/10-lo.network
systemctl restart systemd-networkd
check networkd-active '[ "$(systemctl is-active systemd-networkd)" = active ]'
sleep 3
networkctl list --no-pager
if watch_journal | grep -q "^    CAUSE=.*removed from lo"; then
	echo "networkd's restart removed VIPs from lo; watch put them back:"
	watch_journal | grep "^    CAUSE=.*removed from lo" | head -n 3
else
	echo "networkd's restart left the VIPs on lo"
fi
check networkd-vips-held applied
# networkd taking lo down (networkctl down, as netplan apply can): the
# kernel flushes lo's IPv6 addresses; watch brings lo up and puts back
# the IPv6 VIP, from the link event.
networkctl down lo
networkctl up lo
eventually networkctl-down-repaired 'watch_journal | grep -q "^    INVARIANT=link.up" && watch_journal | grep -q "^    CAUSE=link lo appeared or changed"'
eventually networkctl-down-vip6-back 'ip -o addr show dev lo | grep -q " 2001:db8::80/128 "'
watch_journal | grep -E '^    (INVARIANT|CAUSE)=' | tail -n 6
systemctl stop systemd-networkd systemd-networkd.socket

# sysctl --system re-applies a conflicting wildcard: no event, the next
# resync (2 s here) repairs it.
echo 'net.ipv4.conf.*.arp_ignore = 0' >/etc/sysctl.d/90-arp-ignore-everywhere.conf
sysctl --system >/dev/null
eventually sysctl-system-repaired '[ "$(cat /proc/sys/net/ipv4/conf/all/arp_ignore)" = 1 ]'
eventually sysctl-repair-logged 'watch_journal | grep -q "^    INVARIANT=arp.ignore" && watch_journal | grep -q "^    CAUSE=resync"'
rm /etc/sysctl.d/90-arp-ignore-everywhere.conf
/usr/sbin/rsprep verify >/dev/null
check verify-after-repairs "[ $? = 0 ]"
show StatusText
check status-counts-repairs 'show StatusText | grep -q "; [1-9][0-9]* repairs"'

# Fixed as doctor says: KeepConfiguration=yes, the wildcard file gone.
printf '[Match]\nName=lo\n\n[Network]\nKeepConfiguration=yes\n' >/etc/systemd/network/10-lo.network
systemctl start systemd-networkd
/usr/sbin/rsprep doctor >/run/doctor-after.txt 2>&1
rc=$?
sed 's/^/    /' /run/doctor-after.txt
check doctor-clean-after-fix '[ $rc = 0 ]'

# networkd managing the uplink, with ManageForeignRoutes=yes (its
# default): a restart deletes routes it did not make, here the default
# route a NAT real server points at the director. doctor predicts it; a
# second watcher, keeping NAT true beside the unit's DR, puts it back.
printf '[Match]\nName=eth9\n\n[Network]\nAddress=192.168.10.2/24\nGateway=192.168.10.254\n' >/etc/systemd/network/20-eth9.network
systemctl restart systemd-networkd
/usr/sbin/rsprep doctor nat --dip 192.168.10.1 >/run/doctor-nat.txt 2>&1
rc=$?
sed 's/^/    /' /run/doctor-nat.txt
check doctor-names-foreign-routes '[ $rc = 1 ] && grep -q "^networkd.foreign-routes .*\[eth9\]" /run/doctor-nat.txt'
/usr/sbin/rsprep watch nat --dip 192.168.10.1 --resync 1h >/run/watch-nat.log 2>&1 &
natwatch=$!
# The route in effect: of several default routes at one metric (networkd
# may put its own back beside rsprep's), the first listed.
nat_applied() { ip route show default | sed -n 1p | grep -q "^default via 192.168.10.1 dev eth9"; }
eventually nat-watch-applied nat_applied 60
systemctl restart systemd-networkd
eventually networkd-restart-took-route 'grep -q "msg=\"repairing drift\" mode=nat invariant=route.default" /run/watch-nat.log' 60
eventually nat-watch-restored nat_applied 60
# No repair was a replace the kernel refuses as a duplicate (EEXIST: with
# networkd's default route back beside rsprep's at one metric, ahead of it).
check nat-watch-no-duplicate-replace '! grep -q "file exists" /run/watch-nat.log'
ip route show default
grep -E 'level=(WARN|ERROR)' /run/watch-nat.log | head -n 4
kill -TERM $natwatch
wait $natwatch
check nat-watch-sigterm-exit-0 "[ $? = 0 ]"
systemctl stop systemd-networkd systemd-networkd.socket
/usr/sbin/rsprep down nat --dip 192.168.10.1 2>&1 | sed 's/^/    /'
ip route show | sed 's/^/    /'
check nat-down "! nat_applied"

# stop: SIGTERM to the watcher, then down; nothing repairs what down removes.
systemctl stop rsprep.service
check stop-inactive "[ \"$(state)\" = inactive ]"
check stop-undid "! applied"
sleep 3
check stop-stays-undone "! applied"
