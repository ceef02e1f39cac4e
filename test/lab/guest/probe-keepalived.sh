# probe-keepalived.sh — what Debian's keepalived 2.2.7 does with each exit
# code of a MISC_CHECK, with and without misc_dynamic, and rsprep probe as
# that check when it cannot run (issue 27, item 6). Cluster kx, 10.0.23.0/24.
. /lab/keepalived.sh
P=kx vip=10.0.23.100 rip1=10.0.23.11 rip2=10.0.23.12

tun_cluster $P 23 && ip -n $P-d addr add $vip/32 dev eth0 ||
	{ fail kac.setup "building cluster $P failed, see the console log"; exit 1; }
for rs in rs1 rs2; do rsp $P-$rs dr --vip $vip; done
# keepalived sends a check's stdout and stderr to /dev/null; syslog is
# where rsprep probe --error-exit says why it could not run.
syslogd -n -O /tmp/$P.syslog &
syslog_pid=$!

printf '#!/bin/sh\nexit "$1"\n' >/tmp/exit.sh && chmod 0755 /tmp/exit.sh
mt="
			misc_timeout $ka_timeout"   # see drain.sh
probe="/usr/bin/rsprep probe --vip $vip:80 --timeout 1s"

# vs PORT DELAY REAL-SERVERS: one virtual service.
vs() { printf 'virtual_server %s %s {\n\tdelay_loop %s\n\tlb_algo rr\n\tlb_kind DR\n\tprotocol TCP\n%s}\n' $vip $1 $2 "$3"; }
# phase NAME VIRTUAL-SERVICES: (re)start keepalived with them. One question
# at a time: under TCG each check's fork costs, and a guest busy with a
# dozen checks a second starves the scenario.
phase() {
	ka_stop $P
	printf 'global_defs {\n\tscript_user root\n}\n%s' "$2" >/tmp/$P.ka.conf
	log "keepalived.conf ($1): $(oneline "$(cat /tmp/$P.ka.conf)")"
	ka_start $P
}
# vweight VS RIP: the weight of RIP in the virtual service VIP:VS (for DR
# keepalived gives a real server the service's port, whatever it says).
vweight() { in_ns $P-d ipvsadm -Ln | awk -v vs="$vip:$1" -v r="$2:$1" '$1 == "TCP" { cur = $2 } $1 == "->" && cur == vs && $2 == r { print $4 }'; }
# settle VS RIP W: poll (at most 60 polls) until RIP's weight in VS is W; sets $w.
settle() {
	_t=0
	while w=$(vweight "$1" "$2"); [ "$w" != "$3" ] && [ "$_t" -lt 60 ]; do sleep 0.5; _t=$((_t + 1)); done
	log "  weight of $2 in $vip:$1: ${w:-absent} (want $3, after $_t polls)"
}

# 1. Exit codes. The real servers are addresses nobody holds: their weight
# is only what keepalived makes of a script that exits N. Plain: 0 keeps
# the weight, anything else is "down" (weight 0 with inhibit_on_failure);
# misc_dynamic: 1 is down, 0 keeps the weight, N from 2 sets it to N - 2.
codes="0 1 2 3 4"
plain= dyn=
for c in $codes; do
	plain="$plain$(ka_rs 10.0.23.$((50 + c)) "misc_path \"/tmp/exit.sh $c\"$mt")"
	dyn="$dyn$(ka_rs 10.0.23.$((50 + c)) "misc_path \"/tmp/exit.sh $c\"$mt
			misc_dynamic")"
done
phase exit-codes "$(vs 90 2 "$plain
")$(vs 91 2 "$dyn
")"
seen=
for c in $codes; do
	settle 90 10.0.23.$((50 + c)) "$([ $c = 0 ] && echo 1 || echo 0)"
	p=$w
	want=1
	case $c in 1 | 2) want=0 ;; 4) want=2 ;; esac
	settle 91 10.0.23.$((50 + c)) $want
	seen="$seen exit $c: plain $p, misc_dynamic $w;"
	eval "p$c=$p d$c=$w"
done
verdict '[ "$p0 $p1 $p2 $p3 $p4" = "1 0 0 0 0" ] && [ "$d0 $d1 $d2 $d3 $d4" = "1 0 0 1 2" ]' kac.exit-codes \
	"keepalived's weight for a real server at weight 1 whose check exits N:$seen"

# 2. README's recipe as it was (:80, any non-zero exit is down) and with
# misc_dynamic and --error-exit 3 (:81, weight 1 + 2), each with a check
# that cannot run: rs1's as user nobody (no CAP_NET_RAW), and on :80 rs2's
# as root (healthy), on :81 rs2's with bad input (a VIP without a port).
phase cannot-run "$(vs 80 2 "$(ka_rs $rip1 "misc_path \"$probe --rip $rip1\"$mt
			user nobody")$(ka_rs $rip2 "misc_path \"$probe --rip $rip2\"$mt")
")$(vs 81 2 "$(ka_rs $rip1 "misc_path \"$probe --rip $rip1 --error-exit 3\"$mt
			misc_dynamic
			user nobody")$(ka_rs $rip2 "misc_path \"/usr/bin/rsprep probe --vip $vip --rip $rip2 --timeout 1s --error-exit 3\"$mt
			misc_dynamic")
")"
settle 80 $rip2 1
_w2=$w
settle 80 $rip1 0
verdict '[ "$w" = 0 ] && [ "$_w2" = 1 ]' kac.plain.no-cap-drains \
	"plain recipe: the check as nobody (no CAP_NET_RAW, exit 3) puts healthy rs1 at weight ${w:-absent} (rs2, as root: ${_w2:-absent})"
line=$(grep -m1 "Misc check for \[\[$rip1\]:tcp:80 .*exited with status 3" /tmp/$P.ka.log | sed 's/.*keepalived: //')
verdict '[ -n "$line" ]' kac.plain.logged "keepalived logs: ${line:-nothing about exit 3}"
sleep 6 # several rounds of checks
settle 81 $rip1 1
_w1=$w
settle 81 $rip2 1
verdict '[ "$_w1" = 1 ] && [ "$w" = 1 ]' kac.dynamic.keeps-weight \
	"misc_dynamic + --error-exit 3: rs1 (check as nobody) at weight ${_w1:-absent}, rs2 (bad input) at weight ${w:-absent}"
cap=$(grep -m1 "probe could not run:.*CAP_NET_RAW.*exit 3" /tmp/$P.syslog)
bad=$(grep -m1 "probe could not run:.*has no port.*exit 3" /tmp/$P.syslog)
verdict '[ -n "$cap" ] && [ -n "$bad" ]' kac.dynamic.syslog "syslog: $(oneline "${cap:-no line about CAP_NET_RAW}
${bad:-no line about the bad --vip}")"

# 3. That recipe as root with delay_loop 1: a verdict still counts, so a
# drained real server goes to weight 0, and comes back.
phase drain "$(vs 82 1 "$(ka_rs $rip1 "misc_path \"$probe --rip $rip1 --error-exit 3\"$mt
			misc_dynamic")$(ka_rs $rip2 "misc_path \"$probe --rip $rip2 --error-exit 3\"$mt
			misc_dynamic")
")"
settle 82 $rip1 1
_w1=$w
rsp $P-rs1 drain dr --vip $vip --dip 10.0.23.2 --timeout 60s --quiet 3s
settle 82 $rip1 0
_w0=$w
rsp $P-rs1 undrain dr --vip $vip
settle 82 $rip1 1
verdict '[ "$_w1" = 1 ] && [ "$_w0" = 0 ] && [ "$w" = 1 ]' kac.dynamic.drain \
	"misc_dynamic + --error-exit 3, as root: rs1 at weight $_w1, drained ${_w0:-absent}, undrained ${w:-absent}"

ka_stop $P
kill $syslog_pid
for rs in rs1 rs2; do rsp $P-$rs down dr --vip $vip; done
