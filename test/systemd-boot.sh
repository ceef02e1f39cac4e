#!/usr/bin/env bash
# Boot test: a Debian 12 system with systemd as PID 1, booted in qemu (TCG:
# KVM cannot run a stock kernel here), with rsprep installed into its root
# by `rsprep install --root`, as an image build would. Inside, a oneshot
# unit (systemd-boot-guest.sh) checks that the host came up with every
# invariant holding, that `systemctl stop rsprep` runs the teardown, and
# (dr) that install/uninstall work live over D-Bus.
#
# Needs root and Debian's apt (debootstrap, qemu-system-x86, the cloud
# kernel). The root file system and kernel are cached in $RSPREP_BOOT_CACHE
# (default /var/tmp/rsprep-boot): the first run takes a few minutes more.
# RSPREP_BOOT_SCENARIOS picks the boots (default "dr tun tungue gre nat deb
# watch"); tun also checks that modules-load.d, not rsprep's own modprobe,
# loaded the tunnel modules; tungue runs GUE over IPv6 with --mss and gre
# keyless GRE (gre0, ip6gre0), both inside the hardened unit; nat that stop
# puts the previous default route back; deb
# is dr with rsprep installed from its .deb (dpkg --root into the image,
# as an image build would), then dpkg -r, -P and -i live in the guest; watch
# runs install --watch (the Type=notify unit) and undoes the host as the
# field does (networkctl down lo, sysctl --system, a networkd restart that
# takes a NAT default route), with doctor naming the causes beforehand;
# its --dip is a director that is silent at boot and answers later
# (systemd-boot-director.sh).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
cache=${RSPREP_BOOT_CACHE:-/var/tmp/rsprep-boot}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
say() { echo "systemd-boot: $*" >&2; }

need=()
command -v debootstrap >/dev/null || need+=(debootstrap)
command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
command -v cpio >/dev/null || need+=(cpio)
command -v depmod >/dev/null || need+=(kmod)
if ((${#need[@]})); then
	say "installing ${need[*]}"
	apt-get -o DPkg::Lock::Timeout=600 update -qq && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
mkdir -p "$cache"

# The guest's kernel: Debian's cloud kernel (virtio, IPv6; ipip and
# ip6_tunnel as modules; boots fastest under TCG), unpacked, never
# installed here.
if [ ! -f "$cache/kernel.ok" ]; then
	pkg=$(apt-cache depends linux-image-cloud-amd64 | awk '/Depends: linux-image-/ {print $2; exit}')
	say "fetching $pkg"
	rm -rf "$cache/kernel" "$work/deb" && mkdir "$work/deb"
	(cd "$work/deb" && apt-get download -q "$pkg" >/dev/null 2>&1)
	dpkg-deb -x "$work"/deb/*.deb "$cache/kernel"
	depmod -b "$cache/kernel" "$(ls "$cache/kernel/lib/modules")"
	touch "$cache/kernel.ok"
fi
kver=$(ls "$cache/kernel/lib/modules")

# The guest's root: minbase plus systemd (and kmod, for modules-load.d;
# udev, which applies sysctl.d to each new network device; procps, for the
# sysctl --system that watch must survive), trimmed. The
# marker holds the package list, so changing it rebuilds.
packages=systemd,systemd-sysv,dbus,iproute2,kmod,udev,procps
if [ "$(cat "$cache/rootfs.ok" 2>/dev/null)" != "$packages" ]; then
	say "debootstrap bookworm (minbase + $packages) into $cache/rootfs"
	rm -rf "$cache/rootfs" "$cache/rootfs.ok"
	debootstrap --variant=minbase --include="$packages" \
		bookworm "$cache/rootfs" http://deb.debian.org/debian >"$cache/debootstrap.log" 2>&1 ||
		{ tail -n 20 "$cache/debootstrap.log" >&2; exit 1; }
	rm -rf "$cache"/rootfs/usr/share/{doc,man,info,locale} "$cache"/rootfs/var/cache/apt/* "$cache"/rootfs/var/lib/apt/lists/*
	echo "$packages" >"$cache/rootfs.ok"
fi

say "building rsprep and the guest image"
CGO_ENABLED=0 go -C "$repo" build -o "$work/rsprep" ./cmd/rsprep
base="$work/base"
cp -a "$cache/rootfs" "$base"
root=$base
install -m 0755 "$work/rsprep" "$root/usr/sbin/rsprep"
echo rsprep-boot >"$root/etc/hostname"
echo 5b1f0e2c7d4a4e0f9a3c8b6d2e1f0a9b >"$root/etc/machine-id"

# The tunnel modules (and dummy, for the stand-in uplink; veth, for the
# watch scenario's director) with what they need, as the kernel package
# has them.
for m in $(modprobe -a -d "$cache/kernel" -S "$kver" --show-depends ipip ip6_tunnel fou fou6 ip_gre ip6_gre dummy veth | awk '{print $2}'); do
	install -D -m 0644 "$m" "$root/${m#"$cache/kernel/"}"
done
cp "$cache/kernel/lib/modules/$kver"/modules.{order,builtin,builtin.modinfo} "$root/lib/modules/$kver/"
depmod -b "$root" "$kver"

# A lab link: a oneshot unit NAME.service running COMMAND before
# network-online.target, as a network manager would.
lab_link() { # root, name, description, command
	cat >"$1/etc/systemd/system/$2.service" <<EOF
[Unit]
Description=$3
After=systemd-modules-load.service
Before=network-online.target
[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/sh -c '$4'
[Install]
WantedBy=network-online.target
EOF
	mkdir -p "$1/etc/systemd/system/network-online.target.wants"
	ln -s "/etc/systemd/system/$2.service" "$1/etc/systemd/system/network-online.target.wants/$2.service"
}
# A stand-in uplink: a dummy eth9 in 192.168.10.0/24 (the NAT DIP is .1)
# with the default route via .254.
lab_link "$root" lab-net "stand-in uplink eth9 (dummy), default via 192.168.10.254" \
	'modprobe dummy && ip link add eth9 type dummy && ip addr add 192.168.10.2/24 dev eth9 && ip link set eth9 up && ip route add default via 192.168.10.254 dev eth9'

# A stand-in for a service that binds the VIP: it records the addresses
# and default route it found when it started (rsprep.service has Before=
# it, nothing else orders the two).
cat >"$root/etc/systemd/system/vip-listener.service" <<'EOF'
[Unit]
Description=stand-in for a service listening on the VIP
[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/sh -c '{ ip -o addr show; ip route show default; } >/run/vip-listener'
[Install]
WantedBy=multi-user.target
EOF
install -m 0755 "$here/systemd-boot-guest.sh" "$root/usr/local/sbin/rsprep-boot-check"
install -m 0644 "$here/systemd-boot-watch.sh" "$root/usr/local/sbin/rsprep-boot-watch"
install -m 0644 "$here/systemd-boot-director.sh" "$root/usr/local/sbin/rsprep-boot-director"
install -m 0644 "$here/systemd-boot-networkd.sh" "$root/usr/local/sbin/rsprep-boot-networkd"
cat >"$root/etc/systemd/system/rsprep-boot-check.service" <<'EOF'
[Unit]
Description=rsprep boot test checks
After=rsprep.service vip-listener.service systemd-journald.service
[Service]
Type=oneshot
TimeoutStartSec=600
ExecStart=/usr/local/sbin/rsprep-boot-check
[Install]
WantedBy=multi-user.target
EOF
for u in vip-listener rsprep-boot-check; do
	ln -s "/etc/systemd/system/$u.service" "$root/etc/systemd/system/multi-user.target.wants/$u.service"
done

# One boot per scenario: install into a fresh copy of the image, as an
# image build would, with the same command an operator runs live.
boot() { # scenario, install arguments...
	local scenario=$1 root="$work/root-$1" mode=$1 rsprep=$work/rsprep
	shift
	cp -a "$base" "$root"
	if [ "$scenario" = deb ]; then
		# The package's binary, not the one copied in above; the .deb
		# also goes into the image, for the guest's dpkg -i.
		mode=dr rsprep=$root/usr/sbin/rsprep
		rm "$root/usr/sbin/rsprep"
		dpkg --root="$root" -i "$deb" >/dev/null
		install -D -m 0644 "$deb" "$root/var/cache/rsprep-test/rsprep.deb"
	fi
	[ "$scenario" = tungue ] && mode=tun # GUE over IPv6 with --mss, in the hardened unit
	[ "$scenario" = gre ] && mode=tun    # keyless GRE, gre0 and ip6gre0
	if [ "$scenario" = watch ]; then     # install --watch dr --dip: the director still booting
		mode=dr
		# eth8 (192.168.20.2/24), a veth whose peer dir0 is up in the
		# network namespace "director" without the DIP 192.168.20.1
		# yet: nothing answers ARP for it until the guest adds it
		# (systemd-boot-director.sh).
		lab_link "$root" lab-director "stand-in director link eth8 (veth to netns director), the DIP not up yet" \
			'modprobe veth && ip netns add director && ip link add eth8 type veth peer name dir0 netns director && ip addr add 192.168.20.2/24 dev eth8 && ip link set eth8 up && ip -n director link set dir0 up'
	fi
	"$rsprep" install "$mode" "$@" --before vip-listener.service --root "$root" --bin /usr/sbin/rsprep
	# The whole root as an uncompressed initramfs: the cloud kernel has no
	# built-in disk driver, and systemd runs fine from the initramfs (no
	# /etc/initrd-release, so it boots it as the real root).
	(cd "$root" && find . -print0 | cpio --null -o -H newc --quiet) >"$work/root.cpio"
	rm -rf "$root"
	say "booting the $scenario scenario (qemu TCG)"
	local start=$SECONDS
	timeout 900 qemu-system-x86_64 -accel tcg -m 2048 -smp 2 -nodefaults -no-user-config \
		-nic none -display none -monitor none -no-reboot \
		-kernel "$cache/kernel/boot/vmlinuz-$kver" -initrd "$work/root.cpio" \
		-append "console=ttyS0 rdinit=/sbin/init panic=-1 systemd.show_status=0 loglevel=4 rsprep.scenario=$scenario" \
		-serial "file:$work/console-$scenario.log" -serial "file:$work/results-$scenario.txt" || true
	say "the $scenario VM ran $((SECONDS - start)) s"
	cat "$work/results-$scenario.txt"
	if ! grep -q '^DONE' "$work/results-$scenario.txt" || grep -q '^FAIL' "$work/results-$scenario.txt"; then
		say "$scenario FAILED; the guest console:"
		tail -n 60 "$work/console-$scenario.log" >&2
		failed=1
	fi
}

scenarios=${RSPREP_BOOT_SCENARIOS:-dr tun tungue gre nat deb watch}
if [[ " $scenarios " == *" deb "* ]]; then
	say "building the .deb"
	deb=$("$repo/cmd/rsprep/packaging/build-deb" "$work")
fi
failed=0
for scenario in $scenarios; do
	case $scenario in
	nat) boot nat --dip 192.168.10.1 --keep-route 10.20.0.0/16 ;;
	# every encapsulation knob at once: fou6, ip6tnl0 changed to mode any
	# (SIOCCHGTUNNEL: the unit allows no AF_INET6 socket), the MSS rule
	tungue) boot tungue --vip 192.168.79.180 --encap gue --encap-port 6080 --underlay ipv6 --mss 1400 ;;
	# keyless GRE: gre0 takes the IPv4 VIP, ip6gre0 the IPv6 one (each
	# VIP's own underlay); ip_gre and ip6_gre from modules-load.d
	gre) boot gre --vip 192.168.79.180 --vip 2001:db8::80 --encap gre ;;
	# rsprep watch as the unit (Type=notify); a short resync, so that the
	# guest sees a sysctl repaired, and the director once it answers,
	# within seconds
	watch) boot watch --watch --resync 2s --vip 192.168.79.180 --vip 2001:db8::80 --dip 192.168.20.1 ;;
	*) boot "$scenario" --vip 192.168.79.180 --vip 2001:db8::80 ;;
	esac
done
passes=$(cat "$work"/results-*.txt | grep -c '^PASS' || true)
fails=$(cat "$work"/results-*.txt | grep -c '^FAIL' || true)
echo "systemd-boot: $passes passed, $fails failed"
[ "$failed" = 0 ]
