# drain.sh — rsprep drain with Debian's keepalived as the director (issue 24):
# sourced by drain-dr.sh and drain-tun.sh, which call drain_prove.
. /lab/keepalived.sh

# drain_prove NAME P N MODE KIND PROBE-FLAGS: cluster P (10.0.N.0/24) with
# keepalived checking each real server with README's MISC_CHECK recipe
# (rsprep probe PROBE-FLAGS). Under continuous client load (quick pages
# and 3-second pages, and a burst of 6 requests at once right after the
# down): drain then down take rs1 out with no failed request
# and rs2 serving every request that starts after the drain; rsprep MODE
# again plus undrain bring rs1 back to weight 1; a plain down under the
# same load fails requests (the control that shows the load can see them).
drain_prove() {
	dn=$1 P=$2 _N=$3 _mode=$4 _kind=$5 _pf=$6
	vip=10.0.$_N.100 dip=10.0.$_N.2 rip1=10.0.$_N.11 rip2=10.0.$_N.12
	tun_cluster "$P" "$_N" && slow_page "$P-rs1" && slow_page "$P-rs2" &&
		ip -n "$P-d" addr add $vip/32 dev eth0 ||
		{ fail "$dn.setup" "building cluster $P failed, see the console log"; return 1; }
	for _rs in rs1 rs2; do
		rsp "$P-$_rs" "$_mode" --vip $vip --dip $dip
		verdict '[ $rc -eq 0 ]' "$dn.apply.$_rs" "rsprep $_mode --dip $dip exits $rc"
	done
	# misc_timeout: keepalived's default is the delay_loop (1 s), which a
	# loaded TCG guest overruns just starting a binary: a healthy real
	# server would flap. (On real hardware an open probe takes milliseconds.)
	_check() { printf 'misc_path "/usr/bin/rsprep probe --rip %s --vip %s:80 %s --timeout 1s"\n\t\t\tmisc_timeout %s' $1 $vip "$_pf" "$ka_timeout"; }
	ka_conf "$P" $vip "$_kind" "$(ka_rs $rip1 "$(_check $rip1)")$(ka_rs $rip2 "$(_check $rip2)")"
	ka_start "$P"
	wait_weight "$P" $rip1 1 && w1=$w
	wait_weight "$P" $rip2 1
	verdict '[ "$w1" = 1 ] && [ "$w" = 1 ]' "$dn.keepalived" "keepalived put both real servers in at weight $w1 and $w"

	# drain, then down, under load
	load_start "$P" "http://$vip/"
	_t=0
	while load_count "$P"; [ "$on1" -lt 2 ] || [ "$on2" -lt 2 ]; do # both serve before the drain
		[ "$_t" -lt 60 ] || break
		sleep 1
		_t=$((_t + 1))
	done
	log "  before the drain: $total requests, rs1=$on1 rs2=$on2 failed=$failed"
	wait_established "$P-rs1" $vip   # the drain must wait for a page in flight
	log "  rs1 holds $(established "$P-rs1" $vip) connection(s) to the VIP as the drain starts"
	read -r _t0 _ </proc/uptime
	rsp "$P-rs1" drain "$_mode" --vip $vip --dip $dip --timeout 120s
	read -r _t1 _ </proc/uptime
	took=$(awk -v a="$_t0" -v b="$_t1" 'BEGIN { printf "%.1f", b - a }')
	verdict '[ $rc -eq 0 ]' "$dn.drain" "rsprep drain exits $rc after ${took}s: $(oneline "$(echo "$out" | grep -v level=)")"
	w=$(weight "$P" $rip1)
	verdict '[ "$w" = 0 ]' "$dn.drain.weight" "after the drain keepalived holds rs1 at weight ${w:-absent} (inhibit_on_failure)"
	rsp "$P-rs1" verify "$_mode" --vip $vip --dip $dip
	verdict '[ $rc -eq 0 ] && has drain.active' "$dn.drain.verify" "verify exits $rc while drained$(has drain.active && echo ', reports drain.active')"
	rsp "$P-rs1" down "$_mode" --vip $vip --dip $dip
	verdict '[ $rc -eq 0 ]' "$dn.drain.down" "rsprep down after the drain exits $rc"
	burst "$P" "http://$vip/" 6
	sleep 6
	load_stop "$P"
	load_count "$P"
	verdict '[ $failed -eq 0 ] && [ $total -gt 10 ] && [ $on1 -gt 0 ]' "$dn.drain.no-failure" \
		"$total requests while drain and down took rs1 out: rs1=$on1 rs2=$on2 failed=$failed"
	load_count "$P" "$_t1"
	verdict '[ $on1 -eq 0 ] && [ $on2 -gt 0 ] && [ $failed -eq 0 ]' "$dn.drain.rs2-serves" \
		"$total requests started after the drain: rs1=$on1 rs2=$on2 failed=$failed"

	# back in service
	rsp "$P-rs1" "$_mode" --vip $vip --dip $dip
	rsp "$P-rs1" undrain "$_mode" --vip $vip
	verdict '[ $rc -eq 0 ]' "$dn.undrain" "rsprep $_mode again, then undrain exits $rc"
	wait_weight "$P" $rip1 1
	verdict '[ "$w" = 1 ]' "$dn.undrain.weight" "rs1 back at weight ${w:-absent} after ${waited}s"

	# drain and undrain alone: the weight follows
	rsp "$P-rs1" drain "$_mode" --vip $vip --dip $dip --timeout 120s
	wait_weight "$P" $rip1 0 10
	_w0=$w
	rsp "$P-rs1" undrain "$_mode" --vip $vip
	wait_weight "$P" $rip1 1
	verdict '[ "$_w0" = 0 ] && [ "$w" = 1 ]' "$dn.undrain.alone" "drain: weight $_w0; undrain: weight ${w:-absent} after ${waited}s"

	# the control: a plain down under the same load
	load_start "$P" "http://$vip/"
	sleep 4
	wait_established "$P-rs1" $vip   # a page in flight to rs1, which down cuts off
	_e=$(established "$P-rs1" $vip)
	rsp "$P-rs1" down "$_mode" --vip $vip --dip $dip
	burst "$P" "http://$vip/" 6   # before keepalived notices, rs1 gets its share
	sleep 2
	load_stop "$P"
	load_count "$P"
	verdict '[ $failed -gt 0 ]' "$dn.control.down" "a plain down under load ($_e connection(s) in flight to rs1): $total requests, rs1=$on1 rs2=$on2 failed=$failed"

	ka_stop "$P"
	for _rs in rs1 rs2; do rsp "$P-$_rs" down "$_mode" --vip $vip --dip $dip; done
}
