#!/bin/bash
# Measures rsprep watch in a fresh network namespace: how fast it puts back
# a VIP someone removed (from the kernel's own event timestamps: the
# RTM_DELADDR and the RTM_NEWADDR that answers it, seen by `ip -ts monitor`),
# its resident memory while watching N VIPs, and its CPU time while idle.
# Prints medians; it asserts nothing (timings belong here, not in tests).
# Needs root, go, ip, awk, and /dev/shm (a tmpfs) for the records.
#
#   test/bench/watch.sh              # 1000 VIPs, 31 removals, 20 s idle
#   VIPS=10000 ROUNDS=51 IDLE=30 test/bench/watch.sh
#   TEXTFILE=1 test/bench/watch.sh   # with --textfile, as install --watch is advised
set -eu
vips=${VIPS:-1000} rounds=${ROUNDS:-31} idle=${IDLE:-20}
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/rsprep-watch-bench.XXXXXX")
state=$(mktemp -d /dev/shm/rsprep-watch-state.XXXXXX) # records on a tmpfs, as /run is
ns=rsprep-watch-bench-$$
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	ip netns del "$ns" 2>/dev/null || true
	[ -n "${KEEP:-}" ] || rm -rf "$work"
	rm -rf "$state"
}
trap cleanup EXIT INT TERM
CGO_ENABLED=0 go build -C "$root" -o "$work/rsprep" ./cmd/rsprep
ip netns add "$ns"
ip -n "$ns" link set lo up
ip netns exec "$ns" ip link add eth0 type veth peer name eth0p
ip -n "$ns" link set eth0 up
{
	echo "[rsprep]"
	echo "mode = dr"
	for i in $(seq 1 "$vips"); do echo "vip = 10.$((200 + i / 62500)).$((i / 250 % 250)).$((i % 250 + 1))"; done
} >"$work/rsprep.conf"

textfile=()
[ -z "${TEXTFILE:-}" ] || textfile=(--textfile "$state/rsprep.prom") # on the tmpfs too
RSPREP_STATE_DIR=$state "$work/rsprep" watch --config "$work/rsprep.conf" "${textfile[@]}" --netns "$ns" 2>"$work/watch.log" &
pids+=($!)
watcher=$!
until [ "$(ip -n "$ns" -o addr show dev lo label lo:rsprep | wc -l)" -ge "$vips" ]; do
	kill -0 "$watcher" || { cat "$work/watch.log"; exit 1; }
	sleep 0.2
done
sleep 2 # the first apply's own events settle

ticks() { awk '{print $14 + $15}' "/proc/$watcher/stat"; }
hz=$(getconf CLK_TCK)
t0=$(ticks)
sleep "$idle"
t1=$(ticks)
rss=$(awk '/^VmRSS/ {print $2}' "/proc/$watcher/status")
hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$watcher/status")

ip -n "$ns" -ts monitor address >"$work/monitor" &
pids+=($!)
sleep 0.5
for r in $(seq 1 "$rounds"); do
	vip=10.200.$((r / 250 % 250)).$((r % 250 + 1))
	ip -n "$ns" addr del "$vip/32" dev lo
	# Wait for the re-add in the monitor's output: polling with ip addr show
	# would dump the whole table every 10 ms and take a CPU from rsprep.
	until grep -v Deleted "$work/monitor" | grep -q " inet $vip/32 "; do sleep 0.01; done
	sleep 0.3
done
sleep 0.5

# Pair each deletion with the next addition of the same address.
awk '
	function secs(ts,   t) { gsub(/[][]/, "", ts); split(ts, t, "T"); split(t[2], hms, ":"); return hms[1] * 3600 + hms[2] * 60 + hms[3] }
	/ inet 10\.200\./ {
		for (i = 1; i <= NF; i++) if ($i == "inet") a = $(i + 1)
		if ($2 == "Deleted") del[a] = secs($1)
		else if (a in del) { print (secs($1) - del[a]) * 1000; delete del[a] }
	}' "$work/monitor" | sort -n >"$work/ms"
n=$(wc -l <"$work/ms")
pick() { sed -n "$(( ($1 * n + 99) / 100 ))p" "$work/ms"; }
echo "rsprep watch, $vips VIPs${TEXTFILE:+, --textfile} ($(uname -r), $(nproc) CPUs)"
printf "reaction to a removed VIP (%d removals): median %.1f ms, p90 %.1f ms, max %.1f ms\n" "$n" "$(pick 50)" "$(pick 90)" "$(tail -1 "$work/ms")"
echo "RSS while watching: $((rss / 1024)) MiB (peak $((hwm / 1024)) MiB, including the first apply)"
echo "CPU while idle: $(( (t1 - t0) * 1000 / hz )) ms in ${idle} s"
