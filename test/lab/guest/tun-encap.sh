# tun-encap.sh — GUE (ipvsadm --tun-type gue --tun-port 6080) and GRE
# (--tun-type gre), the encapsulations IPVS sends besides IP-in-IP. One
# cluster (enc, 10.0.5.0/24), one service (VIP) each, one after
# the other: each gets the full proof of tun_prove and one negative control
# of its own piece, and ends with down, so the next starts from a real
# server as it was. tun-family.sh does the same for the tunnels that cross
# address families, on a cluster of its own, at the same time (and
# tun-mss.sh proves --mss).
n=4 before1= tprobe=
tun_cluster enc 5 &&
	tun_service enc 10.0.5.100 10.0.5.11 10.0.5.12 --tun-type gue --tun-port 6080 &&
	tun_service enc 10.0.5.101 10.0.5.11 10.0.5.12 --tun-type gre ||
	{ fail enc.setup "building the encapsulation cluster failed, see the console log"; exit 1; }
before1=$(snap enc-rs1)

tprobe="--rip 10.0.5.11,10.0.5.12 --vip 10.0.5.100:80 --encap gue --encap-port 6080 --timeout 4s"
tun_prove gue enc 10.0.5.100 --encap gue --encap-port 6080
tun_break gue enc 10.0.5.100 fou.port "/usr/sbin/ip fou del port 6080" --encap gue --encap-port 6080
tprobe=
tun_down gue enc 10.0.5.100 --encap gue --encap-port 6080
fou=$(ip -n enc-rs1 fou show 2>&1)
verdict '[ -z "$fou" ]' gue.down.fou "fou ports after down: ${fou:-none}"

tprobe="--rip 10.0.5.11,10.0.5.12 --vip 10.0.5.101:80 --encap gre --timeout 4s"
tun_prove gre enc 10.0.5.101 --encap gre
tun_break gre enc 10.0.5.101 link.gre0 "/usr/sbin/ip link set gre0 down" --encap gre
tprobe=
tun_down gre enc 10.0.5.101 --encap gre
verdict '! ip -n enc-rs1 link show gre0 | grep -q "[<,]UP[,>]"' gre.down.gre0 "gre0 down again after down"

same enc.down.state "ip addr and sysctls (tunnel devices aside)" "$before1" "$(snap enc-rs1)"
