# tun-mss.sh — MSS: --mss 1400 clamps what the real servers advertise on
# connections to the VIP (plain IP-in-IP here), and on nothing else: the
# client's own socket says so (tcpmss reads TCP_INFO snd_mss, which is the
# advertised MSS less 12 bytes of timestamps). Cluster mss, 10.0.7.0/24.
tun_cluster mss 7 && tun_service mss 10.0.7.103 10.0.7.11 10.0.7.12 ||
	{ fail mss.setup "building the MSS cluster failed, see the console log"; exit 1; }
for rs in rs1 rs2; do rsp mss-$rs tun --vip 10.0.7.103; done
via=$(in_ns mss-c tcpmss 10.0.7.103:80 2>&1)
verdict '[ "$via" -gt 1400 ] 2>/dev/null' mss.control "without --mss, the client's snd_mss through the VIP is ${via:-nothing}"
for rs in rs1 rs2; do
	rsp mss-$rs tun --vip 10.0.7.103 --mss 1400
	verdict '[ $rc -eq 0 ]' mss.apply.$rs "rsprep tun --mss 1400 exits $rc"
done
rsp mss-rs1 verify tun --vip 10.0.7.103 --mss 1400
verdict '[ $rc -eq 0 ] && has "ok   mss.clamp 10.0.7.103"' mss.verify "verify --mss 1400 exits $rc"
via1=$(in_ns mss-c tcpmss 10.0.7.103:80 2>&1) via2=$(in_ns mss-c tcpmss 10.0.7.103:80 2>&1)
direct=$(in_ns mss-c tcpmss 10.0.7.11:80 2>&1)
verdict '[ "$via1" -le 1400 ] && [ "$via2" -le 1400 ] && [ "$direct" -gt 1400 ]' mss.clamp \
	"client snd_mss via the VIP: $via1, $via2 (both real servers); direct to rs1's RIP: $direct"
ip -n mss-rs1 rule del pref 7301
rsp mss-rs1 verify tun --vip 10.0.7.103 --mss 1400
verdict '[ $rc -eq 1 ] && has "FAIL mss.clamp 10.0.7.103"' mss.drift "rule removed: verify exits $rc$(has 'FAIL mss.clamp' && echo ', names mss.clamp')"
tun_down mss mss 10.0.7.103 --mss 1400
rules=$(ip -n mss-rs1 rule show | grep -c 7301) table=$(ip -n mss-rs1 route show table 7301 | wc -l)
verdict '[ "$rules" = 0 ] && [ "$table" = 0 ]' mss.down "after down: $rules rules and $table routes of table 7301 left"
