# drain-dr.sh — rsprep drain with keepalived, DR (cluster kd, 10.0.21.0/24).
. /lab/drain.sh
drain_prove drain.dr kd 21 dr DR ""
