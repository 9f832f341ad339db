#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# xdp-cost.sh - what the kernel-side programs cost a packet (`make bench
# B=xdp-cost`): the kernel's own BPF statistics (kernel.bpf_stats_enabled:
# run_time_ns / run_cnt of each program) while a fixed number of 64-byte
# frames arrives at a fixed rate, for
#
#   inline        xmbuf-capture --inline: xmbuf's redirect program, no
#                 filter (the receive timestamp and hash into the frame's
#                 metadata, statistics, redirect into the socket)
#   inline_rule   the same with "udp dst port 9" (the rule match too)
#   passive       xmbuf-capture's passive path: the tcx ingress program
#                 copying each frame into the ring buffer
#   rawxsk        peer-raw-rxdrop: libxdp's default program (redirect by
#                 queue id, nothing else), the least an AF_XDP receiver
#                 runs
#
# On veth the program runs in the sender's softirq, on the source's CPU,
# so its cost comes straight off the rate any receiver can be offered
# (tests/bench/capture.sh's "source-limited"); on a NIC it comes off the
# receive queue's core.  A time, but the kernel's own measurement of the
# program alone, at a rate (XDPCOST_RATE) that nothing drops at: steadier
# than a rate search.
#
#   netns G (gen)                          netns C (capture)
#   xmbuf-pktgen tx --engine live ===> vG == vC ==> program under test
#
# Figures (medians over XDPCOST_ROUNDS):
#   xdp_cost_<case>_ns                  ns a packet, per case
#   xdp_cost_inline_vs_rawxsk_ratio     inline / rawxsk
#   xdp_cost_inline_rule_vs_rawxsk_ratio
#
# Environment: BIN (default build/bin), XDPCOST_ROUNDS (3),
# XDPCOST_PACKETS (1000000), XDPCOST_RATE (500000 pps), XDPCOST_CASES.
# Exit: 0 when every case ran; 1 otherwise; 77 when not root.
set -u
BENCH_NAME=xdp-cost
. "$(dirname "$0")/lib.sh" || exit 1

BIN=${BIN:-build/bin}
ROUNDS=${XDPCOST_ROUNDS:-3}
PACKETS=${XDPCOST_PACKETS:-1000000}
RATE=${XDPCOST_RATE:-500000}
read -r -a cases <<< "${XDPCOST_CASES:-inline inline_rule passive rawxsk}"

bench_need_root
for b in xmbuf-pktgen xmbuf-capture peer-raw-rxdrop; do
	[ -x "$BIN/$b" ] || die "missing $BIN/$b (make bench builds it)"
done
for c in "${cases[@]}"; do
	case $c in
	inline|inline_rule|passive|rawxsk) ;;
	*) die "unknown case '$c' (inline, inline_rule, passive, rawxsk)" ;;
	esac
done
bench_preflight ip sysctl awk bpftool ethtool

stats_was=$(sysctl -n kernel.bpf_stats_enabled 2> /dev/null) ||
	die "no kernel.bpf_stats_enabled on this kernel"
bench_pair_names x xdpcost
pid=""

teardown() {
	[ -n "$pid" ] && bench_stop_pids "$pid"
	sysctl -qw kernel.bpf_stats_enabled="$stats_was"
	bench_pair_teardown
}
trap teardown EXIT
trap 'exit 1' INT TERM

bench_pair_up
# GRO on: without it (or an XDP program) a veth drops the frames
# redirected into it, and the passive case has no XDP program
gro=$(ip netns exec "$NS_R" ethtool -K "$VR" gro on 2>&1) ||
	die "cannot turn GRO on for $VR: $gro"
sysctl -qw kernel.bpf_stats_enabled=1 || die "cannot enable BPF statistics"

# Starts CASE's receiver; sets pid and PROG (the program's name).
start_case() { # CASE LOG
	local ready filter=()
	case $1 in
	inline|inline_rule)
		[ "$1" = inline_rule ] && filter=(udp dst port 9)
		ip netns exec "$NS_R" "$BIN/xmbuf-capture" -i "$VR" --inline \
			--force -w "$TMP/cap.pcapng" --cpus 1 \
			"${filter[@]}" > /dev/null 2> "$2" &
		ready="capturing on"; PROG=xm_redirect ;;
	passive)
		ip netns exec "$NS_R" "$BIN/xmbuf-capture" -i "$VR" \
			-w "$TMP/cap.pcapng" --cpus 1 -Q in \
			> /dev/null 2> "$2" &
		ready="capturing on"; PROG=xm_cap_tc_in ;;
	rawxsk)
		ip netns exec "$NS_R" "$BIN/peer-raw-rxdrop" -i "$VR" -d 600 \
			-c 1 -r 32768 > /dev/null 2> "$2" &
		ready="ready on"; PROG=xsk_def_prog ;;
	esac
	pid=$!
	wait_for "$2" "$ready" "$pid" ||
		{ fail_case "$1" "$2"; return 1; }
}

# ns a packet of the loaded program whose name begins with PROG, over the
# packets it ran for; empty when none ran.
prog_ns() {
	bpftool prog show 2> /dev/null | awk -v want="$PROG" '
		/^[0-9]+:/ {
			name = ""; rt = 0; rc = 0
			for (i = 1; i < NF; i++) {
				if ($i == "name") name = $(i + 1)
				if ($i == "run_time_ns") rt = $(i + 1)
				if ($i == "run_cnt") rc = $(i + 1)
			}
			if (index(name, want) == 1 && rc > best) {
				best = rc; ns = rt / rc
			}
		}
		END { if (best) printf "%.1f\n", ns }'
}

run_case() { # CASE ROUND
	local log=$TMP/$1.log ns sent
	start_case "$1" "$log" || return 1
	if ! ip netns exec "$NS_G" "$BIN/xmbuf-pktgen" tx -i "$VG" \
		--dst-mac "$RX_MAC" --src 198.18.0.1 --dst 198.18.0.2 -s 64 \
		-n "$PACKETS" -r "$RATE" --engine live --cpus 0 --json -Q \
		> "$TMP/gen.json" 2> "$TMP/gen.err"; then
		fail_case "$1" "$TMP/gen.err"
		return 1
	fi
	sent=$(grep -o '"sent":[0-9]*' "$TMP/gen.json" | head -n 1 | cut -d: -f2)
	ns=$(prog_ns)
	kill -INT "$pid" 2> /dev/null
	wait "$pid"
	pid=""
	rm -f "$TMP/cap.pcapng"
	[ -n "$ns" ] || { fail_case "$1" "$log"; return 1; }
	echo "# round $2 $1: ${ns} ns a packet ($PROG, $sent frames sent)"
	echo "$2 $1 $ns" >> "$TMP/results"
}

echo "# xdp-cost: $ROUNDS rounds, $PACKETS 64-byte frames at $RATE pps," \
     "BPF statistics per program"
: > "$TMP/results"
status=0
for r in $(seq 1 "$ROUNDS"); do
	for c in "${cases[@]}"; do
		run_case "$c" "$r" || { status=1; break 2; }
	done
done

awk -v rounds="$ROUNDS" "$BENCH_AWK_MEDIAN"'
function figure(t,    r, n, a) {
	n = 0
	for (r = 1; r <= rounds; r++)
		if ((r, t) in v)
			a[++n] = v[r, t]
	if (n == 0) return 0
	m[t] = median(a, n)
	printf "BENCH xdp_cost_%s_ns %.1f ns\n", t, m[t]
	return 1
}
{ v[$1, $2] = $3 }
END {
	figure("inline"); figure("inline_rule"); figure("passive")
	if (figure("rawxsk") && m["rawxsk"] > 0) {
		if ("inline" in m)
			printf "BENCH xdp_cost_inline_vs_rawxsk_ratio %.3f ratio\n",
			       m["inline"] / m["rawxsk"]
		if ("inline_rule" in m)
			printf "BENCH xdp_cost_inline_rule_vs_rawxsk_ratio %.3f ratio\n",
			       m["inline_rule"] / m["rawxsk"]
	}
}' "$TMP/results"
exit $status
