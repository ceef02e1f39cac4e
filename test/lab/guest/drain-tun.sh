# drain-tun.sh — rsprep drain with keepalived, TUN (IP-in-IP; cluster kt, 10.0.22.0/24).
. /lab/drain.sh
drain_prove drain.tun kt 22 tun TUN "--encap ipip"
