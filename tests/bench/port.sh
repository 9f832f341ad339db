#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# port.sh - the port benchmark (`make bench B=port`, through run.sh's
# bench_port): xmbuf's AF_XDP port layer against a raw libxdp loop and
# DPDK testpmd's AF_XDP driver, all fed by the same live-frames source
# in the same invocation.
#
#   netns G (gen)                       netns R (receiver under test)
#   xm-livegen -c 0  ==> vG ======== vR ==> AF_XDP socket, program on CPU 1
#   (BPF_PROG_RUN         ^  veth      |     rxdrop: bench-port |
#    live frames)         |            |             peer-raw-rxdrop |
#   --sink vG: counts ----+            |             testpmd rxonly
#   what comes back        <-----------+     fwd:    xmbuf-fwd | testpmd macswap
#
# Frames redirected into vG are received by vR's NAPI in a softirq on the
# generator's CPU (0), which also runs vR's XDP program and the copy into
# the UMEM (copy mode: veth has no zero-copy); the program under test runs
# on CPU 1 (DESIGN.md, "Benchmarking on veth").
#
# Figures: packets the program under test counted (rxdrop), or frames the
# sink on vG counted with their MACs swapped (fwd), divided by the time
# the source was sending (*_mpps, *_ratio: ours over theirs).  And the
# CPU the program under test spent: TSC cycles in the loops that moved
# packets, per packet, counted the way testpmd's --record-core-cycles
# counts them (*_cycles_per_pkt; *_cost_*_ratio: theirs over ours, so
# above 1 means ours is cheaper).  On veth in copy mode the kernel's work
# on the source CPU (XDP, copy into the UMEM) bounds rxdrop, and every
# receiver keeps up with it: the throughput ratios then show parity, and
# the cycle figures show what each user-space loop costs.
#
# Each round runs every case once, in an order that rotates from round to
# round; figures are medians over rounds and ratios the median of the
# per-round ratios.
#
# Environment:
#   BIN            binaries (default build/bin)
#   PORT_ROUNDS    rounds (default 5)
#   PORT_SECONDS   seconds of traffic per case (default 3)
#   PORT_SIZE      frame size in bytes without FCS (default 64)
#   PORT_DPDK_ARGS extra net_af_xdp devargs (default none)
#   PORT_RT        1 (default): run the source and every program under
#                  test as SCHED_FIFO (chrt -f 50), so that other work on
#                  a shared machine cannot preempt them mid-case (the
#                  kernel's RT throttling still leaves others 5%); 0: as
#                  ordinary processes
#   PORT_CASES     cases to run (default: rx_xmbuf rx_xmbuf_busy rx_raw
#                  rx_dpdk fwd_xmbuf fwd_xmbuf_busy fwd_dpdk); figures
#                  need their cases (rx_xmbuf_busy: bench-port with
#                  preferred busy polling, busy_poll_budget 64: every
#                  burst calls recvfrom(); fwd_xmbuf_busy: xmbuf-fwd
#                  --busy-poll 64, recvfrom() on RX and sendto() on
#                  every TX burst; on veth the kernel has no NAPI id for
#                  the socket to poll, so this is the cost of the calls)
#
# Exit status: 0 when every case ran; 1 otherwise (what failed is shown);
# 77 (skip) when not root.
set -u
BENCH_NAME=port
. "$(dirname "$0")/lib.sh" || exit 1

BIN=${BIN:-build/bin}
ROUNDS=${PORT_ROUNDS:-5}
SECS=${PORT_SECONDS:-3}
SIZE=${PORT_SIZE:-64}
DPDK_DEVARGS=${PORT_DPDK_ARGS:-}
GEN_CPU=0
RX_CPU=1
TESTPMD=${TESTPMD:-dpdk-testpmd}
RT=()
[ "${PORT_RT:-1}" = 1 ] && RT=(chrt -f 50)

bench_need_root

need=(xm-livegen)
case " ${PORT_CASES:-rx_xmbuf fwd_xmbuf rx_raw} " in
*" rx_xmbuf "*|*" rx_xmbuf_busy "*) need+=(bench-port) ;;
esac
case " ${PORT_CASES:-fwd_xmbuf} " in
*" fwd_xmbuf "*|*" fwd_xmbuf_busy "*) need+=(xmbuf-fwd) ;;
esac
case " ${PORT_CASES:-rx_raw} " in
*" rx_raw "*) need+=(peer-raw-rxdrop) ;;
esac
for b in "${need[@]}"; do
	[ -x "$BIN/$b" ] || die "missing $BIN/$b (make BUILD=... bench builds it)"
done
cmds=(ip sysctl awk)
case " ${PORT_CASES:-rx_dpdk} ${PORT_CASES:-fwd_dpdk} " in
*" rx_dpdk "*|*" fwd_dpdk "*)
	if [ "$TESTPMD" = dpdk-testpmd ]; then
		cmds+=(dpdk-testpmd)
	else
		command -v "$TESTPMD" > /dev/null || die "no TESTPMD=$TESTPMD"
	fi ;;
esac
bench_preflight "${cmds[@]}"

bench_pair_names b port
pids=()
pmd_fd_open=0

teardown() {
	[ $pmd_fd_open = 1 ] && exec 7>&-
	bench_pair_teardown "${pids[@]}"
}
trap teardown EXIT
trap 'exit 1' INT TERM

# ------------------------------------------------------------ the network
bench_pair_up

gen() { # OUT [extra xm-livegen args]
	local out=$1; shift
	ip netns exec "$NS_G" "${RT[@]}" "$BIN/xm-livegen" -i "$VG" -c $GEN_CPU \
		-d "$SECS" -s "$SIZE" --src-mac "$GEN_MAC" --dst-mac "$RX_MAC" \
		--src-ip 198.18.0.1 --dst-ip 198.18.0.2 "$@" > "$out" 2> "$out.err"
}

key() { # FILE KEY -> value of a "key value" line
	awk -v k="$2" '$1 == k { print $2; exit }' "$1"
}

# "received_mpps offered_mpps busy_cycles_per_packet": COUNT over the
# source's sending time, what the source offered, and the program's own
# busy cycles per packet (CYCLES; "-" when it has none).
rate() { # COUNT GEN_OUT CYCLES
	awk -v n="$1" -v t="$(key "$2" elapsed_s)" -v o="$(key "$2" tx_mpps)" \
	    -v c="${3:--}" \
	    'BEGIN { if (n == "" || t <= 0) exit 1
		     printf "%.4f %.4f %s\n", n / t / 1e6, o, c == "" ? "-" : c }'
}

# Nothing of a case may stay attached to vR for the next one.
check_detached() { # CASE
	if ip -n "$NS_R" link show "$VR" | grep -q 'prog/xdp'; then
		echo "# port: $1 left an XDP program on $VR; removing it" >&2
		ip -n "$NS_R" link set dev "$VR" xdp off 2>/dev/null
		ip -n "$NS_R" link set dev "$VR" xdpgeneric off 2>/dev/null
		return 1
	fi
	return 0
}

# Our receivers: start, wait for "ready", send, SIGINT, read rx_packets.
# Sets RES to "received_mpps offered_mpps".
run_rx_ours() { # NAME OUT CMD...
	local name=$1 out=$2; shift 2
	ip netns exec "$NS_R" "${RT[@]}" "$@" -c $RX_CPU -d $((SECS + 30)) \
		> "$out" 2> "$out.err" &
	local pid=$!
	pids+=("$pid")
	if ! wait_for "$out.err" "ready on" "$pid"; then
		fail_case "$name" "$out" "$out.err"; return 1
	fi
	if ! gen "$out.gen"; then
		kill -INT "$pid"; wait "$pid"
		fail_case "$name (source)" "$out.gen" "$out.gen.err"; return 1
	fi
	sleep 0.3
	kill -INT "$pid"
	if ! wait "$pid"; then
		fail_case "$name" "$out" "$out.err"; return 1
	fi
	check_detached "$name"
	RES=$(rate "$(key "$out" rx_packets)" "$out.gen" \
		   "$(key "$out" cycles_per_pkt)")
}

# testpmd, interactive through a FIFO: wait for the prompt, "start",
# send, "stop" (which prints the accumulated forward statistics), "quit".
# For rxonly the figure is testpmd's RX-packets; for macswap, the sink's.
# Sets RES to "received_mpps offered_mpps".
run_testpmd() { # NAME OUT FWD_MODE
	local name=$1 out=$2 mode=$3 pid devargs
	devargs="iface=$VR,start_queue=0,queue_count=1"
	[ -n "$DPDK_DEVARGS" ] && devargs="$devargs,$DPDK_DEVARGS"
	rm -f "$TMP/pmd.in"
	mkfifo "$TMP/pmd.in" || return 1
	# Line-buffered: the script waits for what testpmd prints.
	ip netns exec "$NS_R" "${RT[@]}" stdbuf -oL -eL "$TESTPMD" \
		-l $GEN_CPU,$RX_CPU --no-pci \
		--no-huge -m 256 --no-shconf --log-level=lib.eal:error \
		--vdev "net_af_xdp0,$devargs" -- -i --forward-mode="$mode" \
		--total-num-mbufs=16384 --record-core-cycles \
		< "$TMP/pmd.in" > "$out" 2>&1 &
	pid=$!
	pids+=("$pid")
	exec 7> "$TMP/pmd.in"
	pmd_fd_open=1
	if ! wait_for "$out" "Checking link statuses" "$pid"; then
		exec 7>&-; pmd_fd_open=0
		fail_case "$name" "$out"; return 1
	fi
	echo start >&7
	if ! wait_for "$out" "forwards packets on" "$pid"; then
		exec 7>&-; pmd_fd_open=0
		fail_case "$name" "$out"; return 1
	fi
	local sink=()
	[ "$mode" = macswap ] && sink=(--sink "$VG")
	if ! gen "$out.gen" "${sink[@]}"; then
		echo quit >&7; exec 7>&-; pmd_fd_open=0; wait "$pid"
		fail_case "$name (source)" "$out.gen" "$out.gen.err"; return 1
	fi
	sleep 0.3
	echo stop >&7
	echo quit >&7
	exec 7>&-
	pmd_fd_open=0
	wait "$pid"
	check_detached "$name"
	local n
	if [ "$mode" = macswap ]; then
		n=$(key "$out.gen" sink_good)
	else
		n=$(awk '/Accumulated forward statistics/ { f = 1 }
			 f && $1 == "RX-packets:" { print $2; exit }' "$out")
	fi
	[ -n "$n" ] || { fail_case "$name (no count)" "$out"; return 1; }
	RES=$(rate "$n" "$out.gen" \
		   "$(sed -n 's/.*CPU cycles\/packet=\([0-9.]*\).*/\1/p' "$out" | head -n 1)")
}

# xmbuf-fwd: start, wait for its banner, send with the sink on vG, stop.
run_fwd_ours() { # NAME OUT [xmbuf-fwd args]
	local name=$1 out=$2 pid; shift 2
	ip netns exec "$NS_R" "${RT[@]}" "$BIN/xmbuf-fwd" -i "$VR" -q 0 \
		--cpus $RX_CPU "$@" \
		-d $((SECS + 30)) --json > "$out" 2> "$out.err" &
	pid=$!
	pids+=("$pid")
	if ! wait_for "$out.err" "queue(s), mode" "$pid"; then
		fail_case "$name" "$out" "$out.err"; return 1
	fi
	if ! gen "$out.gen" --sink "$VG"; then
		kill -INT "$pid"; wait "$pid"
		fail_case "$name (source)" "$out.gen" "$out.gen.err"; return 1
	fi
	kill -INT "$pid"
	if ! wait "$pid"; then
		fail_case "$name" "$out" "$out.err"; return 1
	fi
	check_detached "$name"
	RES=$(rate "$(key "$out.gen" sink_good)" "$out.gen" \
		   "$(sed -n 's/.*"busy_cycles_per_packet":\([0-9.e+]*\).*/\1/p' "$out")")
}

# Runs one case in this shell (not a subshell: teardown must see its
# processes) and appends "round case received_mpps offered_mpps".
run_case() { # CASE ROUND
	local c=$1 r=$2
	RES=""
	case $c in
	rx_xmbuf) run_rx_ours "$c" "$TMP/$c.$r" "$BIN/bench-port" -i "$VR" ;;
	rx_xmbuf_busy) run_rx_ours "$c" "$TMP/$c.$r" "$BIN/bench-port" -i "$VR" \
			   -b 64 ;;
	rx_raw)   run_rx_ours "$c" "$TMP/$c.$r" "$BIN/peer-raw-rxdrop" -i "$VR" ;;
	rx_dpdk)  run_testpmd "$c" "$TMP/$c.$r" rxonly ;;
	fwd_xmbuf) run_fwd_ours "$c" "$TMP/$c.$r" ;;
	fwd_xmbuf_busy) run_fwd_ours "$c" "$TMP/$c.$r" --busy-poll 64 ;;
	fwd_dpdk) run_testpmd "$c" "$TMP/$c.$r" macswap ;;
	esac || return 1
	[ -n "$RES" ] || { echo "port: case $c gave no figure" >&2; return 1; }
	# A closed AF_XDP socket lets go of its queue from a kernel work
	# item; give it time before the next case binds the same queue.
	sleep 0.5
	echo "$r $c $RES" >> "$TMP/results"
	echo "# round $r $c: $RES (Mpps received, Mpps offered, busy cycles/packet)"
	pids=()
}

# Two cores and nothing to spare: anything else running skews the
# figures (the ratios less than the absolutes).  Say so.
read -r load1 _ < /proc/loadavg
if awk -v l="$load1" 'BEGIN { exit !(l > 0.5) }'; then
	echo "# port: WARNING: load average $load1 before the run; other" \
	     "work on the two CPUs makes these figures noisy"
fi
echo "# port: $ROUNDS rounds, $SECS s per case, $SIZE-byte frames," \
     "source on CPU $GEN_CPU, program under test on CPU $RX_CPU," \
     "veth copy mode${RT:+, SCHED_FIFO}"
read -r -a cases <<< "${PORT_CASES:-rx_xmbuf rx_xmbuf_busy rx_raw rx_dpdk fwd_xmbuf fwd_xmbuf_busy fwd_dpdk}"
status=0
: > "$TMP/results"
for r in $(seq 1 "$ROUNDS"); do
	# Rotate the order so no case always follows the same one.
	n=${#cases[@]}
	for i in $(seq 0 $((n - 1))); do
		c=${cases[$(( (i + r - 1) % n ))]}
		run_case "$c" "$r" || { status=1; break 2; }
	done
done

# The xmbuf side's own view of a run, for the record.
if [ -s "$TMP/fwd_xmbuf.1" ]; then
	echo "# xmbuf-fwd round 1: $(head -c 800 "$TMP/fwd_xmbuf.1")"
fi

awk -v rounds="$ROUNDS" "$BENCH_AWK_MEDIAN$BENCH_AWK_ROUNDS"'
function offered(c,    r, n, a, m, b) {
	n = 0; m = 0
	for (r = 1; r <= rounds; r++)
		if ((r, c) in o) {
			a[++n] = o[r, c]
			if (o[r, c] > 0)
				b[++m] = 100 * v[r, c] / o[r, c]
		}
	if (n) printf "# %s: source sent %.3f Mpps, %.1f%% of it counted " \
		      "(medians)\n", c, median(a, n), m ? median(b, m) : 0
}
{ v[$1, $2] = $3; o[$1, $2] = $4; if ($5 != "-") cy[$1, $2] = $5 }
END {
	offered("rx_xmbuf"); offered("rx_xmbuf_busy"); offered("rx_raw")
	offered("rx_dpdk")
	offered("fwd_xmbuf"); offered("fwd_xmbuf_busy"); offered("fwd_dpdk")
	figure("rxdrop_mpps", "rx_xmbuf")
	figure("rxdrop_busy_poll_mpps", "rx_xmbuf_busy")
	figure("rxdrop_raw_mpps", "rx_raw")
	figure("rxdrop_dpdk_mpps", "rx_dpdk")
	ratio("rxdrop_vs_raw_ratio", "rx_xmbuf", "rx_raw")
	ratio("rxdrop_vs_dpdk_ratio", "rx_xmbuf", "rx_dpdk")
	figure("fwd_mpps", "fwd_xmbuf")
	figure("fwd_busy_poll_mpps", "fwd_xmbuf_busy")
	figure("fwd_dpdk_mpps", "fwd_dpdk")
	ratio("fwd_vs_dpdk_ratio", "fwd_xmbuf", "fwd_dpdk")
	# CPU cost in the program under test: TSC cycles in the loops
	# that moved packets, per packet (testpmd --record-core-cycles).
	cyc("rxdrop_cycles_per_pkt", "rx_xmbuf")
	cyc("rxdrop_busy_poll_cycles_per_pkt", "rx_xmbuf_busy")
	cyc("rxdrop_raw_cycles_per_pkt", "rx_raw")
	cyc("rxdrop_dpdk_cycles_per_pkt", "rx_dpdk")
	cratio("rxdrop_cost_vs_raw_ratio", "rx_xmbuf", "rx_raw")
	cratio("rxdrop_cost_vs_dpdk_ratio", "rx_xmbuf", "rx_dpdk")
	cyc("fwd_cycles_per_pkt", "fwd_xmbuf")
	cyc("fwd_busy_poll_cycles_per_pkt", "fwd_xmbuf_busy")
	cyc("fwd_dpdk_cycles_per_pkt", "fwd_dpdk")
	cratio("fwd_cost_vs_dpdk_ratio", "fwd_xmbuf", "fwd_dpdk")
	exit bad
}' "$TMP/results" || status=1
exit $status
