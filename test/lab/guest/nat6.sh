# nat6.sh — IPVS masquerading over IPv6 (ipvsadm -m, an IPv6 VIP and RIPs):
# the real servers' replies must route back through the director's IPv6
# DIP. rs1 starts as a host on an IPv6 LAN does, with an RA-learnt default
# route (proto ra, pref high, a lifetime) via a router that is absent; rs2
# with a static one. rs1 takes the director's global DIP, rs2 its
# link-local one (fe80::1%eth0). Without rsprep, and again after down, the
# replies bypass the director and die (the controls).
vip=fd00:9::100 dip=fd00:19::1 n=10

segment br-n6c n6-c=fd00:9::10/64 n6-d=fd00:9::2/64,$vip/128 &&
	segment br-n6r n6-d/eth1=$dip/64,fe80::1/64 n6-rs1=fd00:19::11/64 n6-rs2=fd00:19::12/64 &&
	ip -n n6-c -6 route add default via fd00:9::2 &&
	in_ns n6-d sysctl -qw net.ipv6.conf.all.forwarding=1 &&
	ip -n n6-rs1 -6 route add default via fe80::fe dev eth0 proto ra metric 1024 pref high expires 600 &&
	ip -n n6-rs2 -6 route add default via fd00:19::fe dev eth0 &&
	in_ns n6-d ipvsadm -A -t "[$vip]:80" -s rr &&
	in_ns n6-d ipvsadm -a -t "[$vip]:80" -r "[fd00:19::11]:80" -m &&
	in_ns n6-d ipvsadm -a -t "[$vip]:80" -r "[fd00:19::12]:80" -m &&
	web n6-rs1 && web n6-rs2 ||
	{ fail nat6.setup "building the IPv6 NAT cluster failed, see the console log"; exit 1; }

# v6snap NS: what rsprep nat with an IPv6 DIP may touch and down must give
# back: the IPv6 routes (a lifetime counts down: left out) and eth0's RA
# sysctls.
v6snap() {
	ip -n "$1" -6 route show | sed 's/ expires [0-9]*sec//'
	in_ns "$1" sh -c 'cd /proc/sys/net/ipv6/conf/eth0 && grep -H . accept_ra accept_ra_defrtr'
}

hits n6-c "http://[$vip]/" 2 $control_wait
verdict '[ $h0 -eq 2 ]' nat6.control.unprepared "$h0 of 2 requests unanswered without rsprep"

snap1=$(v6snap n6-rs1) snap2=$(v6snap n6-rs2)
rsp n6-rs1 nat --dip $dip
verdict '[ $rc -eq 0 ]' nat6.apply.rs1 "rsprep nat --dip $dip exits $rc"
rsp n6-rs2 nat --dip fe80::1%eth0
verdict '[ $rc -eq 0 ]' nat6.apply.rs2 "rsprep nat --dip fe80::1%eth0 exits $rc"
def1=$(ip -n n6-rs1 -6 route show default) def2=$(ip -n n6-rs2 -6 route show default)
verdict 'case "$def1" in "default via $dip dev eth0 proto static metric 1024 "*) true ;; *) false ;; esac' nat6.route.rs1 "rs1 IPv6 default route: $(oneline "${def1:-none}")"
verdict 'case "$def2" in "default via fe80::1 dev eth0 proto static metric 1024 "*) true ;; *) false ;; esac' nat6.route.rs2 "rs2 IPv6 default route: $(oneline "${def2:-none}")"
defrtr=$(in_ns n6-rs1 cat /proc/sys/net/ipv6/conf/eth0/accept_ra_defrtr /proc/sys/net/ipv6/conf/eth0/accept_ra | tr '\n' ' ')
verdict '[ "$defrtr" = "0 1 " ]' nat6.ra.defrtr "rs1 accept_ra_defrtr, accept_ra: $defrtr(RAs keep SLAAC, give no default router)"
rsp n6-rs1 verify nat --dip $dip
verdict '[ $rc -eq 0 ] && has ra.defrtr' nat6.verify.rs1 "rsprep verify nat exits $rc$(has ra.defrtr && echo ', checks ra.defrtr')"

ipvs_zero n6-d
hits n6-c "http://[$vip]/" $n
verdict '[ $h1 -gt 0 ] && [ $h2 -gt 0 ] && [ $h0 -eq 0 ]' nat6.traffic "rs1=$h1 rs2=$h2 unanswered=$h0 of $n"
ipvs_stats n6-d "[$vip]:80" $n
verdict '[ "$conns" -eq $n ] && [ "$outpkts" -gt 0 ]' nat6.director.return "conns=$conns inpkts=$inpkts outpkts=$outpkts"

# Drift: a network manager turns RA default routers back on and the RA
# route is back.
in_ns n6-rs1 sysctl -qw net.ipv6.conf.eth0.accept_ra_defrtr=1
ip -n n6-rs1 -6 route replace default via fe80::fe dev eth0 proto ra metric 1024 pref high expires 600
rsp n6-rs1 verify nat --dip $dip
verdict '[ $rc -eq 1 ] && has "FAIL route.default" && has "FAIL ra.defrtr"' nat6.drift "RA route and accept_ra_defrtr back: verify exits $rc$(has 'FAIL ra.defrtr' && echo ', names ra.defrtr')"
rsp n6-rs1 nat --dip $dip
rsp n6-rs1 verify nat --dip $dip
verdict '[ $rc -eq 0 ]' nat6.drift.repaired "after rsprep nat, verify exits $rc"

rsp n6-rs1 down nat --dip $dip
verdict '[ $rc -eq 0 ]' nat6.down.rs1 "rsprep down nat exits $rc"
rsp n6-rs2 down nat --dip fe80::1%eth0
verdict '[ $rc -eq 0 ]' nat6.down.rs2 "rsprep down nat exits $rc"
same nat6.down.rs1.routes "IPv6 routes and RA sysctls" "$snap1" "$(v6snap n6-rs1)"
same nat6.down.rs2.routes "IPv6 routes and RA sysctls" "$snap2" "$(v6snap n6-rs2)"
def1=$(ip -n n6-rs1 -6 route show default)
verdict 'case "$def1" in *"proto ra "*"expires "*"pref high"*) true ;; *) false ;; esac' nat6.down.ra-route "rs1's RA route given back: $(oneline "${def1:-none}")"
# The control again: defaults that bypass the director lose every reply.
hits n6-c "http://[$vip]/" 2 $control_wait
verdict '[ $h0 -eq 2 ]' nat6.control.down "$h0 of 2 requests unanswered after down"
