# tun.sh — IPVS tunnelling (ipvsadm -i): the director wraps each packet in
# IP-in-IP to the real server, which unwraps it on tunl0 and answers the
# client directly. Client, director and real servers share one segment, so
# the ARP rule of DR applies too.
vip=10.0.2.100 n=10

segment br-tun tun-c=10.0.2.10/24 tun-d=10.0.2.2/24 tun-rs1=10.0.2.11/24 tun-rs2=10.0.2.12/24 &&
	ip -n tun-d addr add $vip/32 dev eth0 &&
	in_ns tun-d ipvsadm -A -t $vip:80 -s rr &&
	in_ns tun-d ipvsadm -a -t $vip:80 -r 10.0.2.11:80 -i &&
	in_ns tun-d ipvsadm -a -t $vip:80 -r 10.0.2.12:80 -i &&
	web tun-rs1 && web tun-rs2 ||
	{ fail tun.setup "building the TUN cluster failed, see the console log"; exit 1; }
d_mac=$(mac tun-d eth0) rs1_mac=$(mac tun-rs1 eth0) rs2_mac=$(mac tun-rs2 eth0)
# The real servers start like a RHEL host: strict reverse-path filtering on
# all and default (a tunl0 created later inherits default). rsprep must see
# that the effective value is max(all, tunl0).
for rs in tun-rs1 tun-rs2; do
	in_ns $rs sysctl -qw net.ipv4.conf.all.rp_filter=1 net.ipv4.conf.default.rp_filter=1
done

# Negative controls, before rsprep.
verdict '! grep -q "^ipip " /proc/modules' tun.control.no-ipip "ipip not loaded before rsprep"
hits tun-c http://$vip/ 2 $control_wait
verdict '[ $h0 -eq 2 ]' tun.control.unprepared "$h0 of 2 requests unanswered without rsprep"

# rsprep probe from the director, through IPIP as IPVS sends it. Without
# rsprep no real server has ipip, so each answers the probe with ICMP
# protocol unreachable (3/2), or not at all when ICMP is rate-limited.
pr tun-d --rip 10.0.2.11,10.0.2.12 --vip $vip:80 --encap ipip --timeout 4s
verdict '[ $rc -eq 1 ] && echo "$states" | grep -Eqx "(lost|unreachable/3/2) (lost|unreachable/3/2)"' tun.probe.unprepared "probe before rsprep exits $rc: $states"

before1=$(snap tun-rs1) before2=$(snap tun-rs2)
# --dry-run is the whole plan: taken while no tunl0 exists (ipip is not
# loaded), it lists every change the apply then makes, in its order:
# modprobe ipip, then what only a tunl0 makes visible (its rp_filter,
# ip link set tunl0 up, the VIP on tunl0). It loads nothing itself.
# (A comment line after the plan explains proto 114: not a change.)
plan=$(rsprep tun --vip $vip --netns tun-rs1 --dry-run 2>/dev/null | grep -v '^#')
log "+ rsprep tun --vip $vip --netns tun-rs1 --dry-run"
echo "$plan" | sed 's/^/  | /'
verdict '! grep -q "^ipip " /proc/modules && [ "$(snap tun-rs1)" = "$before1" ]' tun.dry-run.changes-nothing "after the dry run, ipip loaded: $(grep -q '^ipip ' /proc/modules && echo yes || echo no)"
json=$(rsprep tun --vip $vip --netns tun-rs1 -o json 2>/dev/null)
rc=$?
log "+ rsprep tun --vip $vip --netns tun-rs1 -o json   => exit $rc"
echo "$json" | sed 's/^/  | /'
verdict '[ $rc -eq 0 ]' tun.apply.rs1 "rsprep tun exits $rc"
made=$(echo "$json" | sed -n '/"changes": \[/,/\]/s/^ *"\(.*\)",*$/\1/p')
verdict '[ -n "$plan" ] && [ "$plan" = "$made" ] && echo "$plan" | grep -q "^ip link set dev tunl0 up$"' tun.dry-run.whole-plan \
	"the dry run planned $(echo "$plan" | wc -l) changes, the apply made $(echo "$made" | wc -l)"
rsp tun-rs2 tun --vip $vip
verdict '[ $rc -eq 0 ]' tun.apply.rs2 "rsprep tun exits $rc"
verdict 'grep -q "^ipip " /proc/modules' tun.module "ipip loaded by rsprep: $(grep -q '^ipip ' /proc/modules && echo yes || echo no)"
modules_checked   # the other TUN jobs may load tunnel modules from now on
link=$(ip -n tun-rs1 -o addr show dev tunl0 2>&1 | sed 's/\\.*//; s/  */ /g')
verdict 'case "$link" in *"inet $vip/32 "*) true ;; *) false ;; esac && ip -n tun-rs1 link show tunl0 | grep -q "[<,]UP[,>]"' \
	tun.link "rs1 tunl0 up with: ${link:-nothing}"
for rs in rs1 rs2; do
	rsp tun-$rs verify tun --vip $vip
	verdict '[ $rc -eq 0 ]' tun.verify.$rs "rsprep verify tun exits $rc"
done

who=$(arp_who tun-c eth0 $vip)
verdict '[ "$who" = director ]' tun.arp "ARP for the VIP answered by: ${who:-nobody}"
ipvs_zero tun-d
hits tun-c http://$vip/ $n
verdict '[ $h1 -gt 0 ] && [ $h2 -gt 0 ] && [ $h0 -eq 0 ]' tun.traffic "rs1=$h1 rs2=$h2 unanswered=$h0 of $n"
ipvs_stats tun-d $vip:80 $n
# Answered, yet nothing went back out through the director.
verdict '[ $((h1 + h2)) -eq $n ] && [ "$conns" -eq $n ] && [ "$outpkts" = 0 ]' tun.director.no-return \
	"$((h1 + h2)) answers; director conns=$conns inpkts=$inpkts outpkts=$outpkts"

pr tun-d --rip 10.0.2.11,10.0.2.12 --vip $vip:80 --encap ipip --timeout 4s
verdict '[ $rc -eq 0 ] && [ "$states" = "open/1460 open/1460" ]' tun.probe "probe after rsprep exits $rc: $states"
sleep 1   # a SYN-ACK left unanswered would be retransmitted, and stay in SYN-RECV for ~60s
verdict '[ "$(halfopen tun-rs1)" = 0 ] && [ "$(halfopen tun-rs2)" = 0 ]' tun.probe.no-half-open \
	"connections in SYN-RECV after the probe: rs1 $(halfopen tun-rs1), rs2 $(halfopen tun-rs2)"

# Negative control: strict rp_filter back on tunl0 drops the decapsulated
# packets (the route back to the client is via eth0, not tunl0).
for rs in tun-rs1 tun-rs2; do in_ns $rs sysctl -qw net.ipv4.conf.tunl0.rp_filter=1; done
hits tun-c http://$vip/ 2 $control_wait
verdict '[ $h0 -eq 2 ]' tun.control.rp-filter "tunl0 rp_filter=1: $h0 of 2 requests unanswered"
pr tun-d --rip 10.0.2.11,10.0.2.12 --vip $vip:80 --encap ipip --timeout 4s
verdict '[ $rc -eq 1 ] && [ "$states" = "lost lost" ]' tun.probe.rp-filter "tunl0 rp_filter=1: probe exits $rc: $states"
rsp tun-rs1 verify tun --vip $vip
verdict '[ $rc -eq 1 ] && has rp.filter' tun.drift.rp-filter.tunl0 "tunl0 rp_filter=1: verify exits $rc$(has rp.filter && echo ', names rp.filter')"
for rs in rs1 rs2; do rsp tun-$rs tun --vip $vip; done
rsp tun-rs1 verify tun --vip $vip
verdict '[ $rc -eq 0 ]' tun.drift.rp-filter.tunl0.repaired "after rsprep tun, verify exits $rc"
hits tun-c http://$vip/ 4
verdict '[ $h1 -gt 0 ] && [ $h2 -gt 0 ] && [ $h0 -eq 0 ]' tun.traffic.repaired "rs1=$h1 rs2=$h2 unanswered=$h0 of 4"
# More negative controls for the probe, each repaired by rsprep tun:
# tunl0 down on rs1 (the real server answers ICMP port unreachable), the
# VIP gone from rs2 (silence), the service stopped on rs1 (RST: closed).
ip -n tun-rs1 link set tunl0 down
pr tun-d --rip 10.0.2.11,10.0.2.12 --vip $vip:80 --encap ipip --timeout 4s
verdict '[ $rc -eq 1 ] && [ "$states" = "unreachable/3/3 open/1460" ]' tun.probe.tunl0-down "tunl0 down on rs1: probe exits $rc: $states"
rsp tun-rs1 tun --vip $vip
ip -n tun-rs2 addr del $vip/32 dev tunl0
pr tun-d --rip 10.0.2.11,10.0.2.12 --vip $vip:80 --encap ipip --timeout 4s
verdict '[ $rc -eq 1 ] && [ "$states" = "open/1460 lost" ]' tun.probe.vip-removed "VIP removed from rs2: probe exits $rc: $states"
rsp tun-rs2 tun --vip $vip
stop_web tun-rs1
pr tun-d --rip 10.0.2.11,10.0.2.12 --vip $vip:80 --encap ipip --timeout 4s
verdict '[ $rc -eq 1 ] && [ "$states" = "closed open/1460" ]' tun.probe.stopped "httpd stopped on rs1: probe exits $rc: $states"
web tun-rs1 && web_up tun-rs1
pr tun-d --rip 10.0.2.11,10.0.2.12 --vip $vip:80 --encap ipip --timeout 4s
verdict '[ $rc -eq 0 ] && [ "$states" = "open/1460 open/1460" ]' tun.probe.repaired "after rsprep tun and httpd again: probe exits $rc: $states"

# The classic mistake the other way round: tunl0=0 but all=1; max wins.
in_ns tun-rs2 sysctl -qw net.ipv4.conf.all.rp_filter=1
rsp tun-rs2 verify tun --vip $vip
verdict '[ $rc -eq 1 ] && has rp.filter' tun.drift.rp-filter.all "all rp_filter=1, tunl0=0: verify exits $rc$(has rp.filter && echo ', names rp.filter')"
rsp tun-rs2 tun --vip $vip
rsp tun-rs2 verify tun --vip $vip
verdict '[ $rc -eq 0 ]' tun.drift.rp-filter.all.repaired "after rsprep tun, verify exits $rc"

# Teardown: the VIP leaves tunl0 and the sysctls of the interfaces that
# existed before are restored (tunl0 itself stays: the module stays loaded).
for rs in rs1 rs2; do
	rsp tun-$rs down tun --vip $vip
	verdict '[ $rc -eq 0 ]' tun.down.$rs "rsprep down tun exits $rc"
done
same tun.down.rs1.state "ip addr and sysctls (tunl0 aside)" "$before1" "$(snap tun-rs1)"
same tun.down.rs2.state "ip addr and sysctls (tunl0 aside)" "$before2" "$(snap tun-rs2)"
