#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# lb.sh - the load balancer benchmark (`make bench B=lb`, through run.sh's
# bench_lb): xmbuf-lb (one VIP, 16 backends, many flows) against
# xmbuf-fwd's plain MAC swap, fed by the same live-frames source in the
# same invocation, in alternating turns.
#
#   netns G (gen)                       netns R (program under test, CPU 1)
#   xm-livegen -c 0  ==> vG ======== vR ==> AF_XDP socket
#   (UDP to 198.18.0.2:9,  ^  veth      |    lb:  xmbuf-lb: Maglev + LRU +
#    FLOWS source ports)   |            |         IPIP encap in headroom,
#   --sink vG: counts -----+            |         next hop = vG's MAC
#   frames whose destination <----------+    fwd: xmbuf-fwd: MAC swap
#   MAC is vG's
#
# Both programs send every frame back out of vR with vG's MAC as
# destination (the balancer because its configuration names vG as the
# gateway, the forwarder by swapping), so one sink counts both the same
# way.  The balancer's frames are 20 bytes longer (outer IPv4 header).
#
# The balancer runs as an operator would (issue 13): TCP health checks on
# its 16 backends (which do not exist here: they go down, and the service
# keeps its last table, as it must), the control socket and /metrics on,
# and both polled once a second while the source sends (`xmbuf-lb ctl
# status --json` and a GET of /metrics over bash's /dev/tcp).
#
# Figures: frames the sink counted divided by the source's sending time;
# medians over rounds; the ratio is the median of the per-round ratios.
# And the CPU each program spent on CPU 1: TSC cycles in the loops that
# moved packets, per packet, the way xmbuf-fwd and testpmd count them
# (*_cycles_per_pkt, lb_cost_vs_fwd_ratio: fwd's over lb's, so 1 would
# mean the balancer costs no more than the MAC swap).
#
# The source sends steadily: each BPF_PROG_RUN call swaps the XDP
# dispatcher in and out (two synchronize_rcu() waits, ~20 ms together),
# so xm-livegen sizes its calls to last ~250 ms.  With the old fixed
# 65536-frame calls the source sent ~10 ms bursts and then idled ~20 ms,
# and the rate figure depended on how long each burst lasted rather than
# on the program's speed (examples/lb/README.md, "Performance").
#
# Environment:
#   BIN          binaries (default build/bin)
#   LB_ROUNDS    rounds (default 5)
#   LB_SECONDS   seconds of traffic per case (default 3)
#   LB_SIZE      frame size without FCS (default 64)
#   LB_FLOWS     distinct flows (UDP source ports, default 60000)
#
# Exit status: 0 when every case ran; 1 otherwise; 77 (skip) when not
# root.
set -u
BENCH_NAME=lb
. "$(dirname "$0")/lib.sh" || exit 1

BIN=${BIN:-build/bin}
ROUNDS=${LB_ROUNDS:-5}
SECS=${LB_SECONDS:-3}
SIZE=${LB_SIZE:-64}
FLOWS=${LB_FLOWS:-60000}
GEN_CPU=0
RX_CPU=1

bench_need_root

for b in xm-livegen xmbuf-lb xmbuf-fwd; do
	[ -x "$BIN/$b" ] || die "missing $BIN/$b (make BUILD=... bench builds it)"
done
bench_preflight ip sysctl awk

bench_pair_names l lbbench
pids=()

teardown() {
	bench_pair_teardown "${pids[@]}"
}
trap teardown EXIT
trap 'exit 1' INT TERM

# ------------------------------------------------------------ the network
bench_pair_up
# /metrics listens on the loopback of the balancer's namespace
ip -n "$NS_R" link set lo up || die "cannot bring lo up in $NS_R"

# the shared configuration, with a health line for its one service
bench_lb_conf "$GEN_MAC" |
	awk '{ print } /^vip / { print "  health tcp 80 interval 1 timeout 0.5 rise 2 fall 2" }' \
	> "$TMP/lb.conf"
METRICS_PORT=9180

# Asks the running balancer for its status and its metrics once a second
# until killed (the operator's load on the control plane).
poll_ops() {
	while :; do
		"$BIN/xmbuf-lb" ctl --ctl "$TMP/ctl.sock" status --json \
			> /dev/null 2>&1
		ip netns exec "$NS_R" bash -c "exec 3<>/dev/tcp/127.0.0.1/$METRICS_PORT &&
			printf 'GET /metrics HTTP/1.0\r\n\r\n' >&3 && cat <&3" \
			> "$TMP/metrics.last" 2>&1
		sleep 1
	done
}

gen() { # OUT
	ip netns exec "$NS_G" "$BIN/xm-livegen" -i "$VG" -c $GEN_CPU \
		-d "$SECS" -s "$SIZE" -f "$FLOWS" --src-mac "$GEN_MAC" \
		--dst-mac "$RX_MAC" --src-ip 198.18.0.1 --dst-ip 198.18.0.2 \
		--sink "$VG" > "$1" 2> "$1.err"
}

key() { # FILE KEY
	awk -v k="$2" '$1 == k { print $2; exit }' "$1"
}

rate() { # COUNT GEN_OUT -> "received_mpps offered_mpps"
	awk -v n="$1" -v t="$(key "$2" elapsed_s)" -v o="$(key "$2" tx_mpps)" \
	    'BEGIN { if (n == "" || t <= 0) exit 1
		     printf "%.4f %.4f\n", n / t / 1e6, o }'
}

# Runs the program under test, sends, stops it; RES gets the figure.
run_case() { # NAME OUT READY_PATTERN CMD...
	local name=$1 out=$2 ready=$3 pid poller=""; shift 3
	ip netns exec "$NS_R" "$@" > "$out" 2> "$out.err" &
	pid=$!
	pids+=("$pid")
	if ! wait_for "$out.err" "$ready" "$pid"; then
		fail_case "$name" "$out" "$out.err"; return 1
	fi
	[ "$name" = lb ] && { poll_ops & poller=$!; pids+=("$poller"); }
	if ! gen "$out.gen"; then
		[ -n "$poller" ] && kill "$poller"
		kill -INT "$pid"; wait "$pid"
		fail_case "$name (source)" "$out.gen" "$out.gen.err"; return 1
	fi
	[ "$name" = lb ] && { kill "$poller"; wait "$poller" 2>/dev/null; }
	kill -INT "$pid"
	if ! wait "$pid"; then
		fail_case "$name" "$out" "$out.err"; return 1
	fi
	pids=()
	RES=$(rate "$(key "$out.gen" sink_good)" "$out.gen")
	# busy cycles per packet from the program's JSON summary, or "-"
	CYC=$(grep -o '"busy_cycles_per_packet":[0-9.e+-]*' "$out" |
	      cut -d: -f2)
	[ -n "$CYC" ] || CYC=-
}

one() { # CASE ROUND
	local c=$1 r=$2
	RES=""; CYC=-
	case $c in
	lb)  run_case lb "$TMP/lb.$r" "steering rule(s)" "$BIN/xmbuf-lb" \
		-i "$VR" -c "$TMP/lb.conf" -q 0 --cpus $RX_CPU \
		-d $((SECS + 30)) --json --ctl "$TMP/ctl.sock" \
		--metrics $METRICS_PORT ;;
	fwd) run_case fwd "$TMP/fwd.$r" "queue(s), mode" "$BIN/xmbuf-fwd" \
		-i "$VR" -q 0 --cpus $RX_CPU -d $((SECS + 30)) --json ;;
	esac || return 1
	[ -n "$RES" ] || { echo "lb: case $c gave no figure" >&2; return 1; }
	echo "$r $c $RES $CYC" >> "$TMP/results"
	echo "# round $r $c: $RES $CYC (Mpps received, Mpps offered," \
	     "busy cycles per packet)"
}

echo "# lb: $ROUNDS rounds, $SECS s per case, $SIZE-byte frames, $FLOWS" \
     "flows, one VIP with 16 backends, source on CPU $GEN_CPU, program" \
     "under test on CPU $RX_CPU, veth copy mode"
status=0
: > "$TMP/results"
for r in $(seq 1 "$ROUNDS"); do
	# Alternate who goes first.
	if [ $((r % 2)) -eq 1 ]; then order="lb fwd"; else order="fwd lb"; fi
	for c in $order; do
		one "$c" "$r" || { status=1; break 2; }
	done
done

# The balancer's own view of round 1: flows, drops, per-backend spread.
if [ -s "$TMP/lb.1" ]; then
	awk 'BEGIN { RS = "," }
	     /"rx_packets"|"forwarded"|"total"|"flows"|"evictions"/ {
		gsub(/[{}"]/, ""); printf "# lb round 1: %s\n", $0 }' \
		"$TMP/lb.1" | head -n 8
	grep -o '"ctl_requests":[0-9]*\|"metrics_requests":[0-9]*\|"all_down_events":[0-9]*' \
		"$TMP/lb.1" | sed 's/^/# lb round 1: /'
fi

awk -v rounds="$ROUNDS" "$BENCH_AWK_MEDIAN$BENCH_AWK_ROUNDS"'
{ v[$1, $2] = $3; if ($5 != "-") cy[$1, $2] = $5 }
END {
	figure("lb_mpps", "lb")
	figure("lb_fwd_mpps", "fwd")
	ratio("lb_vs_fwd_ratio", "lb", "fwd")
	cyc("lb_cycles_per_pkt", "lb")
	cyc("lb_fwd_cycles_per_pkt", "fwd")
	cratio("lb_cost_vs_fwd_ratio", "lb", "fwd")
	exit bad
}' "$TMP/results" || status=1
exit $status
