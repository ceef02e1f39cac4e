#!/bin/sh
# Measures rsprep against `ip -batch` and the classic real-server script in
# fresh network namespaces and prints a markdown table: test/bench/README.md's
# table of today's figures. Needs root, go, ip, nsenter, mount (a tmpfs for the
# records, as /run is) and /usr/bin/time (Debian package "time"): each
# command runs under it for its peak RSS; wall time is measured around it,
# user and system time are its wait4 rusage. Flags go to the Go harness
# (test/bench/cmd/compare):
#
#   test/bench/compare.sh                        # N = 1, 100, 1000, 10000; 5 runs
#   test/bench/compare.sh -n 1,100 -runs 3
#   test/bench/compare.sh -baseline OLD-RSPREP   # before/after of a change
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=$(mktemp -d "${TMPDIR:-/tmp}/rsprep-bench-bin.XXXXXX")
trap 'rm -rf "$bin"' EXIT INT TERM
CGO_ENABLED=0 go build -C "$root" -o "$bin/rsprep" ./cmd/rsprep
go build -C "$root" -o "$bin/compare" ./test/bench/cmd/compare
"$bin/compare" -rsprep "$bin/rsprep" -scripts "$root/test/bench" "$@"
