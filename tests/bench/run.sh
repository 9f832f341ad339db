#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# Runs benchmarks by name and prints their figures, one per line:
#   BENCH <name> <value> <unit>
# Lines starting with '#' are remarks (memory used, per-round values).
#
#   tests/bench/run.sh NAME...        (`make bench`, `make bench B=NAME`)
#
# Each benchmark NAME is a function bench_NAME below; add one per new
# benchmark.  Where a benchmark has a peer (DPDK, ...), ours and the
# peer run in turns in the same invocation, several rounds, and the ratio
# (ours divided by theirs) is printed as its own BENCH line: the machines
# have 2 cores and are noisy, so ratios measured side by side are the
# figures to read, never absolutes from different runs.
#
# Environment:
#   BIN            where the binaries are (default build/bin; the Makefile
#                  passes $(BIN))
#   ALLOC_ROUNDS   rounds of ours and DPDK in turns for `alloc` (default 7)
#   ALLOC_REPS     repetitions inside each binary, median taken (default 7)
#
# Before the first benchmark runs, every one asked for checks what it
# needs (binaries, commands and their Debian packages): a missing package
# fails the run at once, not after the benchmarks before it.
#
# Exit status: 0 when every benchmark ran; 1 when a binary, a command is
# missing or a benchmark failed (its output is shown); 2 for an unknown
# name.
set -u
. "$(dirname "$0")/lib.sh" || exit 1

BIN=${BIN:-build/bin}
TMP=$(mktemp -d /tmp/xmbuf-bench.XXXXXX) || exit 1
hp_orig=""

cleanup() {
	# Give back the hugepages this script reserved; pages still mapped
	# by someone stay theirs (the kernel frees surplus pages on unmap).
	if [ -n "$hp_orig" ]; then
		echo "$hp_orig" > /proc/sys/vm/nr_hugepages 2>/dev/null
	fi
	rm -rf "$TMP"
}
trap cleanup EXIT

# A missing binary fails its benchmark, not the whole run.
need_bin() { # PATH
	[ -x "$1" ] && return 0
	echo "bench: missing benchmark binary $1 (build it with 'make bench', or 'make BUILD=... $1')" >&2
	return 1
}

meminfo() { # FIELD
	awk -v f="$1:" '$1 == f { print $2 }' /proc/meminfo
}

# Makes sure at least NEED free 2 MiB hugepages exist, raising
# vm.nr_hugepages when root; the original value comes back at exit.
# Leaves the number free afterwards in hp_free.
hp_free=0
hugepages_reserve() { # NEED
	local need=$1 total
	hp_free=$(meminfo HugePages_Free)
	total=$(meminfo HugePages_Total)
	if [ -z "$hp_free" ]; then
		hp_free=0
		return
	fi
	if [ "$hp_free" -lt "$need" ] && [ -w /proc/sys/vm/nr_hugepages ]; then
		[ -z "$hp_orig" ] && hp_orig=$(cat /proc/sys/vm/nr_hugepages)
		echo $((total + need - hp_free)) > /proc/sys/vm/nr_hugepages 2>/dev/null
		hp_free=$(meminfo HugePages_Free)
	fi
}

# Runs one binary, keeping its stdout in OUT; on failure shows what it
# printed.  @return the binary's status.
run_one() { # OUT CMD...
	local out=$1; shift
	if ! "$@" > "$out" 2> "$out.err"; then
		echo "bench: '$*' failed:" >&2
		cat "$out" "$out.err" >&2
		return 1
	fi
	return 0
}

# ------------------------------------------------------------- alloc
# xmbuf's allocator (bench-alloc: xm_getcl/xm_freem pairs, bursts of 32,
# producer/consumer across CPUs 0 and 1, plus malloc(2048) the same way)
# against DPDK's pktmbuf pool with a 256-entry lcore cache
# (peer-dpdk-alloc).  Both on 2 MiB hugepages when they can be had.
bench_alloc() {
	local rounds=${ALLOC_ROUNDS:-7} reps=${ALLOC_REPS:-7}
	local ours="$BIN/bench-alloc" peer="$BIN/peer-dpdk-alloc"
	local eal_mem eal_common r

	need_bin "$ours" || return 1
	need_bin "$peer" || return 1

	# The umem's default region is about 28 hugepages and the DPDK pool
	# about 11; they run one after the other, so 64 free covers either.
	hugepages_reserve 64
	# shellcheck disable=SC2054 # "-l 0,1" is one argument
	eal_common=(-l 0,1 --no-pci --log-level=lib.eal:error
		    --log-level=lib.telemetry:error)
	if [ "$hp_free" -ge 16 ]; then
		eal_mem=(--in-memory)
	else
		echo "# dpdk: only $hp_free free hugepages: --no-huge --no-shconf"
		eal_mem=(--no-huge --no-shconf)
	fi

	for r in $(seq 1 "$rounds"); do
		# Alternate who goes first, so drift in the machine's speed
		# during a round does not always favour the same side.
		if [ $((r % 2)) -eq 1 ]; then
			run_one "$TMP/ours.$r" "$ours" -r "$reps" || return 1
		fi
		if ! run_one "$TMP/peer.$r" "$peer" "${eal_common[@]}" \
		     "${eal_mem[@]}" -- -r "$reps"; then
			[ "${eal_mem[0]}" = "--in-memory" ] || return 1
			echo "# dpdk: --in-memory failed; falling back to --no-huge --no-shconf"
			eal_mem=(--no-huge --no-shconf)
			run_one "$TMP/peer.$r" "$peer" "${eal_common[@]}" \
				"${eal_mem[@]}" -- -r "$reps" || return 1
		fi
		if [ $((r % 2)) -eq 0 ]; then
			run_one "$TMP/ours.$r" "$ours" -r "$reps" || return 1
		fi
	done

	local xhp dhp
	xhp=$(sed -n 's/^# xmbuf: hugepages=\([a-z]*\).*/\1/p' "$TMP"/ours.* | sort -u | paste -sd/)
	dhp=$(sed -n 's/^# dpdk: hugepages=\([a-z]*\).*/\1/p' "$TMP"/peer.* | sort -u | paste -sd/)
	echo "# alloc: $rounds rounds of bench-alloc and peer-dpdk-alloc in turns," \
	     "$reps repetitions each; figures are medians over rounds," \
	     "ratios (ours/theirs) the median of the per-round ratios"
	echo "# xmbuf: hugepages=$xhp dpdk: hugepages=$dhp (EAL ${eal_mem[*]})"
	grep -h '^#' "$TMP/ours.1" "$TMP/peer.1"

	# One record per figure and round: "round name value".
	for r in $(seq 1 "$rounds"); do
		awk -v r="$r" '$1 == "BENCH" { print r, $2, $3 }' \
			"$TMP/ours.$r" "$TMP/peer.$r"
	done | awk -v rounds="$rounds" '
	function median(a, n,    i, j, t) {
		for (i = 2; i <= n; i++)
			for (j = i; j > 1 && a[j - 1] > a[j]; j--) {
				t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
			}
		return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	function figure(name,    r, n, a, list) {
		n = 0; list = ""
		for (r = 1; r <= rounds; r++)
			if ((r, name) in v) {
				a[++n] = v[r, name]; list = list " " v[r, name]
			}
		if (n == 0) {
			print "bench: no figure " name > "/dev/stderr"
			bad = 1
			return
		}
		printf "# %s rounds:%s\n", name, list
		printf "BENCH %s %.2f ns\n", name, median(a, n)
	}
	function ratio(name, num, den,    r, n, a, list) {
		n = 0; list = ""
		for (r = 1; r <= rounds; r++)
			if ((r, num) in v && (r, den) in v && v[r, den] > 0) {
				a[++n] = v[r, num] / v[r, den]
				list = list sprintf(" %.3f", a[n])
			}
		if (n == 0) {
			bad = 1
			return
		}
		printf "# %s rounds:%s\n", name, list
		printf "BENCH %s %.3f ratio\n", name, median(a, n)
	}
	{ v[$1, $2] = $3 }
	END {
		figure("alloc_pair_ns")
		figure("alloc_bulk32_ns_per_mbuf")
		figure("alloc_xthread_ns_per_mbuf")
		figure("alloc_pair_dpdk_ns")
		figure("alloc_bulk32_dpdk_ns_per_mbuf")
		figure("alloc_xthread_dpdk_ns_per_mbuf")
		figure("alloc_pair_malloc_ns")
		figure("alloc_bulk32_malloc_ns_per_mbuf")
		figure("alloc_xthread_malloc_ns_per_mbuf")
		ratio("alloc_pair_vs_dpdk_ratio", "alloc_pair_ns",
		      "alloc_pair_dpdk_ns")
		ratio("alloc_bulk32_vs_dpdk_ratio", "alloc_bulk32_ns_per_mbuf",
		      "alloc_bulk32_dpdk_ns_per_mbuf")
		ratio("alloc_xthread_vs_dpdk_ratio",
		      "alloc_xthread_ns_per_mbuf",
		      "alloc_xthread_dpdk_ns_per_mbuf")
		ratio("alloc_pair_vs_malloc_ratio", "alloc_pair_ns",
		      "alloc_pair_malloc_ns")
		ratio("alloc_bulk32_vs_malloc_ratio",
		      "alloc_bulk32_ns_per_mbuf",
		      "alloc_bulk32_malloc_ns_per_mbuf")
		ratio("alloc_xthread_vs_malloc_ratio",
		      "alloc_xthread_ns_per_mbuf",
		      "alloc_xthread_malloc_ns_per_mbuf")
		exit bad
	}'
}

preflight_alloc() {
	need_bin "$BIN/bench-alloc" && need_bin "$BIN/peer-dpdk-alloc" &&
		xm_need_cmds "bench: alloc" awk
}

# -------------------------------------------------------------- port
# The AF_XDP port layer on a veth pair fed by the live-frames source:
# rxdrop (bench-port) against a raw libxdp loop (peer-raw-rxdrop) and
# DPDK testpmd rxonly; xmbuf-fwd against testpmd macswap.  Needs root;
# tests/bench/port.sh has the details (PORT_ROUNDS, PORT_SECONDS, ...).
bench_port() {
	local rc
	BIN="$BIN" "$(dirname "$0")/port.sh"
	rc=$?
	# 77: skipped (not root), already said so loudly.
	[ $rc = 0 ] || [ $rc = 77 ]
}

# ---------------------------------------------------------------- lb
# xmbuf-lb (one VIP, 16 backends, 60000 flows: Maglev, connection table,
# IPIP in the headroom) against xmbuf-fwd's MAC swap, same live-frames
# source, alternating turns; BENCH lb_mpps and lb_vs_fwd_ratio (goal
# >= 0.85).  Needs root; tests/bench/lb.sh has the details (LB_ROUNDS,
# LB_SECONDS, LB_SIZE, LB_FLOWS).
bench_lb() {
	local rc
	BIN="$BIN" "$(dirname "$0")/lb.sh"
	rc=$?
	# 77: skipped (not root), already said so loudly.
	[ $rc = 0 ] || [ $rc = 77 ]
}

# ---------------------------------------------------------- xdp-cost
# What the kernel-side programs cost a packet, by the kernel's BPF
# statistics at a fixed rate: xmbuf-capture's inline redirect program
# (without and with a rule), its passive tcx copy program, and libxdp's
# default program under a raw AF_XDP loop (BENCH xdp_cost_*_ns and
# xdp_cost_inline_vs_rawxsk_ratio).  Needs root;
# tests/bench/xdp-cost.sh has the details.
bench_xdp-cost() {
	local rc
	BIN="$BIN" "$(dirname "$0")/xdp-cost.sh"
	rc=$?
	# 77: skipped (not root), already said so loudly.
	[ $rc = 0 ] || [ $rc = 77 ]
}

# ----------------------------------------------------------- lb-ecmp
# Two xmbuf-lb behind a router's ECMP route, announced by BGP (BIRD 2):
# forwarding rate through both against one (BENCH lb_ecmp_scaling_ratio,
# bounded on 2 cores), and connections lost while one balancer is killed
# under a fixed offered rate of echoes (BENCH lb_failover_lost_flows,
# goal 0).  Needs root; tests/bench/lb-ecmp.sh has the details.
bench_lb-ecmp() {
	local rc
	BIN="$BIN" "$(dirname "$0")/lb-ecmp.sh"
	rc=$?
	# 77: skipped (not root), already said so loudly.
	[ $rc = 0 ] || [ $rc = 77 ]
}

# ------------------------------------------------------------ pktgen
# xmbuf-pktgen's peak TX (AF_XDP engine, live-frames engine) into one
# XDP_DROP sink, against a raw libxdp txpush loop (peer-raw-txpush),
# netsniff-ng trafgen and DPDK testpmd txonly on net_af_xdp, 64-byte
# frames; BENCH pktgen_afxdp_mpps, pktgen_live_mpps and the ratios
# pktgen_vs_{raw,trafgen,dpdk_txonly}_ratio (goals 0.95, 1.5, 1.1).  Needs
# root; tests/bench/pktgen.sh has the details (PKTGEN_ROUNDS, ...).
bench_pktgen() {
	local rc
	BIN="$BIN" "$(dirname "$0")/pktgen.sh"
	rc=$?
	# 77: skipped (not root), already said so loudly.
	[ $rc = 0 ] || [ $rc = 77 ]
}

# ----------------------------------------------------------- capture
# xmbuf-capture's two paths against tcpdump -w (-B 256 MiB), with no
# capture, a plain XDP_DROP program and a raw libxdp AF_XDP loop as
# references: the highest offered rate (xmbuf-pktgen's live-frames
# source, 64-byte frames) at which each writes every packet to a file on
# tmpfs (and the host's UDP socket gets every one, where the packets go
# on to the stack); BENCH capture_passive_vs_tcpdump_ratio,
# capture_*_host_cost_ratio, capture_inline_vs_tcpdump_ratio,
# capture_inline_vs_ceiling_ratio, capture_rawxsk_vs_ceiling_ratio and
# capture_inline_vs_rawxsk_ratio.  Needs root; tests/bench/capture.sh has
# the details (CAPTURE_ROUNDS, CAPTURE_TOOLS, ...).
bench_capture() {
	local rc
	BIN="$BIN" "$(dirname "$0")/capture.sh"
	rc=$?
	# 77: skipped (not root), already said so loudly.
	[ $rc = 0 ] || [ $rc = 77 ]
}

# -------------------------------------------------------------- cost
# User-space instructions per packet of each data path under valgrind's
# callgrind (bench-cost's rxdrop and fwd, the raw libxdp loops, xmbuf-lb,
# xmbuf-capture, xmbuf-pktgen); BENCH cost_*_instr_per_pkt and the ratios
# cost_rxdrop_vs_raw_ratio, cost_fwd_vs_raw_ratio (goals <= 1.5) and
# cost_lb_vs_fwd_ratio (goal <= 3.0).  Needs root; tests/bench/cost.sh
# has the details (COST_BURSTS, COST_PACKETS, COST_KEEP, ...).
bench_cost() {
	local rc
	BIN="$BIN" "$(dirname "$0")/cost.sh"
	rc=$?
	# 77: skipped (not root), already said so loudly.
	[ $rc = 0 ] || [ $rc = 77 ]
}

# ---------------------------------------------------------- dispatch
known=$(declare -F | awk '$3 ~ /^bench_/ { sub(/^bench_/, "", $3); print $3 }' | paste -sd' ')

if [ $# -eq 0 ]; then
	echo "usage: $0 NAME...   (known: $known)" >&2
	exit 2
fi
for name in "$@"; do
	if ! declare -F "bench_$name" > /dev/null; then
		echo "bench: unknown benchmark '$name' (known: $known)" >&2
		exit 2
	fi
done

# The wire benchmarks check in their own script, which stops there with
# BENCH_PREFLIGHT=1 (lib.sh's bench_preflight); 77 is "not root", which
# their run reports as a skip.
preflight() { # NAME
	local rc
	if declare -F "preflight_$1" > /dev/null; then
		"preflight_$1"
		return
	fi
	BENCH_PREFLIGHT=1 BIN="$BIN" "$(dirname "$0")/$1.sh"
	rc=$?
	[ $rc = 0 ] || [ $rc = 77 ]
}
ready=1
for name in "$@"; do
	preflight "$name" || ready=0
done
[ $ready = 1 ] || { echo "bench: not run: see above" >&2; exit 1; }

status=0
for name in "$@"; do
	echo "# === $name"
	"bench_$name" || { echo "bench: $name FAILED" >&2; status=1; }
done
exit $status
