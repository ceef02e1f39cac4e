# nat.sh — IPVS masquerading (ipvsadm -m): the director rewrites addresses
# both ways, so the real servers' replies must route back through it (the
# DIP). Two segments: client side and real-server side, the director between.
# The real servers start with a default route via another gateway (.254,
# absent), so without rsprep their replies never reach the director.
vip=10.0.3.100 dip=10.0.4.1 n=10

segment br-natc nat-c=10.0.3.10/24 nat-d=10.0.3.2/24,$vip/32 &&
	segment br-natr nat-d/eth1=$dip/24 nat-rs1=10.0.4.11/24 nat-rs2=10.0.4.12/24 &&
	ip -n nat-c route add default via 10.0.3.2 &&
	in_ns nat-d sysctl -qw net.ipv4.ip_forward=1 &&
	ip -n nat-rs1 route add default via 10.0.4.254 &&
	ip -n nat-rs2 route add default via 10.0.4.254 &&
	in_ns nat-d ipvsadm -A -t $vip:80 -s rr &&
	in_ns nat-d ipvsadm -a -t $vip:80 -r 10.0.4.11:80 -m &&
	in_ns nat-d ipvsadm -a -t $vip:80 -r 10.0.4.12:80 -m &&
	web nat-rs1 && web nat-rs2 ||
	{ fail nat.setup "building the NAT cluster failed, see the console log"; exit 1; }

hits nat-c http://$vip/ 2 $control_wait
verdict '[ $h0 -eq 2 ]' nat.control.unprepared "$h0 of 2 requests unanswered without rsprep"

routes1=$(ip -n nat-rs1 route show) routes2=$(ip -n nat-rs2 route show)
rsp nat-rs1 nat --dip $dip
verdict '[ $rc -eq 0 ]' nat.apply.rs1 "rsprep nat exits $rc"
# rs2 keeps a management subnet on the old gateway.
rsp nat-rs2 nat --dip $dip --keep-route 10.0.9.0/24
verdict '[ $rc -eq 0 ]' nat.apply.rs2 "rsprep nat --keep-route 10.0.9.0/24 exits $rc"
def=$(ip -n nat-rs1 route show default)
verdict 'case "$def" in "default via $dip "*) true ;; *) false ;; esac' nat.route "rs1 default route: ${def:-none}"
keep=$(ip -n nat-rs2 route show 10.0.9.0/24)
verdict 'case "$keep" in *"via 10.0.4.254 "*) true ;; *) false ;; esac' nat.keep-route "rs2 route to 10.0.9.0/24: ${keep:-none}"
rsp nat-rs1 verify nat --dip $dip
verdict '[ $rc -eq 0 ]' nat.verify.rs1 "rsprep verify nat exits $rc"
rsp nat-rs2 verify nat --dip $dip --keep-route 10.0.9.0/24
verdict '[ $rc -eq 0 ] && has route.keep' nat.verify.rs2 "rsprep verify nat --keep-route 10.0.9.0/24 exits $rc$(has route.keep && echo ', checks route.keep')"

ipvs_zero nat-d
hits nat-c http://$vip/ $n
verdict '[ $h1 -gt 0 ] && [ $h2 -gt 0 ] && [ $h0 -eq 0 ]' nat.traffic "rs1=$h1 rs2=$h2 unanswered=$h0 of $n"
# The counterpart of DR's "no-return": in NAT the replies must pass the
# director, which also shows the counters do see returning packets.
ipvs_stats nat-d $vip:80 $n
verdict '[ "$conns" -eq $n ] && [ "$outpkts" -gt 0 ]' nat.director.return "conns=$conns inpkts=$inpkts outpkts=$outpkts"

# Drift: someone (DHCP, say) puts the old default route back.
ip -n nat-rs1 route replace default via 10.0.4.254
rsp nat-rs1 verify nat --dip $dip
verdict '[ $rc -eq 1 ] && has route.default' nat.drift.route "default via .254 again: verify exits $rc$(has route.default && echo ', names route.default')"
rsp nat-rs1 nat --dip $dip
rsp nat-rs1 verify nat --dip $dip
verdict '[ $rc -eq 0 ]' nat.drift.route.repaired "after rsprep nat, verify exits $rc"

rsp nat-rs1 down nat --dip $dip
verdict '[ $rc -eq 0 ]' nat.down.rs1 "rsprep down nat exits $rc"
rsp nat-rs2 down nat --dip $dip --keep-route 10.0.9.0/24
verdict '[ $rc -eq 0 ]' nat.down.rs2 "rsprep down nat exits $rc"
same nat.down.rs1.routes "ip route" "$routes1" "$(ip -n nat-rs1 route show)"
same nat.down.rs2.routes "ip route" "$routes2" "$(ip -n nat-rs2 route show)"
