# dr.sh — IPVS direct routing (ipvsadm -g). One L2 segment holds the client,
# the director (owner of the VIP) and two real servers. The client reaches the
# VIP on-link, so it must ARP for it, and only the director may answer.
vip=10.0.1.100 n=10

segment br-dr dr-c=10.0.1.10/24 dr-d=10.0.1.2/24 dr-rs1=10.0.1.11/24 dr-rs2=10.0.1.12/24 &&
	ip -n dr-d addr add $vip/32 dev eth0 &&
	in_ns dr-d ipvsadm -A -t $vip:80 -s rr &&
	in_ns dr-d ipvsadm -a -t $vip:80 -r 10.0.1.11:80 -g &&
	in_ns dr-d ipvsadm -a -t $vip:80 -r 10.0.1.12:80 -g &&
	web dr-rs1 && web dr-rs2 ||
	{ fail dr.setup "building the DR cluster failed, see the console log"; exit 1; }
d_mac=$(mac dr-d eth0) rs1_mac=$(mac dr-rs1 eth0) rs2_mac=$(mac dr-rs2 eth0)

# Negative controls, before rsprep touches anything.
hits dr-c http://$vip/ 2 $control_wait
verdict '[ $h0 -eq 2 ]' dr.control.unprepared "$h0 of 2 requests unanswered without rsprep"
# The classic half-done setup: the VIP on lo but no ARP sysctls. Both real
# servers then answer ARP for the VIP. Undone right after, before the snapshot.
for rs in dr-rs1 dr-rs2; do ip -n $rs addr add $vip/32 dev lo; done
who=$(arp_who dr-c eth0 $vip)
verdict '[ "$who" = "director rs1 rs2" ]' dr.control.arp "VIP on lo without the sysctls: ARP answered by: ${who:-nobody}"
for rs in dr-rs1 dr-rs2; do ip -n $rs addr del $vip/32 dev lo; done
ip -n dr-c neigh flush all

# rsprep probe from the director: the VIP path through each real server.
rs1_mss=1300   # rs1 offers a distinctive MSS, which the probe must report
ip -n dr-rs1 route replace 10.0.1.0/24 dev eth0 src 10.0.1.11 advmss $rs1_mss
pr dr-d --rip 10.0.1.11,10.0.1.12 --vip $vip:80 --timeout 4s
verdict '[ $rc -eq 1 ] && [ "$states" = "lost lost" ]' dr.probe.unprepared "probe before rsprep exits $rc: $states"

rsp dr-rs1 verify dr --vip $vip
verdict '[ $rc -eq 1 ]' dr.verify.unprepared "verify on an unprepared real server exits $rc"

# Prepare both real servers with rsprep only.
before1=$(snap dr-rs1) before2=$(snap dr-rs2)
for rs in rs1 rs2; do
	rsp dr-$rs dr --vip $vip
	verdict '[ $rc -eq 0 ]' dr.apply.$rs "rsprep dr exits $rc"
done
applied=$(snap dr-rs1)
rsp dr-rs1 dr --vip $vip
verdict '[ $rc -eq 0 ] && [ "$(snap dr-rs1)" = "$applied" ]' dr.apply.again "second rsprep dr exits $rc, state unchanged"
for rs in rs1 rs2; do
	rsp dr-$rs verify dr --vip $vip
	verdict '[ $rc -eq 0 ]' dr.verify.$rs "rsprep verify dr exits $rc"
done
out=$(ip netns exec dr-rs1 rsprep verify dr --vip $vip 2>&1); rc=$?
verdict '[ $rc -eq 0 ]' dr.verify.netns-exec "ip netns exec dr-rs1 rsprep verify dr exits $rc"

# The data path.
who=$(arp_who dr-c eth0 $vip)
verdict '[ "$who" = director ]' dr.arp "ARP for the VIP answered by: ${who:-nobody}"
ipvs_zero dr-d
hits dr-c http://$vip/ $n
verdict '[ $h1 -gt 0 ] && [ $h2 -gt 0 ] && [ $h0 -eq 0 ]' dr.traffic "rs1=$h1 rs2=$h2 unanswered=$h0 of $n"
ipvs_stats dr-d $vip:80 $n
# Answered, yet nothing went back out through the director.
verdict '[ $((h1 + h2)) -eq $n ] && [ "$conns" -eq $n ] && [ "$outpkts" = 0 ]' dr.director.no-return \
	"$((h1 + h2)) answers; director conns=$conns inpkts=$inpkts outpkts=$outpkts"
pr dr-d --rip 10.0.1.11,10.0.1.12 --vip $vip:80 --timeout 4s
verdict '[ $rc -eq 0 ] && [ "$states" = "open/$rs1_mss open/1460" ]' dr.probe "probe after rsprep exits $rc: $states"
sleep 1   # a SYN-ACK left unanswered would be retransmitted, and stay in SYN-RECV for ~60s
verdict '[ "$(halfopen dr-rs1)" = 0 ] && [ "$(halfopen dr-rs2)" = 0 ]' dr.probe.no-half-open \
	"connections in SYN-RECV after the probe: rs1 $(halfopen dr-rs1), rs2 $(halfopen dr-rs2)"
# The service stopped, the path fine: closed (RST from VIP:80).
stop_web dr-rs1
pr dr-d --rip 10.0.1.11,10.0.1.12 --vip $vip:80 --timeout 4s
verdict '[ $rc -eq 1 ] && [ "$states" = "closed open/1460" ]' dr.probe.stopped "httpd stopped on rs1: probe exits $rc: $states"
web dr-rs1 && web_up dr-rs1
neigh=$(ip -n dr-c neigh show $vip)
verdict 'case "$neigh" in *"lladdr $d_mac "*) true ;; *) false ;; esac' dr.client.neigh "client's neighbour entry for the VIP: ${neigh:-none} (director is $d_mac)"

# Drift: verify notices, apply repairs.
ip -n dr-rs1 addr del $vip/32 dev lo
rsp dr-rs1 verify dr --vip $vip
verdict '[ $rc -eq 1 ] && has vip.bound' dr.drift.vip "VIP removed: verify exits $rc$(has vip.bound && echo ', names vip.bound')"
pr dr-d --rip 10.0.1.11,10.0.1.12 --vip $vip:80 --timeout 4s
verdict '[ $rc -eq 1 ] && [ "$states" = "lost open/1460" ]' dr.probe.vip-removed "VIP removed from rs1: probe exits $rc: $states"
rsp dr-rs1 dr --vip $vip
rsp dr-rs1 verify dr --vip $vip
verdict '[ $rc -eq 0 ]' dr.drift.vip.repaired "after rsprep dr, verify exits $rc"
in_ns dr-rs2 sysctl -qw net.ipv4.conf.all.arp_ignore=0
rsp dr-rs2 verify dr --vip $vip
verdict '[ $rc -eq 1 ] && has arp.ignore' dr.drift.sysctl "all.arp_ignore=0: verify exits $rc$(has arp.ignore && echo ', names arp.ignore')"
rsp dr-rs2 dr --vip $vip
rsp dr-rs2 verify dr --vip $vip
verdict '[ $rc -eq 0 ]' dr.drift.sysctl.repaired "after rsprep dr, verify exits $rc"

# Teardown gives back the state from before rsprep.
for rs in rs1 rs2; do
	rsp dr-$rs down dr --vip $vip
	verdict '[ $rc -eq 0 ]' dr.down.$rs "rsprep down dr exits $rc"
done
same dr.down.rs1.state "ip addr and sysctls" "$before1" "$(snap dr-rs1)"
same dr.down.rs2.state "ip addr and sysctls" "$before2" "$(snap dr-rs2)"
