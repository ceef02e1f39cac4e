# Sourced by systemd-boot-guest.sh in the watch scenario, before its
# checks of the applied host (check, eventually, state, show and applied
# come from there). rsprep.service is `rsprep watch` with --dip
# 192.168.20.1: the director at the other end of eth8 (a veth whose peer
# is in the network namespace "director", see systemd-boot.sh), which
# does not hold that address yet, as a director still booting. The unit
# must say READY with a degraded STATUS, keep the rest true, and converge
# once the director answers, without a restart.
DIP=192.168.20.1

# Absent: this check unit started, so READY=1 came (After= a notify unit
# waits for it); the unit is active and did not fail and restart.
pid=$(show MainPID)
check director-absent-active "[ \"\$(state)\" = active ] && [ \"\$(show NRestarts)\" = 0 ]"
show StatusText
check director-absent-status-degraded "show StatusText | grep -q '^dr: degraded: 1 of [0-9]* checks fail (dip.reachable $DIP)'"
# It repaired what it can: the VIPs bound, the ARP sysctls in place.
check director-absent-vips-bound "applied && ip -o addr show dev lo | grep -q ' $VIP6/128 '"
check director-absent-arp-sysctls '[ "$(cat /proc/sys/net/ipv4/conf/all/arp_ignore)" = 1 ] && [ "$(cat /proc/sys/net/ipv4/conf/all/arp_announce)" = 2 ]'
/usr/sbin/rsprep verify >/run/verify-no-director.txt
rc=$?
grep -v '^ok ' /run/verify-no-director.txt | sed 's/^/    /' # indented: a FAIL line would count as a check
check director-absent-verify-names-dip "[ $rc = 1 ] && [ \"\$(grep -c '^FAIL' /run/verify-no-director.txt)\" = 1 ] && grep -q '^FAIL dip.reachable $DIP' /run/verify-no-director.txt"
eventually director-absent-warned 'journalctl -b -u rsprep.service -o cat --no-pager | grep -q "not every check holds yet"'
# Two resyncs (2 s) later, still degraded, still the same process.
sleep 4
check director-absent-still-watching "[ \"\$(state)\" = active ] && [ \"\$(show MainPID)\" = $pid ] && show StatusText | grep -q '^dr: degraded: '"

# The director comes up: it holds the DIP, so it answers ARP for it. The
# next resync probes it again.
ip -n director addr add $DIP/24 dev dir0
eventually director-present-verify-0 '/usr/sbin/rsprep verify >/dev/null' 60
eventually director-present-status-holds 'show StatusText | grep -q "^dr: all [0-9]* checks hold"' 60
show StatusText
check director-present-no-restart "[ \"\$(state)\" = active ] && [ \"\$(show MainPID)\" = $pid ] && [ \"\$(show NRestarts)\" = 0 ]"
