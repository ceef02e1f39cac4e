#!/bin/sh
# The classic LVS-DR real-server script, as the LVS tutorials give it (the
# "realserver" init script): the VIP on lo with a lo:0 label, then the four
# ARP sysctl writes. No checks, no record, no rollback. It is the N=1
# contender of compare.sh.
#
#   classic.sh start|stop VIP
VIP=$2
case "$1" in
start)
	ip addr add "$VIP"/32 dev lo label lo:0
	echo 1 >/proc/sys/net/ipv4/conf/lo/arp_ignore
	echo 2 >/proc/sys/net/ipv4/conf/lo/arp_announce
	echo 1 >/proc/sys/net/ipv4/conf/all/arp_ignore
	echo 2 >/proc/sys/net/ipv4/conf/all/arp_announce
	;;
stop)
	ip addr del "$VIP"/32 dev lo
	echo 0 >/proc/sys/net/ipv4/conf/lo/arp_ignore
	echo 0 >/proc/sys/net/ipv4/conf/lo/arp_announce
	echo 0 >/proc/sys/net/ipv4/conf/all/arp_ignore
	echo 0 >/proc/sys/net/ipv4/conf/all/arp_announce
	;;
*)
	echo "usage: $0 start|stop VIP" >&2
	exit 2
	;;
esac
