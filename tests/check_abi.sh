#!/usr/bin/env bash
# check_abi: the symbols the objects mean to export (default visibility),
# the version script's list, and what the .so exports must be one set.
#   tests/check_abi.sh LIB.a LIB.so LIB.map
set -eu
a=$1 so=$2 map=$3
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
readelf -sW "$a" | awk '$5 == "GLOBAL" && $6 == "DEFAULT" && $7 != "UND" {print $8}' \
	| sort -u > "$tmp/objects"
sed -n 's/^[[:space:]]*\(xm_[A-Za-z0-9_]*\);.*/\1/p' "$map" | sort -u > "$tmp/map"
nm -D --defined-only "$so" | awk '{print $3}' | sed 's/@.*//' | grep -v '^XMBUF_' | sort -u > "$tmp/so"
rc=0
if ! diff -u "$tmp/objects" "$tmp/map" > "$tmp/d1"; then
	echo "check_abi: exported (default visibility) symbols differ from $map:"; cat "$tmp/d1"; rc=1
fi
if ! diff -u "$tmp/map" "$tmp/so" > "$tmp/d2"; then
	echo "check_abi: $so exports differ from $map:"; cat "$tmp/d2"; rc=1
fi
[ $rc = 0 ] && echo "check_abi: $(wc -l < "$tmp/map") symbols, all listed"
exit $rc
