#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# check_units.sh - every systemd unit the examples ship passes
# `systemd-analyze verify` (`make test` and `make check` run it):
#
#   tests/check_units.sh BIN_DIR
#
# verify works offline (no running systemd is needed), but it checks
# that ExecStart='s program exists, and a unit names its installed path
# (/usr/local/bin/xmbuf-*): each unit is checked as a copy whose
# /usr/local/bin/ is BIN_DIR (the build's binaries, absolute), so every
# directive but that prefix is the shipped one.  A template (NAME@.service)
# is checked through an instance (NAME@xmt0.service).  verify exits 0
# after a mere warning (an unknown key, a bad value "ignoring"), so any
# output at all fails the check too.
#
# Exit status: 0 when every unit verifies silently; 1 otherwise.
set -u
[ $# = 1 ] || { echo "usage: $0 BIN_DIR" >&2; exit 2; }
. "$(dirname "$0")/bench/lib.sh" || exit 1
xm_need_cmds "check_units" systemd-analyze || exit 1
bin=$(cd "$1" && pwd) || exit 1
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

status=0; n=0
for u in "$root"/examples/*/*.service; do
	[ -e "$u" ] || continue
	name=${u##*/}
	sed "s|/usr/local/bin/|$bin/|g" "$u" > "$tmp/$name"
	unit=$name
	case $name in
	*@.service)
		unit=${name%@.service}@xmt0.service
		ln -sf "$name" "$tmp/$unit";;
	esac
	out=$(cd "$tmp" && systemd-analyze verify --man=no "./$unit" 2>&1)
	rc=$?
	n=$((n + 1))
	if [ $rc != 0 ] || [ -n "$out" ]; then
		echo "check_units: ${u#"$root"/}: systemd-analyze verify (status $rc):" >&2
		printf '%s\n' "$out" >&2
		status=1
	fi
done
[ $status = 0 ] && echo "check_units: $n unit(s) verified"
exit $status
