# scenarios.sh — runs the lab's jobs concurrently in the one VM. The guest
# mostly waits (request timeouts, IPVS's 2 s counter folds, probes), so
# jobs that never share a cluster overlap those waits.
#
# One line per job: NAME MODE FILE...; the files of one job run one after
# the other, each in its own subshell, so that a file that stops early is
# reported ("FILE.script") and the job goes on with the next. A job runs
# when its MODE is on the kernel command line (lab.modes=dr,tun,nat).
# Each file builds its own cluster (own bridge, namespace prefix, subnet):
# IPVS tables and counters are per namespace, so jobs never mix them.
#
# Tunnel modules are VM-wide: tun.sh shows that ipip is not loaded until
# its own rsprep loads it. So in every other job of mode tun, rsprep runs
# only once tun.sh has done those checks (modules_checked) or has ended;
# such a job builds its cluster meanwhile (see modules_gated in lib.sh).
#
# A new section file with its own cluster is one more line here.
jobs='
tun  tun  tun.sh
dr   dr   dr.sh
nat  nat  nat.sh
nat6 nat  nat6.sh
enc  tun  tun-encap.sh
fam  tun  tun-family.sh
mss  tun  tun-mss.sh
enc6 tun  tun-encap6.sh
drd  dr   drain-dr.sh
drt  tun  drain-tun.sh
kac  dr   probe-keepalived.sh
wtun tun  watch-tun.sh
'
. /lab/lib.sh
modes=$(sed -n 's/.*lab\.modes=\([a-z,]*\).*/\1/p' /proc/cmdline | tr , ' ')
modes=${modes:-dr tun nat}
only=$(sed -n 's/.*lab\.jobs=\([a-z0-9,]*\).*/\1/p' /proc/cmdline | tr , ' ')   # LAB_JOBS: these jobs only
# Without tun.sh nothing opens the tunnel modules' gate: open it at once.
[ -z "$only" ] || case " $only " in *" tun "*) ;; *) modules_checked ;; esac

# run_job NAME MODE FILE...: the files in order, then "TIME NAME SECONDS" on
# fd 3 (the host prints each job's time).
run_job() {
	job=$1 _mode=$2 _t0=$(now)
	shift 2
	modules_gated=
	if [ "$_mode" = tun ] && [ "$1" != tun.sh ]; then modules_gated=1; fi
	for _f; do
		_s=$(now)
		log "=== $_f"
		(. "/lab/$_f"; exit 0) || fail "${_f%.sh}.script" "$_f stopped early (exit $?), see the console log"
		[ "$_f" != tun.sh ] || modules_checked # however tun.sh ended
		log "=== $_f took $(($(now) - _s))s"
	done
	log "=== job $job took $(($(now) - _t0))s"
	echo "TIME $job $(($(now) - _t0))" >&3
}

# cpu_ticks: busy and total jiffies of all CPUs so far ("CPU N" on fd 3 says
# how busy the guest's CPUs were: near 100 means the lab is CPU-bound).
cpu_ticks() { read -r _ _u _n _s _i _w _q _sq _ </proc/stat; echo "$((_u + _n + _s + _q + _sq)) $((_u + _n + _s + _i + _w + _q + _sq))"; }
read -r busy0 total0 <<EOF
$(cpu_ticks)
EOF

# The first `ip netns add` makes /run/netns a shared mount point; two at
# once could stack two bind mounts and hide each other's namespaces.
ip netns add lab.first && ip netns del lab.first

pids=
while read -r _name _mode _files; do
	[ -n "$_name" ] || continue
	case " $modes " in *" $_mode "*) ;; *) continue ;; esac
	[ -z "$only" ] || case " $only " in *" $_name "*) ;; *) continue ;; esac
	run_job "$_name" "$_mode" $_files &
	pids="$pids $!:$_name"
done <<EOF
$jobs
EOF
# END (written by init) comes only after every job has ended.
for _p in $pids; do
	wait "${_p%%:*}" || fail "${_p#*:}.job" "job ${_p#*:} exited $?, see the console log"
done
read -r busy1 total1 <<EOF
$(cpu_ticks)
EOF
log "=== guest CPUs busy $(((busy1 - busy0) * 100 / (total1 - total0)))% of the run"
echo "CPU $(((busy1 - busy0) * 100 / (total1 - total0)))" >&3
