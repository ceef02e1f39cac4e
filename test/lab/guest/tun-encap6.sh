# tun-encap6.sh — GUE and GRE over an IPv6 underlay: an IPv4 VIP whose
# real servers are IPv6 addresses (ipvsadm -a -t VIP:80 -r [RIP6]:80 -i
# --tun-type gue --tun-port 6080, and --tun-type gre), each with the full
# proof of tun_prove and one negative control of its own piece; then --mss
# for an IPv6 VIP (over IPv4 real servers). Self-contained: its own cluster e6 (10.0.5.0/24,
# fd00:5::/64), nothing read from or left for other sections.
n=4 tprobe=
tun_cluster e6 5 &&
	tun_service e6 10.0.5.100 "[fd00:5::11]" "[fd00:5::12]" --tun-type gue --tun-port 6080 &&
	tun_service e6 10.0.5.101 "[fd00:5::11]" "[fd00:5::12]" --tun-type gre &&
	tun_service e6 fd00:5::102 10.0.5.11 10.0.5.12 ||
	{ fail e6.setup "building the IPv6-underlay cluster failed, see the console log"; exit 1; }
e6_before=$(snap e6-rs1)

# GUE over IPv6: fou's receive port on IPv6, and ip6tnl0 (up, mode ipip6)
# takes the IPv4 packet fou hands on.
gue6="--encap gue --encap-port 6080 --underlay ipv6"
tun_prove gue6 e6 10.0.5.100 $gue6
tun_break gue6 e6 10.0.5.100 fou.port "/usr/sbin/ip fou del port 6080 -6" $gue6
tun_down gue6 e6 10.0.5.100 $gue6
fou=$(ip netns exec e6-rs1 /usr/sbin/ip fou show 2>&1)
mode=$(ip -n e6-rs1 -d link show ip6tnl0 | sed -n 's/.*ip6tnl \([a-z0-9]*\) .*/\1/p')
verdict '[ -z "$fou" ] && [ "$mode" = ip6ip6 ]' gue6.down.fou "after down: fou ports ${fou:-none}, ip6tnl0 mode ${mode:-unknown}"

# GRE over IPv6: keyless GRE arrives on ip6gre0 (up).
gre6="--encap gre --underlay ipv6"
tun_prove gre6 e6 10.0.5.101 $gre6
tun_break gre6 e6 10.0.5.101 link.ip6gre0 "/usr/sbin/ip link set ip6gre0 down" $gre6
tun_down gre6 e6 10.0.5.101 $gre6
verdict '! ip -n e6-rs1 link show ip6gre0 | grep -q "[<,]UP[,>]"' gre6.down.ip6gre0 "ip6gre0 down again after down"

# MSS for an IPv6 VIP (over IPv4 real servers: sit0): --mss 1400 clamps
# what the real servers advertise on connections to the VIP, and nothing
# else (tcpmss reads TCP_INFO snd_mss: the advertised MSS less 12 bytes of
# timestamps). Without it: 1500 - 60 (IPv6+TCP) = 1440, so 1428.
vip6=fd00:5::102 mss6="--underlay ipv4 --mss 1400"
for rs in rs1 rs2; do rsp e6-$rs tun --vip $vip6 --underlay ipv4; done
via=$(ip netns exec e6-c tcpmss "[$vip6]:80" 2>&1)
verdict '[ "$via" -gt 1400 ] 2>/dev/null' mss6.control "without --mss, the client's snd_mss through the IPv6 VIP is ${via:-nothing}"
for rs in rs1 rs2; do
	rsp e6-$rs tun --vip $vip6 $mss6
	verdict '[ $rc -eq 0 ]' mss6.apply.$rs "rsprep tun --vip $vip6 $mss6 exits $rc"
done
rsp e6-rs1 verify tun --vip $vip6 $mss6
verdict '[ $rc -eq 0 ] && has "ok   mss.clamp $vip6"' mss6.verify "verify $mss6 exits $rc$(has "ok   mss.clamp $vip6" && echo ", mss.clamp $vip6 ok")"
via1=$(ip netns exec e6-c tcpmss "[$vip6]:80" 2>&1) via2=$(ip netns exec e6-c tcpmss "[$vip6]:80" 2>&1)
direct=$(ip netns exec e6-c tcpmss "[fd00:5::11]:80" 2>&1)
verdict '[ "$via1" -le 1400 ] && [ "$via2" -le 1400 ] && [ "$direct" -gt 1400 ]' mss6.clamp \
	"client snd_mss via the IPv6 VIP: $via1, $via2 (both real servers); direct to rs1's [fd00:5::11]: $direct"
ip netns exec e6-rs1 /usr/sbin/ip -6 rule del pref 7301
rsp e6-rs1 verify tun --vip $vip6 $mss6
verdict '[ $rc -eq 1 ] && has "FAIL mss.clamp $vip6"' mss6.drift "IPv6 rule removed: verify exits $rc$(has "FAIL mss.clamp $vip6" && echo ', names mss.clamp')"
tun_down mss6 e6 $vip6 $mss6
rules=$(ip -n e6-rs1 -6 rule show | grep -c 7301) table=$(ip -n e6-rs1 -6 route show table 7301 | wc -l)
verdict '[ "$rules" = 0 ] && [ "$table" = 0 ]' mss6.down "after down: $rules IPv6 rules and $table IPv6 routes of table 7301 left"

# An IPv6 VIP over IPv6 real servers (ip6ip6 on ip6tnl0), with --mss auto:
# 1500 - 60 (IPv6+TCP) - 40 (IPv6 underlay) = 1400. The director's VIP is
# deprecated (preferred_lft 0): else its source address selection picks
# the VIP /128 as the outer source to the RIPs (the longest match, capped
# at each address's prefix length, prefers a /128 to the /64), and the
# real servers, which hold the VIP, drop a tunnel packet whose outer
# source is one of their own addresses (ip6_tnl_rcv_ctl): in this lab,
# no answer at all with the VIP preferred.
vip66=fd00:5::103 auto66="--mss auto"
ip -n e6-d addr add $vip66/128 dev eth0 nodad preferred_lft 0 &&
	ip netns exec e6-d ipvsadm -A -t "[$vip66]:80" -s rr &&
	ip netns exec e6-d ipvsadm -a -t "[$vip66]:80" -r "[fd00:5::11]:80" -i &&
	ip netns exec e6-d ipvsadm -a -t "[$vip66]:80" -r "[fd00:5::12]:80" -i ||
	fail ip6ip6.setup "the IPv6-in-IPv6 service failed, see the console log"
for rs in rs1 rs2; do rsp e6-$rs tun --vip $vip66 $auto66; done
rsp e6-rs1 verify tun --vip $vip66 $auto66
verdict '[ $rc -eq 0 ] && has "auto: MTU 1500 of eth0 - 60 IPv6+TCP + 40 IPv6 underlay"' ip6ip6.verify \
	"verify $auto66 exits $rc$(has "auto: MTU 1500 of eth0 - 60 IPv6+TCP + 40 IPv6 underlay" && echo ", auto chose 1500 - 60 - 40")"
hits e6-c "http://[$vip66]/" 4
verdict '[ $h1 -gt 0 ] && [ $h2 -gt 0 ] && [ $h0 -eq 0 ]' ip6ip6.traffic "rs1=$h1 rs2=$h2 unanswered=$h0 of 4"
via1=$(ip netns exec e6-c tcpmss "[$vip66]:80" 2>&1) via2=$(ip netns exec e6-c tcpmss "[$vip66]:80" 2>&1)
verdict '[ "$via1" = 1388 ] && [ "$via2" = 1388 ]' ip6ip6.mss.auto "client snd_mss via the IPv6 VIP with --mss auto: $via1, $via2 (1400 less 12 of timestamps)"
tun_down ip6ip6 e6 $vip66 $auto66

same e6.down.state "ip addr and sysctls (tunnel devices aside)" \
	"$(echo "$e6_before" | grep -v -e tunl0 -e gre -e erspan -e ip6tnl0 -e sit0)" \
	"$(snap e6-rs1 | grep -v -e tunl0 -e gre -e erspan -e ip6tnl0 -e sit0)"
