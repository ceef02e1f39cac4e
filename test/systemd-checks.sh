#!/usr/bin/env bash
# What systemd and Prometheus themselves say about rsprep's output:
#   - systemd-analyze verify accepts the unit rsprep install writes (any
#     complaint fails the check: systemd-analyze exits 0 on "ignoring" lines);
#   - systemd-analyze security rates every unit rsprep writes at an
#     exposure of 2.0 or less (the spec's bound; 9.6 UNSAFE before the
#     sandbox in systemd/hardening.go);
#   - promtool check metrics accepts verify -o prometheus, on this host
#     (drift or not) and on the golden file with escaped labels;
#   - the README's examples (systemd/examples: the audit timer for the
#     textfile collector, the alert rules) pass systemd-analyze and
#     promtool check/test rules;
#   - the .deb (cmd/rsprep/packaging/build-deb): lintian reports no error
#     and no warning, it holds what it must, the man pages render without
#     a warning, zsh and fish parse the completions.
# Installs systemd, prometheus (promtool), lintian, zsh and fish from apt
# when they are missing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0 failed=0
pass() { echo "PASS $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1"; failed=$((failed + 1)); }

need=()
command -v systemd-analyze >/dev/null || need+=(systemd)
command -v promtool >/dev/null || need+=(prometheus)
command -v lintian >/dev/null || need+=(lintian)
command -v zsh >/dev/null || need+=(zsh)
command -v fish >/dev/null || need+=(fish)
command -v man >/dev/null || need+=(man-db)
command -v file >/dev/null || need+=(file)
if ((${#need[@]})); then
	echo "systemd-checks: installing ${need[*]}" >&2
	apt-get -o DPkg::Lock::Timeout=600 update -qq && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

go -C "$repo" build -o "$work/rsprep" ./cmd/rsprep

# The unit as install writes it, with ExecStart= pointing at a binary that
# exists here (systemd-analyze checks that it is executable).
root="$work/root"
mkdir "$root"
for args in "dr --vip 192.168.79.180" "dr --watch --textfile /var/lib/prometheus/node-exporter/rsprep.prom --vip 192.168.79.180" "tun --vip 192.168.79.180 --vip 2001:db8::80" "nat --dip 192.168.10.1" "dr --vip 192.168.79.180 --vip 2001:db8::80 --before nginx.service --before haproxy.service"; do
	rm -rf "${root:?}"/*
	# shellcheck disable=SC2086 # args is a word list on purpose
	"$work/rsprep" install $args --root "$root" --bin "$work/rsprep" 2>/dev/null
	if out=$(systemd-analyze verify "$root/etc/systemd/system/rsprep.service" 2>&1) && [ -z "$out" ]; then
		pass "systemd-analyze verify: install $args"
	else
		fail "systemd-analyze verify: install $args"
		echo "$out"
	fi
	# Every unit install wrote, whatever its name. --threshold=20 (tenths)
	# makes systemd-analyze exit non-zero above 2.0; the parsed figure is
	# checked too, so an analyzer that ignored the threshold cannot pass.
	for u in "$root"/etc/systemd/system/*.service; do
		code=0
		out=$(systemd-analyze security --offline=true --threshold=20 --no-pager "$u" 2>&1) || code=$?
		exposure=$(sed -n 's/.*Overall exposure level for .*: \([0-9.]*\) .*/\1/p' <<<"$out")
		if [ "$code" = 0 ] && [ -n "$exposure" ] && awk -v e="$exposure" 'BEGIN { exit !(e <= 2.0) }'; then
			pass "systemd-analyze security: $(basename "$u") exposure $exposure <= 2.0 (install $args)"
		else
			fail "systemd-analyze security: $(basename "$u") exposure ${exposure:-unknown} > 2.0 or unreadable (install $args, exit $code)"
			grep '✗' <<<"$out" || echo "$out"
		fi
	done
done

examples="$repo/systemd/examples"
if out=$(systemd-analyze verify "$examples/rsprep-audit.service" "$examples/rsprep-audit.timer" 2>&1) && [ -z "$out" ]; then
	pass "systemd-analyze verify: examples/rsprep-audit.{service,timer}"
else
	fail "systemd-analyze verify: examples/rsprep-audit.{service,timer}"
	echo "$out"
fi
if out=$(cd "$examples" && promtool check rules rsprep-alerts.yml 2>&1 && promtool test rules rsprep-alerts.test.yml 2>&1); then
	pass "promtool check/test rules: examples/rsprep-alerts.yml"
else
	fail "promtool check/test rules: examples/rsprep-alerts.yml"
	echo "$out"
fi

code=0 out=
"$work/rsprep" verify dr --vip 192.168.79.180 --vip 2001:db8::80 -o prometheus >"$work/verify.prom" || code=$?
# promtool accepts empty input: the output must also hold rsprep's samples.
if [ "$code" -le 1 ] && grep -q '^rsprep_invariant_ok{' "$work/verify.prom" &&
	out=$(promtool check metrics <"$work/verify.prom" 2>&1); then
	pass "promtool check metrics: verify on this host (exit $code)"
else
	fail "promtool check metrics: verify on this host (exit $code)"
	echo "$out"
	cat "$work/verify.prom"
fi
if out=$(promtool check metrics <"$repo/cmd/rsprep/testdata/verify.prom" 2>&1); then
	pass "promtool check metrics: golden verify.prom"
else
	fail "promtool check metrics: golden verify.prom"
	echo "$out"
fi

# The Debian package.
deb=$("$repo/cmd/rsprep/packaging/build-deb" "$work")
if lintian --fail-on error,warning "$deb" >"$work/lintian.txt" 2>&1 && ! grep -q '^[EW]:' "$work/lintian.txt"; then
	pass "lintian: no error, no warning ($(basename "$deb"))"
else
	fail "lintian: $(basename "$deb")"
	cat "$work/lintian.txt"
fi
want="./usr/sbin/rsprep ./usr/share/man/man8/rsprep.8.gz ./usr/share/man/man5/rsprep.conf.5.gz ./usr/share/bash-completion/completions/rsprep
./usr/share/zsh/vendor-completions/_rsprep ./usr/share/fish/vendor_completions.d/rsprep.fish
./usr/share/doc/rsprep/copyright ./usr/share/doc/rsprep/changelog.Debian.gz ./usr/share/doc/rsprep/README.md.gz"
files=$(dpkg-deb -c "$deb" | awk '{print $6}')
missing=$(for f in $want; do grep -qxF "$f" <<<"$files" || echo "$f"; done)
if [ -z "$missing" ] && ! grep -q '^\./etc' <<<"$files" && [ -z "$(dpkg-deb -f "$deb" Conffiles)" ] &&
	! dpkg-deb --ctrl-tarfile "$deb" | tar -t | grep -q conffiles; then
	pass "deb contents: binary, man page, completions, doc; nothing under /etc, no conffiles"
else
	fail "deb contents (missing:${missing:- none})"
	echo "$files"
fi
x=$work/deb-x
dpkg-deb -x "$deb" "$x"
version=$(dpkg-deb -f "$deb" Version)
if [ "$("$x/usr/sbin/rsprep" version | cut -d' ' -f2)" = "$version" ] && file "$x/usr/sbin/rsprep" | grep -q 'statically linked'; then
	pass "rsprep version says $version, the package's version; the binary is static"
else
	fail "rsprep version: $("$x/usr/sbin/rsprep" version), package $version"
fi
for page in man8/rsprep.8.gz man5/rsprep.conf.5.gz; do
	if out=$(MANWIDTH=80 man --warnings -l "$x/usr/share/man/$page" 2>&1 >/dev/null) && [ -z "$out" ]; then
		pass "man --warnings -l $page: no warning"
	else
		fail "man --warnings -l $page"
		echo "$out"
	fi
done
if out=$(zsh -n "$x/usr/share/zsh/vendor-completions/_rsprep" 2>&1 && fish --no-execute "$x/usr/share/fish/vendor_completions.d/rsprep.fish" 2>&1) &&
	[ "$(fish -c "source $x/usr/share/fish/vendor_completions.d/rsprep.fish; complete -C 'rsprep verify dr -o '" | sort | tr '\n' ' ')" = "json prometheus text " ]; then
	pass "zsh and fish parse the completions; fish completes -o"
else
	fail "zsh/fish completions"
	echo "$out"
fi

echo "systemd-checks: $passed passed, $failed failed"
[ "$failed" = 0 ]
