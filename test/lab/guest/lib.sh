# lib.sh — helpers for the scenario files (sourced by scenarios.sh).
# Results: "PASS name[: detail]" or "FAIL name: why" on fd 3 (the results
# port the host reads) and on the console; everything else on the console.
# Jobs run concurrently and share fd 3: busybox echo writes a whole line in
# one write(2), and the tty layer does not interleave two writes, so every
# result line stays whole. Console lines name their job ($job).

ip() { /usr/sbin/ip "$@"; }   # Debian's busybox sh would run its own ip applet
# in_ns NS CMD...: CMD in NS's network namespace. Not `ip netns exec`: its
# private mount namespace and /sys remount are of no use here (/proc/net and
# /proc/sys/net follow the caller's network namespace), and under TCG it
# costs 90 ms a call against 20 for busybox nsenter.
in_ns() { _in=$1; shift; nsenter --net="/run/netns/$_in" "$@"; }

log() { read -r _up _ </proc/uptime; echo "[$_up] ${job:+$job: }$*"; }   # console, with VM uptime
now() { read -r _up _ </proc/uptime; echo "${_up%.*}"; }                  # VM uptime, whole seconds

# Tunnel modules are VM-wide. tun.sh calls modules_checked once it has shown
# that ipip was not loaded before its rsprep and was loaded by it. In a job
# with $modules_gated set (the other TUN jobs), rsp waits for that before
# its first rsprep, which is what loads tunnel modules: so such a job must
# not load one by other means (ip link add type ipip...) before rsp.
modules_gate=/run/lab.modules-checked
modules_checked() { : >"$modules_gate"; }
modules_wait() {
	_w=$(now)
	while [ ! -e "$modules_gate" ] && [ "$(($(now) - _w))" -lt 600 ]; do sleep 1; done
	log "tunnel modules free for this job (waited $(($(now) - _w))s)"
}
pass() { echo "PASS $*" >&3; log "PASS $*"; }
fail() { _n=$1; shift; echo "FAIL $_n: $*" >&3; log "FAIL $_n: $*"; }
# verdict COND NAME DETAIL: PASS "NAME: DETAIL" when COND (a command) succeeds,
# else FAIL "NAME: DETAIL" (the detail says what was seen either way).
verdict() { if eval "$1"; then pass "$2: $3"; else fail "$2" "$3"; fi; }

# rsp NS ARGS...: run rsprep inside namespace NS; sets $rc and $out, logs both.
rsp() {
	_ns=$1; shift
	[ -z "$modules_gated" ] || [ -e "$modules_gate" ] || modules_wait
	out=$(rsprep "$@" --netns "$_ns" 2>&1)
	rc=$?
	log "+ rsprep $* --netns $_ns   => exit $rc"
	[ -z "$out" ] || echo "$out" | while IFS= read -r _l; do echo "  $job| $_l"; done
}
has() { case $out in *"$1"*) return 0 ;; esac; return 1; }   # has TEXT: $out contains TEXT
oneline() { echo "$*" | tr '\n' ';' | sed 's/;$//; s/  */ /g'; }

# --- topology: namespaces on bridges in the VM's own (otherwise empty) namespace
# segment BRIDGE NS[/DEV]=ADDR/LEN[,ADDR/LEN...]...: bridge BRIDGE, up, and
# for each argument a veth pair: DEV (default eth0) inside NS (made if new,
# with lo up) holding the addresses (IPv6 ones nodad: usable at once), its
# peer NS-N (for ethN) on the bridge; all up. One ip process for the VM's
# namespace and one per NS, not one per step: under TCG each costs ~85 ms of
# CPU, and the jobs share two CPUs.
segment() {
	_b="link add $1 type bridge\nlink set $1 up\n" _br=$1
	shift
	for _p; do
		_nsdev "$_p"
		[ -e "/run/netns/$_ns" ] || _b="${_b}netns add $_ns\n"
		_b="${_b}link add $_ns-${_dev#eth} master $_br up type veth peer name $_dev netns $_ns\n"
	done
	printf "$_b" | ip -batch - || return 1
	for _p; do
		_nsdev "$_p"
		_b="link set lo up\n" _ifs=$IFS
		IFS=,
		for _a in ${_p#*=}; do
			case $_a in *:*) _b="${_b}addr add $_a dev $_dev nodad\n" ;; *) _b="${_b}addr add $_a dev $_dev\n" ;; esac
		done
		IFS=$_ifs
		printf "${_b}link set $_dev up\n" | ip -n "$_ns" -batch - || return 1
	done
}
_nsdev() { _ns=${1%%=*} _dev=eth0; case $_ns in */*) _dev=${_ns#*/} _ns=${_ns%/*} ;; esac; }
mac() { ip -n "$1" -o link show "$2" | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p'; }
# web NS: busybox httpd on port 80 whose page names NS
web() {
	mkdir -p "/srv/$1" && echo "served by $1" >"/srv/$1/index.html" &&
		in_ns "$1" httpd -p 80 -h "/srv/$1"
}

# --- observations
# hits CLIENT URL N [SECONDS]: N requests (one connection each); sets h1, h2
# (answered by the real server whose name ends in rs1, rs2) and h0 (no
# answer within SECONDS, default 8: a loaded TCG guest can take seconds to
# fork httpd). A negative control, a request that must go unanswered,
# passes $control_wait instead: a late answer there cannot turn into a
# false failure, and an answer the control must catch (the path works)
# comes in well under a second, as the answered requests show.
control_wait=3
# wget -T segfaults in busybox 1.35: timeout(1) bounds each request instead.
hits() {
	h0=0 h1=0 h2=0 _i=0
	while [ "$_i" -lt "$3" ]; do
		_body=$(in_ns "$1" timeout "${4:-8}" wget -q -O - "$2" 2>/dev/null)
		case $_body in
		*rs1) h1=$((h1 + 1)) ;;
		*rs2) h2=$((h2 + 1)) ;;
		*) h0=$((h0 + 1)) ;;
		esac
		_i=$((_i + 1))
	done
	log "  $3 requests to $2 from $1: rs1=$h1 rs2=$h2 unanswered=$h0"
}

# arp_who CLIENT DEV IP: who answers an ARP request for IP on the client's
# link, by name (director, rs1, rs2, or the MAC). Needs $d_mac $rs1_mac $rs2_mac.
# Three requests, replies awaited up to 5 s (a loaded guest answers late).
arp_who() {
	in_ns "$1" arping -I "$2" -c 3 -w 5 "$3" 2>/dev/null |
		sed -n 's/.*\[\([0-9a-fA-F:]*\)\].*/\1/p' | tr 'A-F' 'a-f' | sort -u |
		while read -r _m; do
			case $_m in
			"$d_mac") echo director ;; "$rs1_mac") echo rs1 ;; "$rs2_mac") echo rs2 ;; *) echo "$_m" ;;
			esac
		done | sort | tr '\n' ' ' | sed 's/ $//'
}

# IPVS folds its per-CPU counters into what ipvsadm shows only every 2 s,
# and on a loaded machine (TCG, other work on the host) that timer runs
# late. So counters are read only once they have stopped moving for two
# periods in a row, and every wait is bounded well above what a loaded run
# needs.

# ipvs_table DIRECTOR: every service's and real server's counters.
ipvs_table() { in_ns "$1" ipvsadm -Ln --stats --exact; }

# ipvs_settle DIRECTOR: wait until the counters are the same over two
# estimator periods (at most 60 s), so nothing counted is still in flight.
ipvs_settle() {
	_prev=$(ipvs_table "$1") _same=0 _t=0
	while [ "$_same" -lt 2 ] && [ "$_t" -lt 27 ]; do
		sleep 2.2
		_cur=$(ipvs_table "$1")
		if [ "$_cur" = "$_prev" ]; then _same=$((_same + 1)); else _same=0; fi
		_prev=$_cur _t=$((_t + 1))
	done
	[ "$_same" -ge 2 ] || log "  ipvs counters on $1 still moving after 60 s"
}

# ipvs_zero DIRECTOR: zero the counters, so that ipvs_stats counts only
# the traffic that follows. Zeroing takes the folded counters as the zero
# point, so packets of earlier controls not yet folded (in TUN their ICMP
# errors count as OutPkts) would show up afterwards: settle first.
ipvs_zero() { ipvs_settle "$1"; in_ns "$1" ipvsadm -Z; }

# ipvs_stats DIRECTOR VIP:PORT MIN: sets conns, inpkts, outpkts of the
# service, once at least MIN connections show (at most 90 s) and the
# counters have settled.
ipvs_stats() {
	_t=0 conns=0
	while [ "$_t" -lt 90 ]; do
		_s=$(ipvs_table "$1" | awk -v s="$2" '$1 == "TCP" && $2 == s { print $3 }')
		conns=${_s:-0}
		[ "$conns" -ge "$3" ] && break
		sleep 1
		_t=$((_t + 1))
	done
	ipvs_settle "$1"
	_s=$(ipvs_table "$1" | awk -v s="$2" '$1 == "TCP" && $2 == s { print $3, $4, $5 }')
	read -r conns inpkts outpkts <<-EOS
	$_s
	EOS
	log "  ipvs $2 on $1: conns=$conns inpkts=$inpkts outpkts=$outpkts (after ${_t}s)"
}

# snap NS: the state a teardown must give back: addresses (DAD's "tentative"
# is transient, not state) and the ARP and reverse-path sysctls of every
# interface but the fallback tunnel devices: loading a tunnel module makes
# them in every namespace, and another job may load one at any time.
fallback_devs='tunl0|gre0|gretap0|erspan0|ip6tnl0|ip6gre0|sit0|ip_vti0|ip6_vti0'
snap() {
	{
		ip -n "$1" -o addr show | sed 's/\\.*//; s/ tentative//; s/  */ /g'
		in_ns "$1" sh -c 'cd /proc/sys/net/ipv4/conf && grep -H . */arp_ignore */arp_announce */rp_filter'
	} | grep -Ev "^([0-9]+: )?($fallback_devs)[ /@]"
}
# same NAME WHAT BEFORE AFTER: PASS when equal, else FAIL with the difference.
same() {
	if [ "$3" = "$4" ]; then
		pass "$1: $2 as before rsprep"
	else
		_d=$(mktemp -d)
		echo "$3" >"$_d/before"
		echo "$4" >"$_d/after"
		fail "$1" "$2 differ from before rsprep: $(oneline "$(diff "$_d/before" "$_d/after" | grep '^[-+][^-+]')")"
		rm -rf "$_d"
	fi
}

# --- TUN clusters for every encapsulation (tun-encap.sh; reusable by any
# scenario that needs a director and two real servers on one segment).
# tun_cluster P N: client P-c, director P-d, real servers P-rs1 and P-rs2 on
# bridge br-P, with 10.0.N.{10,2,11,12}/24 and fd00:N::{10,2,11,12}/64
# (nodad: usable at once), busybox httpd on each real server, which starts
# like a RHEL host: strict rp_filter on all and default. Sets d_mac, rs1_mac,
# rs2_mac for arp_who.
tun_cluster() {
	segment "br-$1" "$1-c=10.0.$2.10/24,fd00:$2::10/64" "$1-d=10.0.$2.2/24,fd00:$2::2/64" \
		"$1-rs1=10.0.$2.11/24,fd00:$2::11/64" "$1-rs2=10.0.$2.12/24,fd00:$2::12/64" || return 1
	for _rs in rs1 rs2; do
		web "$1-$_rs" &&
			in_ns "$1-$_rs" sysctl -qw net.ipv4.conf.all.rp_filter=1 net.ipv4.conf.default.rp_filter=1 || return 1
	done
	d_mac=$(mac "$1-d" eth0) rs1_mac=$(mac "$1-rs1" eth0) rs2_mac=$(mac "$1-rs2" eth0)
}

# tun_service P VIP RIP1 RIP2 [IPVSADM-OPTIONS...]: the director P-d holds
# VIP and tunnels VIP:80 round-robin to RIP1:80 and RIP2:80 (an IPv6 RIP in
# brackets) with ipvsadm -i and the options (--tun-type gue --tun-port N…).
tun_service() {
	_p=$1 _vip=$2 _r1=$3 _r2=$4 _hp=$(hostpart "$2") _len=32
	shift 4
	case $_vip in *:*) _len="128 nodad" ;; esac
	ip -n "$_p-d" addr add "$_vip/"$_len dev eth0 &&
		in_ns "$_p-d" ipvsadm -A -t "$_hp:80" -s rr &&
		in_ns "$_p-d" ipvsadm -a -t "$_hp:80" -r "$_r1:80" -i "$@" &&
		in_ns "$_p-d" ipvsadm -a -t "$_hp:80" -r "$_r2:80" -i "$@"
}

# hostpart IP: IP as the host part of a URL or ipvsadm service ([v6]).
hostpart() { case $1 in *:*) echo "[$1]" ;; *) echo "$1" ;; esac; }

# tun_prove NAME P VIP RSPREP-FLAGS...: the proof every encapsulation owes,
# on cluster P, with checks named NAME.*: no answer before rsprep; rsprep
# on both real servers; verify 0; both answer and nothing goes back out
# through the director; a second apply is silent; down, then verify 1;
# again, and traffic is back.
tun_prove() {
	_name=$1 _p=$2 _vip=$3 _hp=$(hostpart "$3")
	shift 3
	hits "$_p-c" "http://$_hp/" 1 $control_wait
	verdict '[ $h0 -eq 1 ]' "$_name.control.unprepared" "$h0 of 1 request unanswered without rsprep"
	for _rs in rs1 rs2; do
		rsp "$_p-$_rs" tun --vip "$_vip" "$@"
		verdict '[ $rc -eq 0 ]' "$_name.apply.$_rs" "rsprep tun $* exits $rc"
		rsp "$_p-$_rs" verify tun --vip "$_vip" "$@"
		verdict '[ $rc -eq 0 ]' "$_name.verify.$_rs" "rsprep verify tun $* exits $rc"
	done
	ipvs_zero "$_p-d"   # settles first: the control's ICMP errors must not count
	hits "$_p-c" "http://$_hp/" "$n"
	verdict '[ $h1 -gt 0 ] && [ $h2 -gt 0 ] && [ $h0 -eq 0 ]' "$_name.traffic" "rs1=$h1 rs2=$h2 unanswered=$h0 of $n"
	ipvs_stats "$_p-d" "$_hp:80" "$n"
	verdict '[ "$conns" -eq $n ] && [ "$outpkts" = 0 ]' "$_name.director.no-return" \
		"$((h1 + h2)) answers; director conns=$conns inpkts=$inpkts outpkts=$outpkts"
	if [ -n "$tprobe" ]; then # rsprep probe from the director, encapsulated as IPVS sends it
		pr "$_p-d" $tprobe
		verdict '[ $rc -eq 0 ] && echo "$states" | grep -Eqx "open/[0-9]+ open/[0-9]+"' "$_name.probe" "rsprep probe $tprobe exits $rc: $states"
	fi
	rsp "$_p-rs1" tun --vip "$_vip" "$@"
	verdict '[ $rc -eq 0 ] && [ -z "$out" ]' "$_name.apply.again" "second rsprep tun exits $rc, prints $(oneline "${out:-nothing}")"
	tun_down "$_name" "$_p" "$_vip" "$@"
	rsp "$_p-rs1" verify tun --vip "$_vip" "$@"
	verdict '[ $rc -eq 1 ]' "$_name.down.verify" "after down, verify exits $rc"
	for _rs in rs1 rs2; do rsp "$_p-$_rs" tun --vip "$_vip" "$@"; done
	hits "$_p-c" "http://$_hp/" 2
	verdict '[ $h1 -gt 0 ] && [ $h2 -gt 0 ] && [ $h0 -eq 0 ]' "$_name.reapply.traffic" "rs1=$h1 rs2=$h2 unanswered=$h0 of 2"
}

# tun_down NAME P VIP RSPREP-FLAGS...: rsprep down on both real servers.
tun_down() {
	_name=$1 _p=$2 _vip=$3
	shift 3
	for _rs in rs1 rs2; do
		rsp "$_p-$_rs" down tun --vip "$_vip" "$@"
		verdict '[ $rc -eq 0 ]' "$_name.down.$_rs" "rsprep down tun exits $rc"
	done
}

# tun_break NAME P VIP ID CMD RSPREP-FLAGS...: a negative control. CMD (a
# shell line; call /usr/sbin/ip by its path) undoes one piece on both real
# servers: no answer, verify exits 1 naming ID; rsprep repairs it.
# With $tprobe set (rsprep probe's arguments), tun_prove and tun_break also
# probe from the director: open on both real servers, then nothing open.
tun_break() {
	_name=$1 _p=$2 _vip=$3 _id=$4 _cmd=$5 _hp=$(hostpart "$3")
	shift 5
	for _rs in rs1 rs2; do in_ns "$_p-$_rs" sh -c "$_cmd"; done
	hits "$_p-c" "http://$_hp/" 1 $control_wait
	verdict '[ $h0 -eq 1 ]' "$_name.control.$_id" "after '$_cmd': $h0 of 1 request unanswered"
	if [ -n "$tprobe" ]; then # the probe sees the break too
		pr "$_p-d" $tprobe
		verdict '[ $rc -eq 1 ] && ! echo "$states" | grep -q open' "$_name.probe.$_id" "after '$_cmd': probe exits $rc: $states"
	fi
	rsp "$_p-rs1" verify tun --vip "$_vip" "$@"
	verdict '[ $rc -eq 1 ] && has "FAIL $_id "' "$_name.drift.$_id" "verify exits $rc$(has "FAIL $_id " && echo ", names $_id")"
	for _rs in rs1 rs2; do rsp "$_p-$_rs" tun --vip "$_vip" "$@"; done
	hits "$_p-c" "http://$_hp/" 2
	verdict '[ $h1 -gt 0 ] && [ $h2 -gt 0 ] && [ $h0 -eq 0 ]' "$_name.drift.$_id.repaired" "after rsprep tun: rs1=$h1 rs2=$h2 unanswered=$h0 of 2"
}

# pr DIRECTOR ARGS...: rsprep probe ARGS from the director's namespace; sets
# $rc, $out and $states: one word per RIP, in order — its state, with the
# MSS of an open one and the ICMP type/code of an unreachable one
# ("open/1460 lost unreachable/3/3 closed").
pr() {
	_d=$1; shift
	rsp "$_d" probe "$@"
	states=$(echo "$out" | awk '$2 ~ /:[0-9]+$/ { s = $4; for (i = 5; i <= NF; i++) if ($i ~ /^(mss|icmp)=/) s = s "/" substr($i, index($i, "=") + 1); print s }' | tr '\n' ' ' | sed 's/ $//')
}
# stop_web NS: kill the httpd in NS and wait (at most 20 s) until port 80
# no longer listens there. web_up NS: wait (as long) until it listens again.
listens80() { in_ns "$1" cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | awk '$2 ~ /:0050$/ && $4 == "0A"' | grep -q .; }
stop_web() {
	for _p in $(ip netns pids "$1"); do kill "$_p"; done
	_t=0
	while listens80 "$1" && [ "$_t" -lt 40 ]; do sleep 0.5; _t=$((_t + 1)); done
}
web_up() {
	_t=0
	while ! listens80 "$1" && [ "$_t" -lt 40 ]; do sleep 0.5; _t=$((_t + 1)); done
}
# halfopen NS: how many connections NS holds in SYN-RECV (a probe must leave none)
halfopen() { in_ns "$1" cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | awk '$4 == "03"' | wc -l; }
