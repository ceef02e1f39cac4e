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

# The copy of main follows main. The client also holds 10.0.17.10 and asks
# the VIP from it, an address off the segment: the real servers' replies to
# it take table 7301's default route. Their gateway .99 is dead, then main
# moves to the client (.10). Without watch the copy stays via .99: verify
# names it and the VIP goes unanswered. Under watch, main's route event
# brings the copy in step (timed from the change) and the VIP answers
# again.
ip -n mss-c addr add 10.0.17.10/32 dev lo
ip -n mss-c route add 10.0.7.103/32 dev eth0 src 10.0.17.10
for rs in rs1 rs2; do
	ip -n mss-$rs route replace default via 10.0.7.99
	rsp mss-$rs tun --vip 10.0.7.103 --mss 1400
done
for rs in rs1 rs2; do ip -n mss-$rs route replace default via 10.0.7.10; done
rsp mss-rs1 verify tun --vip 10.0.7.103 --mss 1400
verdict '[ $rc -eq 1 ] && has "stale copy: default via 10.0.7.99 dev eth0 table 7301 advmss 1400"' mss.stale.verify \
	"main's default moved to .10: verify exits $rc$(has 'stale copy: default via 10.0.7.99' && echo ', names the stale copy via .99')"
hits mss-c http://10.0.7.103/ 1 $control_wait
verdict '[ $h0 -eq 1 ]' mss.stale.control "$h0 of 1 request from 10.0.17.10 unanswered while the copy is stale"
for rs in rs1 rs2; do
	ip -n mss-$rs route replace default via 10.0.7.99
	rsp mss-$rs tun --vip 10.0.7.103 --mss 1400
	rsprep watch tun --vip 10.0.7.103 --mss 1400 --resync 1h --textfile /run/lab.mss-$rs.prom --netns mss-$rs >/dev/null 2>/run/lab.mss-$rs.log &
	eval "watch_$rs=$!"
done
_w=0
while { [ ! -e /run/lab.mss-rs1.prom ] || [ ! -e /run/lab.mss-rs2.prom ]; } && [ $_w -lt 300 ]; do sleep 0.1; _w=$((_w + 1)); done
read -r _t0 _ </proc/uptime
for rs in rs1 rs2; do ip -n mss-$rs route replace default via 10.0.7.10; done
_w=0
until ip -n mss-rs1 route show table 7301 | grep -q "default via 10.0.7.10 " &&
	ip -n mss-rs2 route show table 7301 | grep -q "default via 10.0.7.10 " || [ $_w -ge 150 ]; do sleep 0.1; _w=$((_w + 1)); done
read -r _t1 _ </proc/uptime
took=$(echo "$_t0 $_t1" | awk '{ printf "%.2f", $2 - $1 }')
verdict '[ $_w -lt 150 ]' mss.watch.follows \
	"under watch, table 7301 follows main's new default gateway on both real servers in ${took}s of a guest busy with the other TUN jobs (polled up to 15 s)"
hits mss-c http://10.0.7.103/ 2
verdict '[ $h1 -gt 0 ] && [ $h2 -gt 0 ] && [ $h0 -eq 0 ]' mss.watch.traffic "from 10.0.17.10 under watch: rs1=$h1 rs2=$h2 unanswered=$h0 of 2"
kill $watch_rs1 $watch_rs2
wait $watch_rs1 $watch_rs2
log "main's default route moved at VM uptime $_t0, the copies followed by $_t1; the watchers logged:"
for rs in rs1 rs2; do while IFS= read -r _l; do echo "  $job| $rs watch: $_l"; done </run/lab.mss-$rs.log; done
cause=$(grep -c 'invariant=mss.clamp subject="table 7301" .*stale copy: default via 10.0.7.99 .*cause="route default added or replaced"' /run/lab.mss-rs1.log /run/lab.mss-rs2.log | grep -c ':[1-9][0-9]*$')
verdict '[ "$cause" = 2 ]' mss.watch.cause "$cause of 2 watchers repaired the stale copy on main's route event (not at a resync: --resync 1h)"
tun_down mss.watch mss 10.0.7.103 --mss 1400
