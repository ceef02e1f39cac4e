# lib.sh — helpers for the scenario files (sourced by scenarios.sh).
# Results: "PASS name[: detail]" or "FAIL name: why" on fd 3 (the results
# port the host reads) and on the console; everything else on the console.

ip() { /usr/sbin/ip "$@"; }   # Debian's busybox sh would run its own ip applet

log() { read -r _up _ </proc/uptime; echo "[$_up] $*"; }   # console, with VM uptime
pass() { echo "PASS $*" >&3; log "PASS $*"; }
fail() { _n=$1; shift; echo "FAIL $_n: $*" >&3; log "FAIL $_n: $*"; }
# verdict COND NAME DETAIL: PASS "NAME: DETAIL" when COND (a command) succeeds,
# else FAIL "NAME: DETAIL" (the detail says what was seen either way).
verdict() { if eval "$1"; then pass "$2: $3"; else fail "$2" "$3"; fi; }

# rsp NS ARGS...: run rsprep inside namespace NS; sets $rc and $out, logs both.
rsp() {
	_ns=$1; shift
	out=$(rsprep "$@" --netns "$_ns" 2>&1)
	rc=$?
	log "+ rsprep $* --netns $_ns   => exit $rc"
	[ -z "$out" ] || echo "$out" | sed 's/^/  | /'
}
has() { case $out in *"$1"*) return 0 ;; esac; return 1; }   # has TEXT: $out contains TEXT
oneline() { echo "$*" | tr '\n' ';' | sed 's/;$//; s/  */ /g'; }

# --- topology: namespaces on bridges in the VM's own (otherwise empty) namespace
mk_bridge() { ip link add "$1" type bridge && ip link set "$1" up; }
mk_ns() { ip netns add "$1" && ip -n "$1" link set lo up; }
# plug NS DEV BRIDGE ADDR/LEN: veth pair, DEV inside NS holding ADDR, peer on BRIDGE
plug() {
	ip link add "$1-${2#eth}" type veth peer name "$2" netns "$1" &&
		ip link set "$1-${2#eth}" master "$3" up &&
		ip -n "$1" addr add "$4" dev "$2" &&
		ip -n "$1" link set "$2" up
}
mac() { ip -n "$1" -o link show "$2" | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p'; }
# web NS: busybox httpd on port 80 whose page names NS
web() {
	mkdir -p "/srv/$1" && echo "served by $1" >"/srv/$1/index.html" &&
		ip netns exec "$1" httpd -p 80 -h "/srv/$1"
}

# --- observations
# hits CLIENT URL N [SECONDS]: N requests (one connection each); sets h1, h2
# (answered by the real server whose name ends in rs1, rs2) and h0 (no
# answer within SECONDS, default 8: a loaded TCG guest can take seconds to
# fork httpd; a negative control may pass a shorter bound, since a late
# answer there cannot turn into a false failure).
# wget -T segfaults in busybox 1.35: timeout(1) bounds each request instead.
hits() {
	h0=0 h1=0 h2=0 _i=0
	while [ "$_i" -lt "$3" ]; do
		_body=$(ip netns exec "$1" timeout "${4:-8}" wget -q -O - "$2" 2>/dev/null)
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
	ip netns exec "$1" arping -I "$2" -c 3 -w 5 "$3" 2>/dev/null |
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
ipvs_table() { ip netns exec "$1" ipvsadm -Ln --stats --exact; }

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
ipvs_zero() { ipvs_settle "$1"; ip netns exec "$1" ipvsadm -Z; }

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
# interface.
snap() {
	ip -n "$1" -o addr show | sed 's/\\.*//; s/ tentative//; s/  */ /g'
	ip netns exec "$1" sh -c 'cd /proc/sys/net/ipv4/conf && grep -H . */arp_ignore */arp_announce */rp_filter'
}
# same NAME WHAT BEFORE AFTER: PASS when equal, else FAIL with the difference.
same() {
	echo "$3" >/tmp/before
	echo "$4" >/tmp/after
	if [ "$3" = "$4" ]; then
		pass "$1: $2 as before rsprep"
	else
		fail "$1" "$2 differ from before rsprep: $(oneline "$(diff /tmp/before /tmp/after | grep '^[-+][^-+]')")"
	fi
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
listens80() { ip netns exec "$1" cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | awk '$2 ~ /:0050$/ && $4 == "0A"' | grep -q .; }
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
halfopen() { ip netns exec "$1" cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | awk '$4 == "03"' | wc -l; }
