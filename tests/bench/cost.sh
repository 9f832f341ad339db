#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# cost.sh - the cost benchmark (`make bench B=cost`, through run.sh's
# bench_cost): user-space instructions per packet of each data path,
# counted by valgrind's callgrind on the thread that moves the packets.
# An instruction count does not depend on the machine's load or clock
# (these VMs have no hardware counters: `perf stat -e instructions`
# says "not supported"), so unlike the Mpps figures it tells xmbuf's own
# cost apart from the kernel's copy-mode path and from the noise.
#
#   netns G (source, CPU 0)              netns R (under callgrind, CPU 1)
#   xm-livegen / xmbuf-pktgen ==> vG ==== vR ==> AF_XDP socket
#   xm-livegen --sink / xm-sink <-------------- what the program sends
#
# Cases (each one run once; callgrind counts only the functions named):
#   rx_xmbuf   bench-cost -m xm-rxdrop: xm_port_rx_burst + xm_freem,
#              bursts of 64                        (cost_burst_*)
#   rx_raw     bench-cost -m raw-rxdrop: libxdp's rings only
#   fwd_xmbuf  bench-cost -m xm-fwd: RX, MAC swap, TX, completion
#   fwd_raw    bench-cost -m raw-fwd: xdpsock's l2fwd on libxdp's rings
#              (bench-cost counts full bursts only: tests/bench/bench_cost.c)
#   lb         xmbuf-lb's worker thread (worker_main), per packet
#              received; one VIP, 16 backends, LB_FLOWS flows
#   capture    xmbuf-capture's worker thread (cap_worker_main: RX, filter,
#              pcapng record, write), per packet written
#   pktgen     xmbuf-pktgen tx's worker (pg_tx_worker), per packet sent
#              (each one stamped with its sequence number and TX time)
# The tools run as they are; their sources are xmbuf-pktgen tx (no
# pauses, so a tool under callgrind, some 50 times slower than natively,
# always finds a full ring and hardly ever polls an empty one) and, for
# pktgen, an XDP_DROP sink.
#
# Figures: BENCH cost_<case>_instr_per_pkt, and the ratios
# cost_rxdrop_vs_raw_ratio, cost_fwd_vs_raw_ratio (goals <= 1.5) and
# cost_lb_vs_fwd_ratio (goal <= 3.0); for the bench-cost cases also the
# data references (loads and stores) a packet, cost_<case>_dref_per_pkt
# (callgrind --cache-sim; its miss counts are not printed: the simulated
# cache never sees the kernel's writes into the rings and frames).  Two
# runs on a loaded machine agreed within 0.4% (bench-cost, capture,
# pktgen: within 0.1%; lb after taking off its idle polls: 0.02%).
#
# Environment:
#   BIN            binaries (default build/bin)
#   COST_BURSTS    bursts of 64 per bench-cost case (default 2000)
#   COST_SECONDS   seconds xmbuf-lb runs under callgrind (default 4)
#   COST_PACKETS   packets xmbuf-capture writes, xmbuf-pktgen sends
#                  (default 200000)
#   LB_FLOWS       distinct flows for lb (default 1024: the connection
#                  table's hit path, as in steady state)
#   COST_CASES     cases to run (default: all of the above)
#   COST_KEEP      a directory to keep the callgrind files in (for
#                  callgrind_annotate); default: thrown away
#
# Exit status: 0 when every case ran; 1 otherwise; 77 (skip) when not
# root.
set -u
BENCH_NAME=cost
. "$(dirname "$0")/lib.sh" || exit 1

BIN=${BIN:-build/bin}
BURSTS=${COST_BURSTS:-2000}
LB_SECS=${COST_SECONDS:-4}
PACKETS=${COST_PACKETS:-200000}
FLOWS=${LB_FLOWS:-1024}
GEN_CPU=0
RX_CPU=1

bench_need_root

for b in bench-cost xm-livegen xm-sink xmbuf-lb xmbuf-capture xmbuf-pktgen; do
	[ -x "$BIN/$b" ] || die "missing $BIN/$b (make BUILD=... bench builds it)"
done
bench_preflight ip sysctl awk valgrind

# valgrind takes a while to start
BENCH_WAIT_SECONDS=60
bench_pair_names c cost
pids=()

teardown() {
	bench_pair_teardown "${pids[@]}"
}
trap teardown EXIT
trap 'exit 1' INT TERM

bench_pair_up

bench_lb_conf "$GEN_MAC" > "$TMP/lb.conf"

key() { # FILE KEY -> value of a "key value" line
	awk -v k="$2" '$1 == k { print $2; exit }' "$1"
}

jkey() { # FILE KEY -> first numeric value of "KEY": in a JSON summary
	sed -n "s/.*\"$2\": *\([0-9][0-9]*\).*/\1/p" "$1" | head -n 1
}

collected() { # OUT -> instructions callgrind counted
	sed -n 's/.*Collected : *\([0-9]*\).*/\1/p' "$1.err" | tail -n 1
}

# Data references (loads + stores) callgrind counted with --cache-sim:
# "Collected : Ir Dr Dw I1mr ..."
drefs() { # OUT
	awk '/Collected :/ { n = $5 + $6 } END { print n + 0 }' "$1.err"
}

# The sources: in the background, ended by the case.
livegen() { # OUT [args]
	local out=$1; shift
	ip netns exec "$NS_G" chrt -f 50 "$BIN/xm-livegen" -i "$VG" -c $GEN_CPU -d 600 \
		-s 64 --src-mac "$GEN_MAC" --dst-mac "$RX_MAC" \
		--src-ip 198.18.0.1 --dst-ip 198.18.0.2 "$@" \
		> "$out" 2>&1 &
	GEN_PID=$!
	pids+=("$GEN_PID")
}

pktgen_src() { # OUT [args]
	local out=$1; shift
	ip netns exec "$NS_G" chrt -f 50 "$BIN/xmbuf-pktgen" tx -i "$VG" --cpus $GEN_CPU \
		-d 600 -s 64 --dst-mac "$RX_MAC" --src 198.18.0.1 \
		--dst 198.18.0.2 --dport 9 -Q "$@" > "$out" 2>&1 &
	GEN_PID=$!
	pids+=("$GEN_PID")
}

stop_source() {
	kill -TERM "$GEN_PID" 2>/dev/null
	wait "$GEN_PID" 2>/dev/null
	pids=()
}

# bench-cost MODE: the source starts once the program is bound.
# Sets RES to "instructions packets".
run_cost() { # NAME MODE [source args]
	local name=$1 mode=$2 out=$TMP/$1 pid n; shift 2
	ip netns exec "$NS_R" valgrind --tool=callgrind --collect-atstart=no \
		--toggle-collect='cost_burst_*' --dump-instr=yes \
		--cache-sim=yes --callgrind-out-file="$out.cg" \
		"$BIN/bench-cost" -i "$VR" -m "$mode" -c $RX_CPU -n "$BURSTS" \
		> "$out" 2> "$out.err" &
	pid=$!
	pids+=("$pid")
	if ! wait_for "$out.err" "ready on" "$pid"; then
		fail_case "$name" "$out" "$out.err"; return 1
	fi
	livegen "$out.gen" "$@"
	if ! wait "$pid"; then
		stop_source
		fail_case "$name" "$out" "$out.err" "$out.gen"; return 1
	fi
	stop_source
	n=$(key "$out" packets)
	[ "$(key "$out" rescues)" = 0 ] ||
		echo "# cost: $name: WARNING: the wait serviced the port" \
		     "$(key "$out" rescues) times out of the count"
	RES="$(collected "$out") $n"
	echo "$name $(drefs "$out") $n" >> "$TMP/drefs"
}

# Calls to FUNCTION in a callgrind file (all callers together).
calls_to() { # CGFILE FUNCTION
	callgrind_annotate --tree=caller "$1" 2>/dev/null |
		awk -v f=":$2 " '$0 ~ /=>/ && index($0, f) {
			if (match($0, /\(([0-9,]+)x\)/)) {
				c = substr($0, RSTART + 1, RLENGTH - 3)
				gsub(",", "", c); n += c
			}
		} END { print n + 0 }'
}

# xmbuf-lb's worker under callgrind for LB_SECS.  Its loop polls an empty
# ring now and then (the source pauses between BPF_PROG_RUN calls, the
# machine's load delays it), and how often depends on timing; so an idle
# iteration (empty RX burst, xm_port_tx_pending; the only caller of
# that) is measured on its own first, with no traffic at all, and that
# many instructions times the run's idle iterations are taken off.  What
# an idle iteration does beyond that (a refill, a flush) stays counted:
# it is work the packets caused.
run_lb() {
	local out=$TMP/lb idle cal_ir cal_n ir
	ip netns exec "$NS_R" valgrind --tool=callgrind --collect-atstart=no \
		--toggle-collect=worker_main --callgrind-out-file="$out.cal.cg" \
		"$BIN/xmbuf-lb" -i "$VR" -c "$TMP/lb.conf" -q 0 --cpus $RX_CPU \
		-d 2 -Q --json > "$out.cal" 2> "$out.cal.err" ||
		{ fail_case lb "$out.cal" "$out.cal.err"; return 1; }
	cal_ir=$(collected "$out.cal")
	cal_n=$(calls_to "$out.cal.cg" xm_port_tx_pending)
	livegen "$out.gen" -f "$FLOWS" --sink "$VG"
	ip netns exec "$NS_R" valgrind --tool=callgrind --collect-atstart=no \
		--toggle-collect=worker_main --callgrind-out-file="$out.cg" \
		"$BIN/xmbuf-lb" -i "$VR" -c "$TMP/lb.conf" -q 0 --cpus $RX_CPU \
		-d "$LB_SECS" -Q --json > "$out" 2> "$out.err"
	local rc=$?
	stop_source
	[ $rc = 0 ] || { fail_case lb "$out" "$out.err" "$out.gen"; return 1; }
	[ "${cal_n:-0}" -gt 0 ] || { echo "cost: lb: no idle calibration" >&2; return 1; }
	idle=$(calls_to "$out.cg" xm_port_tx_pending)
	ir=$(collected "$out")
	echo "# lb: $idle idle iterations of $((cal_ir / cal_n)) instructions" \
	     "(calibration: $cal_n without traffic) taken off $ir"
	RES="$(awk -v ir="$ir" -v ci="$cal_ir" -v cn="$cal_n" -v i="$idle" \
		'BEGIN { printf "%.0f", ir - i * ci / cn }') $(jkey "$out" rx_packets)"
}

run_capture() {
	local out=$TMP/capture
	pktgen_src "$out.gen"
	ip netns exec "$NS_R" valgrind --tool=callgrind --collect-atstart=no \
		--toggle-collect=cap_worker_main --callgrind-out-file="$out.cg" \
		"$BIN/xmbuf-capture" -i "$VR" --inline --force \
		-w "$TMP/cap.pcapng" -c "$PACKETS" -B 4096 --queues 0 --cpus $RX_CPU \
		--duration 120 --quiet --json > "$out" 2> "$out.err"
	local rc=$?
	stop_source
	rm -f "$TMP/cap.pcapng"
	[ $rc = 0 ] || { fail_case capture "$out" "$out.err" "$out.gen"; return 1; }
	RES="$(collected "$out") $(jkey "$out" written)"
}

run_pktgen() {
	local out=$TMP/pktgen sink
	ip netns exec "$NS_G" "$BIN/xm-sink" -i "$VG" -d 600 \
		> "$out.sink" 2>&1 &
	sink=$!
	pids+=("$sink")
	ip netns exec "$NS_R" valgrind --tool=callgrind --collect-atstart=no \
		--toggle-collect=pg_tx_worker --callgrind-out-file="$out.cg" \
		"$BIN/xmbuf-pktgen" tx -i "$VR" --cpus $RX_CPU -n "$PACKETS" \
		-s 64 --dst-mac "$GEN_MAC" --src 198.18.0.2 --dst 198.18.0.1 \
		-Q --json > "$out" 2> "$out.err"
	local rc=$?
	kill -TERM "$sink" 2>/dev/null
	wait "$sink" 2>/dev/null
	pids=()
	[ $rc = 0 ] || { fail_case pktgen "$out" "$out.err"; return 1; }
	RES="$(collected "$out") $(jkey "$out" sent)"
}

run_case() { # CASE
	local c=$1
	RES=""
	case $c in
	rx_xmbuf)  run_cost "$c" xm-rxdrop ;;
	rx_raw)    run_cost "$c" raw-rxdrop ;;
	fwd_xmbuf) run_cost "$c" xm-fwd --sink "$VG" ;;
	fwd_raw)   run_cost "$c" raw-fwd --sink "$VG" ;;
	lb)        run_lb ;;
	capture)   run_capture ;;
	pktgen)    run_pktgen ;;
	*) echo "cost: unknown case $c" >&2; return 1 ;;
	esac || return 1
	set -- $RES
	if [ $# -ne 2 ] || [ "${2:-0}" -le 0 ]; then
		echo "cost: case $c gave no figure ($RES)" >&2
		return 1
	fi
	[ -n "${COST_KEEP:-}" ] && cp "$TMP/$c.cg" "$COST_KEEP/$c.callgrind.out"
	echo "$c $1 $2" >> "$TMP/results"
	echo "# $c: $1 instructions, $2 packets"
	# A closed AF_XDP socket lets go of its queue from a kernel work
	# item; give it time before the next case binds the same queue.
	sleep 0.5
}

echo "# cost: callgrind on CPU $RX_CPU, source on CPU $GEN_CPU, 64-byte" \
     "frames, veth copy mode; bench-cost: $BURSTS bursts of 64"
read -r -a cases <<< "${COST_CASES:-rx_xmbuf rx_raw fwd_xmbuf fwd_raw lb capture pktgen}"
status=0
: > "$TMP/results"
for c in "${cases[@]}"; do
	run_case "$c" || { status=1; break; }
done

touch "$TMP/drefs"
awk '
FILENAME ~ /drefs$/ { dr[$1] = $2 / $3; next }
{ ir[$1] = $2; pk[$1] = $3 }
# A case that counted nothing measured nothing: its function was not
# found (renamed?) or never ran.  A figure of 0 is an error, not a cost.
function per_check(c) {
	if ((c in ir) && ir[c] + 0 == 0) {
		printf "cost: %s: callgrind counted no instructions (is its " \
		       "--toggle-collect function still there?)\n", c > "/dev/stderr"
		bad = 1
		delete ir[c]
	}
}
function dref(bench, c) {
	if (c in dr)
		printf "BENCH %s %.1f references\n", bench, dr[c]
}
function per(bench, c) {
	per_check(c)
	if (!(c in ir)) return
	v[c] = ir[c] / pk[c]
	printf "BENCH %s %.1f instructions\n", bench, v[c]
}
function ratio(bench, a, b) {
	if ((a in v) && (b in v) && v[b] > 0)
		printf "BENCH %s %.3f ratio\n", bench, v[a] / v[b]
}
END {
	per("cost_rxdrop_instr_per_pkt", "rx_xmbuf")
	per("cost_rxdrop_raw_instr_per_pkt", "rx_raw")
	per("cost_fwd_instr_per_pkt", "fwd_xmbuf")
	per("cost_fwd_raw_instr_per_pkt", "fwd_raw")
	per("cost_lb_instr_per_pkt", "lb")
	per("cost_capture_instr_per_pkt", "capture")
	per("cost_pktgen_instr_per_pkt", "pktgen")
	dref("cost_rxdrop_dref_per_pkt", "rx_xmbuf")
	dref("cost_rxdrop_raw_dref_per_pkt", "rx_raw")
	dref("cost_fwd_dref_per_pkt", "fwd_xmbuf")
	dref("cost_fwd_raw_dref_per_pkt", "fwd_raw")
	ratio("cost_rxdrop_vs_raw_ratio", "rx_xmbuf", "rx_raw")
	ratio("cost_fwd_vs_raw_ratio", "fwd_xmbuf", "fwd_raw")
	ratio("cost_lb_vs_fwd_ratio", "lb", "fwd_xmbuf")
	exit bad
}' "$TMP/drefs" "$TMP/results" || status=1
exit $status
