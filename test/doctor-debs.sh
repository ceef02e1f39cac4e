#!/usr/bin/env bash
# doctor-debs.sh PACKAGE…: the Debian packages doctor's distribution tests
# read, downloaded once into test/.cache/debs (apt-get download, from this
# host's apt sources) and unpacked once into test/.cache/debroots. Prints the
# unpacked directory of each package, one a line. `rm -rf test/.cache`
# refreshes them. Only complete files land in the cache: a download and an
# unpacking go to a temporary directory first.
set -euo pipefail
cache=$(cd "$(dirname "$0")" && pwd)/.cache
mkdir -p "$cache/debs" "$cache/debroots"
updated=
download() { # download PACKAGE into $cache/debs
	local tmp rc=0
	tmp=$(mktemp -d "$cache/dl.XXXXXX")
	# APT::Sandbox::User=root: the _apt user cannot write into this tree.
	(cd "$tmp" && apt-get download -qq -o APT::Sandbox::User=root "$1" >&2) || rc=$?
	if [ "$rc" -eq 0 ] && compgen -G "$tmp/${1}_*.deb" >/dev/null; then
		mv "$tmp"/*.deb "$cache/debs/"
	else
		rc=1
	fi
	rm -rf "$tmp"
	return "$rc"
}
for p in "$@"; do
	if ! compgen -G "$cache/debs/${p}_*.deb" >/dev/null; then
		if ! download "$p"; then
			[ -z "$updated" ] || { echo "doctor-debs.sh: apt-get download $p failed" >&2; exit 1; }
			apt-get update -qq >&2 || true
			updated=1
			download "$p" || { echo "doctor-debs.sh: apt-get download $p failed" >&2; exit 1; }
		fi
	fi
	deb=$(ls "$cache"/debs/"${p}"_*.deb | sort -V | tail -n 1)
	dir=$cache/debroots/$(basename "$deb" .deb)
	if [ ! -d "$dir" ]; then
		tmp=$(mktemp -d "$cache/x.XXXXXX")
		dpkg-deb -x "$deb" "$tmp"
		mv "$tmp" "$dir" 2>/dev/null || rm -rf "$tmp" # another run got there first
	fi
	echo "$dir"
done
