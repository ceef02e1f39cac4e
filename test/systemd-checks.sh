#!/usr/bin/env bash
# What systemd and Prometheus themselves say about rsprep's output:
#   - systemd-analyze verify accepts the unit rsprep install writes (any
#     complaint fails the check: systemd-analyze exits 0 on "ignoring" lines);
#   - promtool check metrics accepts verify -o prometheus, on this host
#     (drift or not) and on the golden file with escaped labels;
#   - the README's examples (systemd/examples: the audit timer for the
#     textfile collector, the alert rules) pass systemd-analyze and
#     promtool check/test rules.
# Installs systemd and prometheus (promtool) from apt when they are missing.
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
if ((${#need[@]})); then
	echo "systemd-checks: installing ${need[*]}" >&2
	apt-get -o DPkg::Lock::Timeout=600 update -qq && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

go -C "$repo" build -o "$work/rsprep" ./cmd/rsprep

# The unit as install writes it, with ExecStart= pointing at a binary that
# exists here (systemd-analyze checks that it is executable).
root="$work/root"
mkdir "$root"
for args in "dr --vip 192.168.79.180" "dr --vip 192.168.79.180 --vip 2001:db8::80 --before nginx.service --before haproxy.service"; do
	rm -rf "${root:?}"/*
	# shellcheck disable=SC2086 # args is a word list on purpose
	"$work/rsprep" install $args --root "$root" --bin "$work/rsprep" 2>/dev/null
	if out=$(systemd-analyze verify "$root/etc/systemd/system/rsprep.service" 2>&1) && [ -z "$out" ]; then
		pass "systemd-analyze verify: install $args"
	else
		fail "systemd-analyze verify: install $args"
		echo "$out"
	fi
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

echo "systemd-checks: $passed passed, $failed failed"
[ "$failed" = 0 ]
