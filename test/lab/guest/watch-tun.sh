# watch-tun.sh — rsprep watch keeps TUN true from the kernel's events: each
# TUN invariant an event can break (the VIP off tunl0, tunl0 down, rp_filter
# of tunl0 and of all, ip_forward, --mss's rule and its table's route), broken by
# hand while `watch --resync 10m` runs, is back within seconds and the
# watcher names that event as the cause: not a resync. A fou port and
# arp_ignore announce nothing (no netlink event): they come back at the
# full re-check a SIGHUP starts, as at a resync. One real server, no
# director (tun-encap.sh and tun-mss.sh prove the data path): cluster wt,
# 10.0.10.0/24.
vip=10.0.10.100 flags="--encap gue --encap-port 6080 --mss 1400 --forwarding off"
wlog=/run/lab.wt.log prom=/run/lab.wt.prom
segment br-wt wt-rs=10.0.10.11/24 &&
	ip -n wt-rs route add default via 10.0.10.1 &&
	in_ns wt-rs sysctl -qw net.ipv4.conf.all.rp_filter=1 net.ipv4.conf.default.rp_filter=1 ||
	{ fail wtun.setup "building the watch cluster failed, see the console log"; exit 1; }
rsp wt-rs tun --vip $vip $flags
verdict '[ $rc -eq 0 ]' wtun.apply "rsprep tun $flags exits $rc"
rsprep watch tun --vip $vip $flags --resync 10m --textfile $prom --netns wt-rs >/dev/null 2>$wlog &
wpid=$!
_w=0
while [ ! -e $prom ] && [ $_w -lt 300 ]; do sleep 0.1; _w=$((_w + 1)); done
verdict '[ -e $prom ]' wtun.ready "watch wrote its textfile after its first apply"

# wbreak NAME ID EVENT BREAK HOLDS: BREAK (a shell line in wt-rs; ip by its
# path) undoes one piece; HOLDS (a shell test in wt-rs) passes once it is
# back. PASS when it is back (polled up to 15 s; --resync 10m, so only an
# event can have started the repair) and the watcher logged a repair of
# ID since the break. The cause it names is normally EVENT, the break's
# own; the echo of the previous repair (tunl0 set up again: a link event,
# which re-checks everything) may get there first, and says so.
wbreak() {
	_n=$(wc -l <$wlog)
	read -r _t0 _ </proc/uptime
	in_ns wt-rs sh -c "$4"
	_w=0
	until in_ns wt-rs sh -c "$5" || [ $_w -ge 150 ]; do sleep 0.1; _w=$((_w + 1)); done
	read -r _t1 _ </proc/uptime
	_took="back in $(echo "$_t0 $_t1" | awk '{ printf "%.2f", $2 - $1 }')s"
	[ $_w -lt 150 ] || _took="not back after $(echo "$_t0 $_t1" | awk '{ printf "%.2f", $2 - $1 }')s"
	_c=0 _cause=
	while [ -z "$_cause" ] && [ $_c -lt 50 ]; do # the log line is written before the change; allow for the pipe
		_cause=$(tail -n +$((_n + 1)) $wlog | sed -n "s/.*msg=\"repairing drift\" mode=tun invariant=$2 .*cause=//p" | head -1)
		[ -n "$_cause" ] || { sleep 0.1; _c=$((_c + 1)); }
	done
	_own=", not its own event ($3)"
	case $_cause in *"$3"*) _own= ;; esac
	verdict '[ $_w -lt 150 ] && [ -n "$_cause" ] && case "$_cause" in *resync* | *SIGHUP*) false ;; esac' wtun.event.$1 \
		"after '$4': $_took (polled up to 15 s, --resync 10m); $2 repaired, cause ${_cause:-none logged}$_own"
}
wbreak vip vip.bound "address $vip/32 removed from tunl0" "/usr/sbin/ip addr del $vip/32 dev tunl0" \
	"/usr/sbin/ip -o addr show dev tunl0 | grep -q ' $vip/32 '"
wbreak rp-tunl0 rp.filter "sysctl net.ipv4.conf.tunl0.rp_filter changed" "sysctl -qw net.ipv4.conf.tunl0.rp_filter=1" \
	'[ "$(cat /proc/sys/net/ipv4/conf/tunl0/rp_filter)" = 0 ]'
wbreak rp-all rp.filter "sysctl net.ipv4.conf.all.rp_filter changed" "sysctl -qw net.ipv4.conf.all.rp_filter=1" \
	'[ "$(cat /proc/sys/net/ipv4/conf/all/rp_filter)" = 0 ]'
wbreak forward ip.forward "sysctl net.ipv4.conf.all.forwarding changed" "sysctl -qw net.ipv4.ip_forward=1" \
	'[ "$(cat /proc/sys/net/ipv4/ip_forward)" = 0 ]'
wbreak mss-rule mss.clamp "rule from $vip/32 to table 7301 removed" "/usr/sbin/ip rule del pref 7301" \
	"/usr/sbin/ip rule show pref 7301 | grep -q 'lookup 7301'"
wbreak mss-route mss.clamp "route default removed" "/usr/sbin/ip route del default table 7301" \
	"/usr/sbin/ip route show table 7301 | grep -q '^default via 10.0.10.1 '"
wbreak link link.tunl0 "link tunl0 appeared or changed" "/usr/sbin/ip link set tunl0 down" \
	"/usr/sbin/ip link show tunl0 | grep -q '[<,]UP[,>]'"

# No event announces a fou port or arp_ignore: a full re-check (SIGHUP
# without a config file, as at a resync) brings them back.
in_ns wt-rs sh -c "/usr/sbin/ip fou del port 6080; sysctl -qw net.ipv4.conf.all.arp_ignore=0"
read -r _t0 _ </proc/uptime
kill -HUP $wpid
_w=0
until { ip -n wt-rs fou show | grep -q "port 6080" && [ "$(in_ns wt-rs cat /proc/sys/net/ipv4/conf/all/arp_ignore)" = 1 ]; } || [ $_w -ge 150 ]; do
	sleep 0.1
	_w=$((_w + 1))
done
read -r _t1 _ </proc/uptime
causes=$(sed -nE 's/.*msg="repairing drift" .*invariant=(fou\.port|arp\.ignore) subject=([^ ]*) .*cause=(.*)$/\1 \2 (cause \3)/p' $wlog | tr '\n' ';' | sed 's/;$//; s/;/; /g')
verdict '[ $_w -lt 150 ] && case "$causes" in *fou.port*arp.ignore* | *arp.ignore*fou.port*) true ;; *) false ;; esac' wtun.resync.fou-arp \
	"fou port 6080 and arp_ignore back $(echo "$_t0 $_t1" | awk '{ printf "%.2f", $2 - $1 }')s after SIGHUP's full re-check: $causes"
kill $wpid
wait $wpid
wrc=$?
verdict '[ $wrc -eq 0 ]' wtun.stop "watch exits $wrc on SIGTERM"
log "the watcher logged:"
while IFS= read -r _l; do echo "  $job| watch: $_l"; done <$wlog
rsp wt-rs down tun --vip $vip $flags
verdict '[ $rc -eq 0 ] && [ -z "$(ip -n wt-rs rule show pref 7301)" ]' wtun.down "rsprep down tun exits $rc, rules of table 7301 left: $(ip -n wt-rs rule show pref 7301 | wc -l)"
