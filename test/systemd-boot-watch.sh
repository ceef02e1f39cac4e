# Sourced by systemd-boot-guest.sh in the watch scenario (check, eventually,
# state and applied come from there): rsprep.service is rsprep watch
# (install --watch). What undoes a real server in the field happens here
# for real, and watch must put it back.
show() { systemctl show -p "$1" --value rsprep.service; }
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

# stop: SIGTERM to the watcher, then down; nothing repairs what down removes.
systemctl stop rsprep.service
check stop-inactive "[ \"$(state)\" = inactive ]"
check stop-undid "! applied"
sleep 3
check stop-stays-undone "! applied"
