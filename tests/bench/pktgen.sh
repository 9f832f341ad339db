#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# pktgen.sh - the packet generator benchmark (`make bench B=pktgen`,
# through run.sh's bench_pktgen): peak transmit rate of xmbuf-pktgen's
# AF_XDP engine and live-frames engine against a raw libxdp txpush loop
# (peer-raw-txpush), netsniff-ng's trafgen and DPDK testpmd txonly on its
# AF_XDP driver, all into the same sink in the same invocation.
#
#   netns G (sender under test, CPU 0)        netns S (sink)
#   xmbuf-pktgen | peer-raw-txpush |  vG ====== vS  [xm-sink: XDP_DROP,
#   trafgen | testpmd txonly            veth        count every frame]
#
# The sink (tests/bpf/xm_test_dropk.bpf.c, k = 1) runs in the sender's softirq
# on the sender's CPU (a veth delivers there), so each sender's figure
# includes the same receive cost.  Every sender gets 64-byte UDP/IPv4
# frames (FCS excluded) and one CPU: CPU 0 (testpmd: its forwarding
# lcore on CPU 0, the main lcore on 1), at nice -10 all alike, so that
# other work on the 2-core machine disturbs the comparison less.
#
# Figure: frames the sink counted per second over the steady part of the
# run (from 0.5 s after the first frame to 0.3 s before the last), read
# from the sink's 10 Hz log, so no sender's start-up or teardown counts.
# Each round runs every case once, the order rotating between rounds;
# figures are medians over rounds, ratios the median of per-round
# ratios.  The ratios compare the AF_XDP engine (the framework's own
# path); the live engine is reported for the record.
#
# Kernel knobs.  In copy mode a sendto() kick sends at most
# XDP_MAX_TX_SKB_BUDGET descriptors (Linux 6.18+; 32 when not set).
#   xmbuf-pktgen afxdp   the port's default: the TX ring (2048)
#   raw                  not set: the kernel's 32, as a plain libxdp
#                        loop runs (pktgen_vs_raw_ratio)
#   rawbudget            the raw loop with -B 2048, the same knob as
#                        xmbuf (pktgen_vs_raw_budget_ratio)
#   trafgen              PF_PACKET (TX_RING): the knob does not exist
#   dpdk                 DPDK 22.11's net_af_xdp has no option for it:
#                        32; its TX loop kicks again on EAGAIN
# Measured here, the knob moves none of the AF_XDP senders by more than
# the noise between rounds: each kick's descriptors run through the
# veth and the sink one skb at a time either way.
#
# The ceiling.  rawhot is the raw loop with a 256-frame ring: its frames
# stay in cache and it does almost nothing in user space, so it is about
# as fast as a copy-mode AF_XDP sender gets here.  Its ratios to trafgen
# and testpmd (pktgen_ceiling_vs_trafgen_ratio,
# pktgen_ceiling_vs_dpdk_txonly_ratio) bound what any AF_XDP sender,
# xmbuf's included, can show against them on this path.
#
# Environment:
#   BIN              binaries (default build/bin)
#   PKTGEN_ROUNDS    rounds (default 5)
#   PKTGEN_SECONDS   seconds each sender runs (default 4)
#   PKTGEN_CASES     cases (default: afxdp live raw rawbudget rawhot
#                    trafgen dpdk)
#
# Exit status: 0 when every case ran; 1 otherwise (what failed is shown);
# 77 (skip) when not root.
set -u
BENCH_NAME=pktgen
. "$(dirname "$0")/lib.sh" || exit 1

BIN=${BIN:-build/bin}
ROUNDS=${PKTGEN_ROUNDS:-5}
SECS=${PKTGEN_SECONDS:-4}
SIZE=64
GEN_CPU=0
TESTPMD=${TESTPMD:-dpdk-testpmd}
TRAFGEN=${TRAFGEN:-trafgen}

bench_need_root

read -r -a cases <<< "${PKTGEN_CASES:-afxdp live raw rawbudget rawhot trafgen dpdk}"
cmds=(ip sysctl awk)
# A peer named by its Debian command is checked with the others; one
# given as TRAFGEN= or TESTPMD= must merely exist.
need_peer() { # CMD DEFAULT
	if [ "$1" = "$2" ]; then
		cmds+=("$1")
	else
		command -v "$1" > /dev/null || die "no $1"
	fi
}
for c in "${cases[@]}"; do
	case $c in
	afxdp|live) b=$BIN/xmbuf-pktgen ;;
	raw|rawbudget|rawhot) b=$BIN/peer-raw-txpush ;;
	trafgen) need_peer "$TRAFGEN" trafgen; continue ;;
	dpdk) need_peer "$TESTPMD" dpdk-testpmd; continue ;;
	*) die "unknown case '$c'" ;;
	esac
	[ -x "$b" ] || die "missing $b (make BUILD=... bench builds it)"
done
[ -x "$BIN/xm-sink" ] || die "missing $BIN/xm-sink"
bench_preflight "${cmds[@]}"

id=$$
NICE=(nice -n -10)
NS_G=xmpg$id
NS_S=xmps$id
VG=xpg$id
VS=xps$id
TMP=$(mktemp -d /tmp/xmbuf-pktgen.XXXXXX) || exit 1
pids=()

teardown() {
	bench_stop_pids "${pids[@]}"
	ip netns del "$NS_G" 2>/dev/null
	ip netns del "$NS_S" 2>/dev/null
	rm -rf "$TMP"
}
trap teardown EXIT
trap 'exit 1' INT TERM

# ------------------------------------------------------------ the network
ip netns add "$NS_G" || die "cannot create namespace $NS_G"
ip netns add "$NS_S" || die "cannot create namespace $NS_S"
ip link add "$VG" netns "$NS_G" type veth peer name "$VS" netns "$NS_S" ||
	die "cannot create veth pair"
bench_no_ipv6 "$NS_G" "$NS_S"
ip -n "$NS_G" link set "$VG" up
ip -n "$NS_S" link set "$VS" up
ip -n "$NS_G" addr add 198.18.0.1/30 dev "$VG"
ip -n "$NS_S" addr add 198.18.0.2/30 dev "$VS"
G_MAC=$(ip netns exec "$NS_G" cat "/sys/class/net/$VG/address")
S_MAC=$(ip netns exec "$NS_S" cat "/sys/class/net/$VS/address")

# trafgen's frame: the same 64 bytes the others send (UDP/IPv4
# 198.18.0.1:1024 -> 198.18.0.2:9, IP checksum filled, UDP checksum 0).
hexmac() { echo "$1" | sed 's/^/0x/; s/:/, 0x/g'; }
cat > "$TMP/trafgen.cfg" <<EOF
{
  $(hexmac "$S_MAC"), $(hexmac "$G_MAC"), c16(0x0800),
  0x45, 0x00, c16(50), c16(0), 0x40, 0x00, 64, 17, csumip(14, 33),
  198, 18, 0, 1, 198, 18, 0, 2,
  c16(1024), c16(9), c16(30), c16(0),
  fill(0x00, 22)
}
EOF

# The steady rate in a sink log ("time count" lines): from 0.5 s after
# the count first moved to 0.3 s before it last moved.  Prints Mpps.
steady_rate() { # LOG
	awk '
	{ t[NR] = $1; c[NR] = $2 }
	END {
		first = 0; last = 0
		for (i = 2; i <= NR; i++)
			if (c[i] > c[i - 1]) { if (!first) first = i - 1; last = i }
		if (!first) exit 1
		w0 = t[first] + 0.5; w1 = t[last] - 0.3
		a = 0; b = 0
		for (i = first; i <= last; i++) {
			if (!a && t[i] >= w0) a = i
			if (t[i] <= w1) b = i
		}
		if (!a || b <= a) exit 1
		printf "%.4f\n", (c[b] - c[a]) / (t[b] - t[a]) / 1e6
	}' "$1"
}

# Runs one sender for SECS seconds into a fresh sink; sets RES to its
# Mpps.  Runs in this shell (not a subshell): teardown must see its pids.
run_case() { # CASE OUT
	local c=$1 out=$2 sink_pid pid rc=0
	ip netns exec "$NS_S" "$BIN/xm-sink" -i "$VS" -d $((SECS + 60)) \
		> "$out.sink" 2> "$out.sink.err" &
	sink_pid=$!
	pids+=("$sink_pid")
	if ! wait_for "$out.sink.err" "ready on" "$sink_pid"; then
		fail_case "$c (sink)" "$out.sink.err"; return 1
	fi
	case $c in
	afxdp|live)
		# -s counts the FCS: SIZE bytes on the wire, as the raw
		# senders' -s and testpmd's --txpkts
		ip netns exec "$NS_G" "${NICE[@]}" "$BIN/xmbuf-pktgen" tx -i "$VG" \
			--engine "$([ "$c" = live ] && echo live || echo afxdp)" \
			-s $((SIZE + 4)) -d "$SECS" --cpus $GEN_CPU --dst-mac "$S_MAC" -Q \
			--json > "$out" 2> "$out.err" || rc=1
		;;
	raw|rawbudget|rawhot)
		# rawbudget: the copy-mode budget xmbuf's port sets (its TX
		# ring, which is the raw loop's default ring too); rawhot:
		# 256 frames, all in cache (the ceiling, see above)
		ip netns exec "$NS_G" "${NICE[@]}" "$BIN/peer-raw-txpush" -i "$VG" -s $SIZE \
			-d "$SECS" -c $GEN_CPU --dst-mac "$S_MAC" \
			$([ "$c" = rawbudget ] && echo "-r 2048 -B 2048") \
			$([ "$c" = rawhot ] && echo "-r 256") \
			> "$out" 2> "$out.err" || rc=1
		;;
	trafgen)
		# -P 1: one process, which trafgen binds to CPU 0 itself
		ip netns exec "$NS_G" "${NICE[@]}" timeout -s INT "$SECS" "$TRAFGEN" \
			-o "$VG" -i "$TMP/trafgen.cfg" -P 1 -C \
			> "$out" 2> "$out.err"
		rc=$?
		[ $rc = 124 ] || [ $rc = 0 ] && rc=0
		;;
	dpdk)
		# non-interactive testpmd exits when stdin closes; the
		# forwarding lcore is CPU 0 like the others' sender
		sleep "$SECS" | ip netns exec "$NS_G" "${NICE[@]}" "$TESTPMD" -l 0,1 \
			--main-lcore 1 --no-pci --no-huge -m 256 --no-shconf \
			--log-level=lib.eal:error \
			--vdev "net_af_xdp0,iface=$VG,start_queue=0,queue_count=1" \
			-- --forward-mode=txonly --txpkts=$SIZE \
			--eth-peer=0,"$S_MAC" --txd=2048 --burst=64 \
			--total-num-mbufs=16384 --auto-start \
			> "$out" 2>&1 || rc=1
		;;
	esac
	sleep 0.3
	kill -INT "$sink_pid" 2>/dev/null
	wait "$sink_pid"
	pids=("${pids[@]/$sink_pid}")
	if [ $rc != 0 ]; then
		fail_case "$c" "$out" "$out.err"; return 1
	fi
	if ! RES=$(steady_rate "$out.sink"); then
		fail_case "$c (no steady traffic at the sink)" "$out" \
			"$out.err" "$out.sink"
		return 1
	fi
}

echo "# pktgen: $ROUNDS rounds, $SECS s per sender, $SIZE-byte frames," \
     "sender on CPU $GEN_CPU, XDP_DROP sink on the veth peer (same CPU)"
: > "$TMP/results"
status=0
for r in $(seq 1 "$ROUNDS"); do
	n=${#cases[@]}
	for i in $(seq 0 $((n - 1))); do
		c=${cases[$(( (i + r - 1) % n ))]}
		RES=""
		if ! run_case "$c" "$TMP/$c.$r"; then
			status=1
			break 2
		fi
		echo "$r $c $RES" >> "$TMP/results"
		echo "# round $r $c: $RES Mpps at the sink"
	done
done

# what our sender said about itself, for the record
if [ -s "$TMP/afxdp.1" ]; then
	echo "# xmbuf-pktgen afxdp round 1: $(head -c 600 "$TMP/afxdp.1")"
fi

awk -v rounds="$ROUNDS" "$BENCH_AWK_MEDIAN"'
function figure(bench, c, remark,    r, n, a) {
	n = 0
	for (r = 1; r <= rounds; r++)
		if ((r, c) in v)
			a[++n] = v[r, c]
	if (n == 0) { bad = 1; return }
	if (remark)
		printf "# %s %.3f Mpps (median)\n", bench, median(a, n)
	else
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
{ v[$1, $2] = $3; seen[$2] = 1 }
END {
	if ("raw" in seen) figure("raw_txpush_mpps", "raw", 1)
	if ("rawbudget" in seen)
		figure("raw_txpush_budget_mpps", "rawbudget", 1)
	if ("rawhot" in seen)
		figure("raw_txpush_hot_mpps", "rawhot", 1)
	if ("trafgen" in seen) figure("trafgen_mpps", "trafgen", 1)
	if ("dpdk" in seen) figure("dpdk_txonly_mpps", "dpdk", 1)
	if ("afxdp" in seen) figure("pktgen_afxdp_mpps", "afxdp", 0)
	if ("live" in seen) figure("pktgen_live_mpps", "live", 0)
	if ("raw" in seen) ratio("pktgen_vs_raw_ratio", "afxdp", "raw")
	if ("rawbudget" in seen)
		ratio("pktgen_vs_raw_budget_ratio", "afxdp", "rawbudget")
	if ("trafgen" in seen)
		ratio("pktgen_vs_trafgen_ratio", "afxdp", "trafgen")
	if ("dpdk" in seen)
		ratio("pktgen_vs_dpdk_txonly_ratio", "afxdp", "dpdk")
	if ("rawhot" in seen && "trafgen" in seen)
		ratio("pktgen_ceiling_vs_trafgen_ratio", "rawhot", "trafgen")
	if ("rawhot" in seen && "dpdk" in seen)
		ratio("pktgen_ceiling_vs_dpdk_txonly_ratio", "rawhot", "dpdk")
	exit bad
}' "$TMP/results" || status=1
exit $status
