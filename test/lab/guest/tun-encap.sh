# tun-encap.sh — GUE (ipvsadm --tun-type gue --tun-port 6080) and GRE
# (--tun-type gre), the encapsulations IPVS sends besides IP-in-IP, and
# --mss. One cluster (enc, 10.0.5.0/24), one service (VIP) each, one after
# the other: each gets the full proof of tun_prove and one negative control
# of its own piece, and ends with down, so the next starts from a real
# server as it was. tun-family.sh does the same for the tunnels that cross
# address families, on a cluster of its own, at the same time.
n=4 before1= tprobe=
tun_cluster enc 5 &&
	tun_service enc 10.0.5.100 10.0.5.11 10.0.5.12 --tun-type gue --tun-port 6080 &&
	tun_service enc 10.0.5.101 10.0.5.11 10.0.5.12 --tun-type gre ||
	{ fail enc.setup "building the encapsulation cluster failed, see the console log"; exit 1; }
before1=$(snap enc-rs1)

tprobe="--rip 10.0.5.11,10.0.5.12 --vip 10.0.5.100:80 --encap gue --encap-port 6080 --timeout 4s"
tun_prove gue enc 10.0.5.100 --encap gue --encap-port 6080
tun_break gue enc 10.0.5.100 fou.port "/usr/sbin/ip fou del port 6080" --encap gue --encap-port 6080
tprobe=
tun_down gue enc 10.0.5.100 --encap gue --encap-port 6080
fou=$(ip -n enc-rs1 fou show 2>&1)
verdict '[ -z "$fou" ]' gue.down.fou "fou ports after down: ${fou:-none}"

tprobe="--rip 10.0.5.11,10.0.5.12 --vip 10.0.5.101:80 --encap gre --timeout 4s"
tun_prove gre enc 10.0.5.101 --encap gre
tun_break gre enc 10.0.5.101 link.gre0 "/usr/sbin/ip link set gre0 down" --encap gre
tprobe=
tun_down gre enc 10.0.5.101 --encap gre
verdict '! ip -n enc-rs1 link show gre0 | grep -q "[<,]UP[,>]"' gre.down.gre0 "gre0 down again after down"

same enc.down.state "ip addr and sysctls (tunnel devices aside)" "$before1" "$(snap enc-rs1)"

# MSS: --mss 1400 clamps what the real servers advertise on connections to
# the VIP (plain IP-in-IP here), and on nothing else: the client's own
# socket says so (tcpmss reads TCP_INFO snd_mss, which is the advertised
# MSS less 12 bytes of timestamps).
tun_service enc 10.0.5.103 10.0.5.11 10.0.5.12 &&
	for rs in rs1 rs2; do rsp enc-$rs tun --vip 10.0.5.103; done
via=$(in_ns enc-c tcpmss 10.0.5.103:80 2>&1)
verdict '[ "$via" -gt 1400 ] 2>/dev/null' mss.control "without --mss, the client's snd_mss through the VIP is ${via:-nothing}"
for rs in rs1 rs2; do
	rsp enc-$rs tun --vip 10.0.5.103 --mss 1400
	verdict '[ $rc -eq 0 ]' mss.apply.$rs "rsprep tun --mss 1400 exits $rc"
done
rsp enc-rs1 verify tun --vip 10.0.5.103 --mss 1400
verdict '[ $rc -eq 0 ] && has "ok   mss.clamp 10.0.5.103"' mss.verify "verify --mss 1400 exits $rc"
via1=$(in_ns enc-c tcpmss 10.0.5.103:80 2>&1) via2=$(in_ns enc-c tcpmss 10.0.5.103:80 2>&1)
direct=$(in_ns enc-c tcpmss 10.0.5.11:80 2>&1)
verdict '[ "$via1" -le 1400 ] && [ "$via2" -le 1400 ] && [ "$direct" -gt 1400 ]' mss.clamp \
	"client snd_mss via the VIP: $via1, $via2 (both real servers); direct to rs1's RIP: $direct"
ip -n enc-rs1 rule del pref 7301
rsp enc-rs1 verify tun --vip 10.0.5.103 --mss 1400
verdict '[ $rc -eq 1 ] && has "FAIL mss.clamp 10.0.5.103"' mss.drift "rule removed: verify exits $rc$(has 'FAIL mss.clamp' && echo ', names mss.clamp')"
tun_down mss enc 10.0.5.103 --mss 1400
rules=$(ip -n enc-rs1 rule show | grep -c 7301) table=$(ip -n enc-rs1 route show table 7301 | wc -l)
verdict '[ "$rules" = 0 ] && [ "$table" = 0 ]' mss.down "after down: $rules rules and $table routes of table 7301 left"
