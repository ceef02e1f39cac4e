#!/bin/sh
# The ip -batch contender: the kernel work rsprep does, with none of its
# checks. up writes the six ARP sysctls rsprep writes (all, default, lo),
# then adds every VIP with one ip -batch; down deletes them with one
# ip -batch, then puts the six sysctls back.
#
#   ipbatch.sh up|down BATCHFILE
set -e
conf=/proc/sys/net/ipv4/conf
case "$1" in
up)
	for k in all default lo; do
		echo 1 >"$conf/$k/arp_ignore"
		echo 2 >"$conf/$k/arp_announce"
	done
	exec ip -batch "$2"
	;;
down)
	ip -batch "$2"
	for k in all default lo; do
		echo 0 >"$conf/$k/arp_ignore"
		echo 0 >"$conf/$k/arp_announce"
	done
	;;
*)
	echo "usage: $0 up|down BATCHFILE" >&2
	exit 2
	;;
esac
