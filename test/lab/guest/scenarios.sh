# scenarios.sh — runs the modes named on the kernel command line
# (lab.modes=dr,tun,nat), each in its own subshell so that one mode's crash
# is reported and does not hide the others' results.
. /lab/lib.sh
modes=$(sed -n 's/.*lab\.modes=\([a-z,]*\).*/\1/p' /proc/cmdline | tr , ' ')
for m in ${modes:-dr tun nat}; do
	log "=== $m"
	start=$(date +%s)
	(. "/lab/$m.sh"; exit 0) || fail "$m.script" "the $m scenario stopped early (exit $?), see the console log"
	log "=== $m took $(($(date +%s) - start))s"
done
