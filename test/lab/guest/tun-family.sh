# tun-family.sh — tunnels that cross address families: an IPv4 VIP whose
# real servers are IPv6 addresses (IPv4 in IPv6: ipvsadm -a -r [RIP6] -i)
# and the reverse (IPv6 in IPv4). One cluster (fam, 10.0.6.0/24 and
# fd00:6::/64), one service (VIP) each, one after the other, as in
# tun-encap.sh: the full proof of tun_prove, one negative control each, and
# down, so the next starts from a real server as it was.
n=4 before1= tprobe=
tun_cluster fam 6 &&
	tun_service fam 10.0.6.102 "[fd00:6::11]" "[fd00:6::12]" &&
	tun_service fam fd00:6::100 10.0.6.11 10.0.6.12 ||
	{ fail fam.setup "building the address-family cluster failed, see the console log"; exit 1; }
before1=$(snap fam-rs1)

tun_prove v4in6 fam 10.0.6.102 --underlay ipv6
tun_break v4in6 fam 10.0.6.102 tunnel.mode "/usr/sbin/ip -6 tunnel change ip6tnl0 mode ip6ip6" --underlay ipv6
ip -n fam-rs1 -6 tunnel change ip6tnl0 mode ipip6   # somebody else's change
tun_down v4in6 fam 10.0.6.102 --underlay ipv6
mode=$(ip -n fam-rs1 -d link show ip6tnl0 | sed -n 's/.*ip6tnl \([a-z0-9]*\) .*/\1/p')
verdict '[ "$mode" = ipip6 ]' v4in6.down.mode "down leaves somebody else's mode: ip6tnl0 is ${mode:-unknown}"
tun_prove v6in4 fam fd00:6::100 --underlay ipv4
tun_break v6in4 fam fd00:6::100 link.sit0 "/usr/sbin/ip link set sit0 down" --underlay ipv4
tun_down v6in4 fam fd00:6::100 --underlay ipv4

same fam.down.state "ip addr and sysctls (tunnel devices aside)" "$before1" "$(snap fam-rs1)"
