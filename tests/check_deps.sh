#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# check_deps.sh - the packages the scripts name are the packages make
# installs (`make test` and `make check` run it):
#
#   tests/check_deps.sh "DEPS_PKGS" "BENCH_PKGS"
#
# tests/bench/lib.sh's XM_CMD_TABLE lists each command the test runner,
# the demo and the benchmarks run (outside Debian's Essential packages)
# with its Debian package and the target that installs it; xm_need_cmds
# refuses a command that is not in it.  Here, for every row:
#   - a "deps" package is in DEPS_PKGS (`make deps`), a "bench" package
#     in DEPS_PKGS or BENCH_PKGS (`make deps-bench`, run by `make bench`);
#   - where the command is installed, dpkg says it comes from that
#     package (paths tried as found, without /usr, and resolved, for
#     merged /usr and alternatives).
# A fresh machine that ran `make deps` then has every command a test
# or the demo runs, and one that ran `make bench` every command a
# benchmark runs.
#
# Exit status: 0 when every row holds; 1 otherwise (each bad row named).
set -u
[ $# = 2 ] || { echo "usage: $0 \"DEPS_PKGS\" \"BENCH_PKGS\"" >&2; exit 2; }
read -r -a d <<< "$1"
read -r -a b <<< "$2"
deps=" ${d[*]} "
bench=" ${b[*]} "
. "$(dirname "$0")/bench/lib.sh" || exit 1

# The package dpkg says installed the command, or nothing.
owner() { # CMD
	local p r q
	p=$(command -v "$1") || return 0
	r=$(readlink -f "$p")
	for q in "$p" "${p#/usr}" "$r" "${r#/usr}"; do
		dpkg -S "$q" 2> /dev/null | awk -F': ' '
			!/^diversion/ { sub(/:.*/, "", $1); print $1; f = 1; exit }
			END { exit !f }' && return 0
	done
	return 0
}

bad=0 rows=0
while read -r cmd pkg target; do
	[ -n "$cmd" ] || continue
	rows=$((rows + 1))
	case $target in
	deps)
		case $deps in
		*" $pkg "*) ;;
		*) echo "check_deps: $cmd: package $pkg is not in DEPS_PKGS (make deps)" >&2
		   bad=1 ;;
		esac ;;
	bench)
		case "$deps$bench" in
		*" $pkg "*) ;;
		*) echo "check_deps: $cmd: package $pkg is in neither DEPS_PKGS nor BENCH_PKGS (make deps-bench)" >&2
		   bad=1 ;;
		esac ;;
	*)
		echo "check_deps: $cmd: target '$target' is neither deps nor bench" >&2
		bad=1 ;;
	esac
	if command -v "$cmd" > /dev/null 2>&1 && command -v dpkg > /dev/null; then
		o=$(owner "$cmd")
		if [ -n "$o" ] && [ "$o" != "$pkg" ]; then
			echo "check_deps: $cmd comes from package $o, the table says $pkg" >&2
			bad=1
		fi
	fi
done <<< "$XM_CMD_TABLE"
[ $rows -gt 0 ] || { echo "check_deps: XM_CMD_TABLE is empty" >&2; exit 1; }
[ $bad = 0 ] && echo "check_deps: $rows commands, each from a package make deps or make deps-bench installs"
exit $bad
