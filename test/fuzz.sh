#!/usr/bin/env bash
# Runs every fuzz target of the module (func FuzzXxx in a _test.go file) for
# a bounded time each: FUZZTIME (default 10s), a go test -fuzztime value.
# The committed seed corpora (testdata/fuzz/) also run in a plain go test.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${FUZZTIME:-10s}
found=0
while IFS=: read -r file target; do
	pkg=$(dirname "$file")
	echo "== fuzz $pkg $target for $fuzztime"
	go test -run='^$' -fuzz="^${target}\$" -fuzztime="$fuzztime" "$pkg"
	found=$((found + 1))
done < <(grep -rHo --include='*_test.go' '^func Fuzz[A-Za-z0-9_]*' . | sed 's/:func /:/' | sort)
if [ "$found" -eq 0 ]; then
	echo "fuzz.sh: no fuzz targets found" >&2
	exit 1
fi
echo "== $found fuzz target(s) ran for $fuzztime each"
