# SPDX-License-Identifier: BSD-2-Clause
#
# lib.sh - what the wire benchmarks (port.sh, lb.sh, pktgen.sh,
# capture.sh) share, and the command check that they, tests/demo.sh and
# tests/run.sh make before they start; sourced, never run:
#
#   . "$(dirname "$0")/lib.sh"
#
# Only definitions: sourcing it creates no namespace, starts no process
# and changes no option of the caller (each script keeps its own
# `set -u`, traps and cleanup).

# Every command outside Debian's Essential packages that the test
# runner, the demo or a benchmark runs: the command, its Debian package
# (`dpkg -S`), and the target that installs the package: deps (`make
# deps`, the Makefile's DEPS_PKGS: tests and demo) or bench (`make
# deps-bench`, BENCH_PKGS, which `make bench` runs first).
# tests/check_deps.sh holds this table to the Makefile's lists and to
# dpkg; xm_need_cmds refuses a command that is not in it.
XM_CMD_TABLE='
ip            iproute2          deps
sysctl        procps            deps
pgrep         procps            deps
awk           mawk              deps
mount         mount             deps
umount        mount             deps
tcpdump       tcpdump           deps
tshark        tshark            deps
man           man-db            deps
doxygen       doxygen           deps
systemd-analyze systemd         deps
bird          bird2             deps
birdc         bird2             deps
setpriv       util-linux        deps
capinfos      wireshark-common  bench
editcap       wireshark-common  deps
ethtool       ethtool           bench
bpftool       bpftool           deps
netsniff-ng   netsniff-ng       bench
trafgen       netsniff-ng       bench
dpdk-testpmd  dpdk-dev          bench
valgrind      valgrind          bench
'

# xm_need_cmds WHO CMD...: every CMD is installed, or one message names
# each missing command with its Debian package and the make target that
# installs it, and the status is 1.  Scripts call it before they create
# anything, so a machine without a package fails at once, not halfway.
xm_need_cmds() {
	local who=$1 cmd c p t pkg target missing="" hint="make deps"
	shift
	for cmd in "$@"; do
		pkg=""
		while read -r c p t; do
			[ "$c" = "$cmd" ] && { pkg=$p; target=$t; break; }
		done <<< "$XM_CMD_TABLE"
		if [ -z "$pkg" ]; then
			echo "$who: no Debian package known for '$cmd' (add it to XM_CMD_TABLE in tests/bench/lib.sh)" >&2
			return 1
		fi
		command -v "$cmd" > /dev/null 2>&1 && continue
		missing="$missing${missing:+, }$cmd (Debian package $pkg)"
		[ "$target" = bench ] && hint="make deps-bench"
	done
	[ -z "$missing" ] && return 0
	# deps-bench installs the deps too
	[ "$hint" = "make deps-bench" ] && hint="$hint' as root (make bench runs it)" ||
		hint="$hint' as root"
	echo "$who needs $missing: run '$hint" >&2
	return 1
}

# bench_preflight CMD...: what a benchmark checks before it creates
# anything (after its binaries): every CMD installed, or "bench: NAME
# needs ..." and exit 1.  With BENCH_PREFLIGHT=1 the script exits 0 right
# after it: run.sh checks every benchmark it was asked for that way
# before it runs the first, so a missing package fails `make bench`
# at once and not minutes later.  Uses BENCH_NAME.
bench_preflight() {
	xm_need_cmds "bench: $BENCH_NAME" "$@" || exit 1
	[ "${BENCH_PREFLIGHT:-0}" = 1 ] && exit 0
	return 0
}

# bench_no_ipv6 NS...: IPv6 off in each namespace.  Router solicitations
# and duplicate address detection would be stray packets in a count.
bench_no_ipv6() {
	local ns
	for ns in "$@"; do
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
	done
}

# awk's median(a, n) of a[1..n] (sorts a in place; the mean of the two
# middle values when n is even).  Prepended to a script's own program:
#   awk -v rounds="$ROUNDS" "$BENCH_AWK_MEDIAN"'...'
# Insertion sort: a benchmark has a handful of rounds.
BENCH_AWK_MEDIAN='
function median(a, n,    i, j, t) {
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && a[j - 1] > a[j]; j--) {
			t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
		}
	return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
'

# The per-round figures of port.sh and lb.sh, appended to
# BENCH_AWK_MEDIAN: v[round, case] holds Mpps, cy[round, case] cycles a
# packet; each prints the median over `rounds` as a BENCH line (ratios
# with their per-round values in a comment line first), and sets bad
# when a case has no figure at all.  cratio is theirs over ours: above 1
# when ours spends fewer cycles.
BENCH_AWK_ROUNDS='
function figure(bench, c,    r, n, a) {
	n = 0
	for (r = 1; r <= rounds; r++)
		if ((r, c) in v)
			a[++n] = v[r, c]
	if (n == 0) { bad = 1; return }
	printf "BENCH %s %.3f Mpps\n", bench, median(a, n)
}
function ratio(bench, num, den,    r, n, a, list) {
	n = 0; list = ""
	for (r = 1; r <= rounds; r++)
		if ((r, num) in v && (r, den) in v && v[r, den] > 0) {
			a[++n] = v[r, num] / v[r, den]
			list = list sprintf(" %.3f", a[n])
		}
	if (n == 0) { bad = 1; return }
	printf "# %s rounds:%s\n", bench, list
	printf "BENCH %s %.3f ratio\n", bench, median(a, n)
}
function cyc(bench, c,    r, n, a) {
	n = 0
	for (r = 1; r <= rounds; r++)
		if ((r, c) in cy)
			a[++n] = cy[r, c]
	if (n == 0) { bad = 1; return }
	printf "BENCH %s %.1f cycles\n", bench, median(a, n)
}
function cratio(bench, ours, theirs,    r, n, a, list) {
	n = 0; list = ""
	for (r = 1; r <= rounds; r++)
		if ((r, ours) in cy && (r, theirs) in cy && cy[r, ours] > 0) {
			a[++n] = cy[r, theirs] / cy[r, ours]
			list = list sprintf(" %.3f", a[n])
		}
	if (n == 0) { bad = 1; return }
	printf "# %s rounds:%s\n", bench, list
	printf "BENCH %s %.3f ratio\n", bench, median(a, n)
}
'

# bench_need_root: a wire benchmark builds namespaces, veths and XDP
# programs; without root it is skipped (exit 77, the runner's "skip").
# Uses BENCH_NAME, the script's name in messages.
bench_need_root() {
	if [ "$(id -u)" != 0 ]; then
		# said once, by the run, not by run.sh's preflight too
		[ "${BENCH_PREFLIGHT:-0}" = 1 ] ||
			echo "# $BENCH_NAME: SKIPPED: needs root (namespaces, veth, XDP, AF_XDP)"
		exit 77
	fi
}

# die MESSAGE: "NAME: MESSAGE" on stderr, exit 1 (the EXIT trap cleans).
die() {
	echo "$BENCH_NAME: $*" >&2
	exit 1
}

# bench_stop_pids PID...: asks each background program to stop, then
# reaps them all (first every signal, then every wait, so they wind
# down in parallel).
bench_stop_pids() {
	local p
	for p in "$@"; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in "$@"; do
		wait "$p" 2>/dev/null
	done
}

# The benchmarks' two hosts: namespace NS_G (the source) and NS_R (the
# receiver) joined by one veth pair VG -- VR, 198.18.0.1/30 and .2/30.
# bench_pair_names TAG NAME sets NS_G NS_R VG VR (TAG, one letter, keeps
# two scripts' names apart) and TMP, a scratch directory; the caller then
# arms its EXIT trap (whose teardown calls bench_pair_teardown) and
# calls bench_pair_up, which sets GEN_MAC and RX_MAC.
bench_pair_names() { # TAG NAME
	local id=$$
	NS_G=xm${1}g$id
	NS_R=xm${1}r$id
	VG=x${1}g$id
	VR=x${1}r$id
	TMP=$(mktemp -d "/tmp/xmbuf-$2.XXXXXX") || exit 1
}

bench_pair_up() {
	ip netns add "$NS_G" || die "cannot create namespace $NS_G"
	ip netns add "$NS_R" || die "cannot create namespace $NS_R"
	# One queue each way: every receiver binds queue 0, which is then
	# every queue there is, whichever the kernel would pick.
	ip link add "$VG" numtxqueues 1 numrxqueues 1 netns "$NS_G" type veth \
		peer name "$VR" numtxqueues 1 numrxqueues 1 netns "$NS_R" ||
		die "cannot create veth pair"
	bench_no_ipv6 "$NS_G" "$NS_R"
	ip -n "$NS_G" link set "$VG" up
	ip -n "$NS_R" link set "$VR" up
	ip -n "$NS_G" addr add 198.18.0.1/30 dev "$VG"
	ip -n "$NS_R" addr add 198.18.0.2/30 dev "$VR"
	GEN_MAC=$(ip netns exec "$NS_G" cat "/sys/class/net/$VG/address")
	RX_MAC=$(ip netns exec "$NS_R" cat "/sys/class/net/$VR/address")
}

# Stops the background programs PID... and removes the pair and TMP.
bench_pair_teardown() { # PID...
	bench_stop_pids "$@"
	ip netns del "$NS_G" 2>/dev/null
	ip netns del "$NS_R" 2>/dev/null
	rm -rf "$TMP"
}

# bench_lb_conf GATEWAY_MAC: the balancer benchmarks' configuration on
# stdout: one VIP (the source's destination, 198.18.0.2 udp 9), 16
# backends behind the gateway.  Every flow comes from one source address:
# pin-rate 0, or all but that source's pin budget would go unpinned
# (Maglev only), and the figure would no longer be the connection-table
# path it has been.
bench_lb_conf() {
	local i
	echo "# xmbuf-lb benchmark: one service, 16 backends"
	echo "key 0123456789abcdef0123456789abcdef"
	echo "src-prefix 198.18.128.0/17"
	echo "gateway $1"
	echo "pin-rate 0"
	echo "vip 198.18.0.2 udp 9"
	for i in $(seq 1 16); do
		echo "  backend 198.18.1.$i"
	done
}

# wait_for FILE PATTERN PID: until FILE holds PATTERN (0), or PID died
# or BENCH_WAIT_SECONDS (default 20) passed (1).
wait_for() {
	local i
	for i in $(seq 1 $(( ${BENCH_WAIT_SECONDS:-20} * 10 ))); do
		grep -q -- "$2" "$1" 2>/dev/null && return 0
		kill -0 "$3" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# fail_case NAME FILE...: says case NAME failed, with the tail of each
# FILE that exists, on stderr.  @return 1.
fail_case() {
	local n=$1 f; shift
	echo "$BENCH_NAME: case $n failed:" >&2
	for f in "$@"; do
		[ -f "$f" ] && { echo "--- $f" >&2; tail -n 30 "$f" >&2; }
	done
	return 1
}
