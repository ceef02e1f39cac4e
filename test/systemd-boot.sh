#!/usr/bin/env bash
# Boot test: a Debian 12 system with systemd as PID 1, booted in qemu (TCG:
# KVM cannot run a stock kernel here), with rsprep installed into its root
# by `rsprep install --root`, as an image build would. Inside, a oneshot
# unit (systemd-boot-guest.sh) checks that the host came up with every
# invariant holding, that `systemctl stop rsprep` runs the teardown, and
# that install/uninstall work live over D-Bus.
#
# Needs root and Debian's apt (debootstrap, qemu-system-x86, the cloud
# kernel). The root file system and kernel are cached in $RSPREP_BOOT_CACHE
# (default /var/tmp/rsprep-boot): the first run takes a few minutes more.
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
if ((${#need[@]})); then
	say "installing ${need[*]}"
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
mkdir -p "$cache"

# The guest's kernel: Debian's cloud kernel (virtio, IPv6, ipip built as
# modules; boots fastest under TCG), unpacked, never installed here.
if [ ! -f "$cache/vmlinuz" ]; then
	pkg=$(apt-cache depends linux-image-cloud-amd64 | awk '/Depends: linux-image-/ {print $2; exit}')
	say "fetching $pkg"
	(cd "$work" && apt-get download -q "$pkg" >/dev/null 2>&1 && dpkg-deb -x ./*.deb kernel)
	cp "$work"/kernel/boot/vmlinuz-* "$cache/vmlinuz.tmp" && mv "$cache/vmlinuz.tmp" "$cache/vmlinuz"
fi

# The guest's root: minbase plus systemd, trimmed.
if [ ! -f "$cache/rootfs.ok" ]; then
	say "debootstrap bookworm (minbase + systemd) into $cache/rootfs"
	rm -rf "$cache/rootfs"
	debootstrap --variant=minbase --include=systemd,systemd-sysv,dbus,iproute2 \
		bookworm "$cache/rootfs" http://deb.debian.org/debian >"$cache/debootstrap.log" 2>&1 ||
		{ tail -n 20 "$cache/debootstrap.log" >&2; exit 1; }
	rm -rf "$cache"/rootfs/usr/share/{doc,man,info,locale} "$cache"/rootfs/var/cache/apt/* "$cache"/rootfs/var/lib/apt/lists/*
	touch "$cache/rootfs.ok"
fi

say "building rsprep and the guest image"
CGO_ENABLED=0 go -C "$repo" build -o "$work/rsprep" ./cmd/rsprep
root="$work/root"
cp -a "$cache/rootfs" "$root"
install -m 0755 "$work/rsprep" "$root/usr/sbin/rsprep"
echo rsprep-boot >"$root/etc/hostname"
echo 5b1f0e2c7d4a4e0f9a3c8b6d2e1f0a9b >"$root/etc/machine-id"

# What an image build would run: the same command an operator runs live.
"$work/rsprep" install dr --vip 192.168.79.180 --vip 2001:db8::80 \
	--before vip-listener.service --root "$root" --bin /usr/sbin/rsprep

# A stand-in for a service that binds the VIP: it records whether the VIP
# was there when it started (rsprep.service has Before= it).
cat >"$root/etc/systemd/system/vip-listener.service" <<'EOF'
[Unit]
Description=stand-in for a service listening on the VIP
[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/sh -c 'if ip -o addr show dev lo | grep -qw 192.168.79.180/32; then echo vip-present; else echo vip-absent; fi >/run/vip-listener'
[Install]
WantedBy=multi-user.target
EOF
install -m 0755 "$here/systemd-boot-guest.sh" "$root/usr/local/sbin/rsprep-boot-check"
cat >"$root/etc/systemd/system/rsprep-boot-check.service" <<'EOF'
[Unit]
Description=rsprep boot test checks
After=rsprep.service vip-listener.service systemd-journald.service
[Service]
Type=oneshot
ExecStart=/usr/local/sbin/rsprep-boot-check
[Install]
WantedBy=multi-user.target
EOF
for u in vip-listener rsprep-boot-check; do
	ln -s "/etc/systemd/system/$u.service" "$root/etc/systemd/system/multi-user.target.wants/$u.service"
done

# The whole root as an uncompressed initramfs: the cloud kernel has no
# built-in disk driver, and systemd runs fine from the initramfs (no
# /etc/initrd-release, so it boots it as the real root).
(cd "$root" && find . -print0 | cpio --null -o -H newc --quiet) >"$work/root.cpio"

say "booting (qemu TCG; about a minute)"
start=$(date +%s)
timeout 900 qemu-system-x86_64 -accel tcg -m 2048 -smp 2 -nodefaults -no-user-config \
	-nic none -display none -monitor none -no-reboot \
	-kernel "$cache/vmlinuz" -initrd "$work/root.cpio" \
	-append "console=ttyS0 rdinit=/sbin/init panic=-1 systemd.show_status=0 loglevel=4" \
	-serial "file:$work/console.log" -serial "file:$work/results.txt" || true
say "VM ran $(($(date +%s) - start)) s"

cat "$work/results.txt"
if ! grep -q '^DONE' "$work/results.txt" || grep -q '^FAIL' "$work/results.txt"; then
	say "FAILED; the guest console:"
	tail -n 60 "$work/console.log" >&2
	exit 1
fi
echo "systemd-boot: $(grep -c '^PASS' "$work/results.txt") passed, 0 failed"
