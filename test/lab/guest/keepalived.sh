# keepalived.sh — Debian's keepalived 2.2.7 as the director's checker, and
# client load that counts every failed request. Sourced by the scenario
# files that need them (drain-dr.sh, drain-tun.sh, probe-keepalived.sh), on a
# cluster made by tun_cluster P N (client P-c, director P-d, real servers
# P-rs1 and P-rs2 at 10.0.N.11 and .12).
#
# keepalived runs checker only (-C: no VRRP, the VIP is added by hand) in
# the director's namespace; its MISC_CHECK runs there too, as root
# (script_user root), so rsprep probe sends from the director.

# ka_conf P VIP KIND REAL-SERVER-LINES: keepalived's configuration for
# VIP:80 with delay_loop 1 and round robin; KIND is DR or TUN; the last
# argument holds the real_server blocks.
ka_conf() {
	cat >"/tmp/$1.ka.conf" <<-EOC
	global_defs {
		script_user root
	}
	virtual_server $2 80 {
		delay_loop 1
		lb_algo rr
		lb_kind $3
		protocol TCP
	$4
	}
	EOC
}

# misc_timeout for the lab's checks (see drain.sh).
ka_timeout=5

# ka_rs RIP CHECK-BODY: one real_server block with README's recipe:
# weight 1, inhibit_on_failure, a MISC_CHECK whose body is CHECK-BODY.
ka_rs() {
	printf '\treal_server %s 80 {\n\t\tweight 1\n\t\tinhibit_on_failure\n\t\tMISC_CHECK {\n\t\t\t%s\n\t\t}\n\t}\n' "$1" "$2"
}

# ka_start P: keepalived in P-d, its log on the console (prefixed).
ka_start() {
	in_ns "$1-d" keepalived -n -l -D -C -f "/tmp/$1.ka.conf" -p "/run/$1.ka.pid" -c "/run/$1.ka-c.pid" 2>&1 |
		while IFS= read -r _l; do echo "$1 keepalived: $_l" >>"/tmp/$1.ka.log"; log "keepalived: $_l"; done &
}

# ka_stop P: stop keepalived (it removes the virtual server it made), at most 20 s.
ka_stop() {
	[ -e "/run/$1.ka.pid" ] && kill "$(cat "/run/$1.ka.pid")" 2>/dev/null
	_t=0
	while [ -e "/run/$1.ka.pid" ] && [ "$_t" -lt 40 ]; do sleep 0.5; _t=$((_t + 1)); done
}

# weight P RIP: the weight IPVS has for RIP:80 on P-d ("" when absent).
weight() { in_ns "$1-d" ipvsadm -Ln | awk -v r="$2:80" '$1 == "->" && $2 == r { print $4 }'; }

# wait_weight P RIP W [SECONDS]: poll (default at most 60 s) until RIP's
# weight is W; sets $waited (seconds) and $w (the last weight seen).
wait_weight() {
	_t0=$(now) waited=0
	while :; do
		w=$(weight "$1" "$2")
		[ "$w" = "$3" ] && break
		waited=$(($(now) - _t0))
		[ "$waited" -lt "${4:-60}" ] || break
		sleep 0.5
	done
	waited=$(($(now) - _t0))
	log "  weight of $2 on $1-d: ${w:-absent} (want $3, after ${waited}s)"
}

# slow_page NS: a CGI page of NS that takes 3 s (holds a connection open).
slow_page() {
	mkdir -p "/srv/$1/cgi-bin" &&
		printf '#!/bin/sh\nsleep 3\necho "Content-Type: text/plain"\necho\necho "slowly served by %s"\n' "$1" >"/srv/$1/cgi-bin/slow" &&
		chmod 0755 "/srv/$1/cgi-bin/slow"
}

# load_start P URL: two request loops from P-c to URL, one for quick pages
# (a pause of 0.2 s between requests) and one for the 3-second page; each
# request one line in /tmp/P.load: "START rs1|rs2|FAIL" with START its VM
# uptime. load_stop P: end both (each finishes its request) and wait.
load_start() {
	rm -f "/tmp/$1.stop"
	: >"/tmp/$1.load"
	_load "$1" "$2" 0.2 &
	load_pids=$!
	_load "$1" "${2}cgi-bin/slow" 0 &
	load_pids="$load_pids $!"
}
_load() {
	while [ ! -e "/tmp/$1.stop" ]; do
		read -r _t _ </proc/uptime
		_b=$(in_ns "$1-c" timeout 12 wget -q -O - "$2" 2>/dev/null)
		case $_b in *rs1) _r=rs1 ;; *rs2) _r=rs2 ;; *) _r=FAIL ;; esac
		echo "$_t $_r" >>"/tmp/$1.load"
		sleep "$3"
	done
}
load_stop() { : >"/tmp/$1.stop"; wait $load_pids; }
# burst P URL N: N quick requests at once (logged as the loops' are), and
# wait for them: new connections at one instant, which a real server still
# in IPVS's rotation gets its share of.
burst() {
	_bp=
	_i=0
	while [ "$_i" -lt "$3" ]; do
		(
			read -r _t _ </proc/uptime
			_b=$(in_ns "$1-c" timeout 12 wget -q -O - "$2" 2>/dev/null)
			case $_b in *rs1) _r=rs1 ;; *rs2) _r=rs2 ;; *) _r=FAIL ;; esac
			echo "$_t $_r" >>"/tmp/$1.load"
		) &
		_bp="$_bp $!"
		_i=$((_i + 1))
	done
	wait $_bp
}

# load_count P [SINCE]: sets total, failed, on1, on2 over the requests that
# started at VM uptime SINCE (default 0) or later.
load_count() {
	read -r total failed on1 on2 <<-EOC
	$(awk -v s="${2:-0}" '$1 >= s { n++; c[$2]++ } END { print n + 0, c["FAIL"] + 0, c["rs1"] + 0, c["rs2"] + 0 }' "/tmp/$1.load")
	EOC
}

# established NS VIP: how many connections to VIP:80 NS holds established
# (/proc/net/tcp writes the address as the kernel holds it: little-endian).
established() {
	_h=$(echo "$2" | awk -F. '{ printf "%02X%02X%02X%02X", $4, $3, $2, $1 }')
	in_ns "$1" cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | awk -v a="$_h:0050" '$2 ~ a "$" && $4 == "01"' | wc -l
}
# wait_established NS VIP: poll (at most 30 s) until NS holds a connection
# to VIP:80 (a 3-second page in flight).
wait_established() {
	_t=0
	while [ "$(established "$1" "$2")" -eq 0 ] && [ "$_t" -lt 60 ]; do sleep 0.5; _t=$((_t + 1)); done
}
