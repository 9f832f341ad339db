#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# lb-ecmp.sh - two balancers behind a router's ECMP route (`make bench
# B=lb-ecmp`, through run.sh's bench_lb-ecmp), in the topology of
# tests/lib/lb_ecmp.sh: the client's namespace, a router running BIRD
# (ECMP over both balancers, L4 hash), two xmbuf-lb + BIRD, three
# backends with xmbuf-decap and a TCP echo service.
#
# 1. lb_ecmp_scaling_ratio: UDP from xmbuf-pktgen in the client's
#    namespace (64-byte frames, 4096 flows, as fast as it goes) through
#    the router to the VIP, counted where it arrives: packets the
#    backends' xmbuf-decap stripped, per second of sending.  With both
#    balancers announcing against one (the other stopped, its route
#    withdrawn), alternating, LBE_ROUNDS rounds; the ratio is the median
#    of the per-round ratios.  On a 2-core machine the router, the
#    balancers and the source share the cores, so this is bounded well
#    below 2; the figure says what it is.
# 2. lb_failover_lost_flows: LBE_CONNS long-lived TCP connections, each
#    asked for an echo every LBE_EVERY_MS milliseconds (a fixed offered
#    rate) for LBE_WATCH seconds, during which one balancer is killed
#    with SIGKILL; a connection that was reset or stopped answering is
#    lost.  The goal is 0.
#
# Environment:
#   BIN            binaries (default build/bin)
#   LBE_ROUNDS     rounds of the rate case (default 3)
#   LBE_SECONDS    seconds of traffic per case (default 2)
#   LBE_CONNS      connections of the failover (default 200)
#   LBE_WATCH      seconds of the failover watch (default 6)
#   LBE_EVERY_MS   echo period per connection (default 100)
#
# Exit status: 0 when every case ran and nothing was lost; 1 otherwise;
# 77 (skip) when not root.
set -u
BENCH_NAME=lb-ecmp
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh" || exit 1
. "$here/../lib/lb_ecmp.sh" || exit 1

BIN=${BIN:-build/bin}
ROUNDS=${LBE_ROUNDS:-3}
SECS=${LBE_SECONDS:-2}
CONNS=${LBE_CONNS:-200}
WATCH=${LBE_WATCH:-6}
EVERY=${LBE_EVERY_MS:-100}
VIP=$ECMP_VIP

bench_need_root
for b in xmbuf-lb xmbuf-decap xmbuf-pktgen xm-tcpecho; do
	[ -x "$BIN/$b" ] || die "missing $BIN/$b (make bench builds it)"
done
bench_preflight ip sysctl awk bird birdc
BIN=$(cd "$BIN" && pwd)
export DECAP=$BIN/xmbuf-decap

DIR=$(mktemp -d /tmp/xmbuf-lb-ecmp.XXXXXX) || exit 1
lbpid=(0 0)
pids=()
teardown() {
	local p
	for p in "${lbpid[@]}"; do
		[ "$p" != 0 ] && { kill -9 "$p"; wait "$p"; } 2>/dev/null
	done
	bench_stop_pids "${pids[@]}"
	ecmp_down "$DIR"
	rm -rf "$DIR"
}
trap teardown EXIT
trap 'exit 1' INT TERM

ecmp_up "$DIR" "xmb$$_" > "$DIR/up.log" 2>&1 || { cat "$DIR/up.log" >&2; die "topology"; }
for n in rt lb1 lb2; do ecmp_bird_start "$DIR" $n || die "BIRD in $n"; done
ecmp_wait_bgp "$DIR" 30 || die "BGP sessions did not come up"
"$BIN/xm-tcpecho" serve "$VIP:80" "$(ecmp_ns "$DIR" be1)=1" \
	"$(ecmp_ns "$DIR" be2)=2" "$(ecmp_ns "$DIR" be3)=3" &
pids+=($!)

cat > "$DIR/lb.conf" <<EOC
key 5ca1ab1e0ddba11cafef00d15ea5e000
src-prefix 198.18.128.0/17
pin-rate 0
vip $VIP tcp 80
  backend 198.18.1.11 mac 02:00:00:00:01:0b
  backend 198.18.1.12 mac 02:00:00:00:01:0c
  backend 198.18.1.13 mac 02:00:00:00:01:0d
vip $VIP udp 9
  backend 198.18.1.11 mac 02:00:00:00:01:0b
  backend 198.18.1.12 mac 02:00:00:00:01:0c
  backend 198.18.1.13 mac 02:00:00:00:01:0d
EOC

lb_start() { # 1|2
	local i=$1
	ip netns exec "$(ecmp_ns "$DIR" lb$i)" "$BIN/xmbuf-lb" -i "el$((i - 1))" \
		-c "$DIR/lb.conf" -p -Q --bird-routes "$DIR/lb$i.routes" \
		--birdc-socket "$DIR/bird-lb$i.ctl" --ctl "$DIR/lb$i.sock" \
		> "$DIR/lb$i.out" 2>> "$DIR/lb$i.err" &
	lbpid[$((i - 1))]=$!
}
lb_stop() { # 1|2 [SIGNAL]
	local i=$1
	# one block: the shell's "Killed" notice goes where its stderr goes
	{ kill "-${2:-TERM}" "${lbpid[$((i - 1))]}"
	  wait "${lbpid[$((i - 1))]}"; } 2>/dev/null
	lbpid[$((i - 1))]=0
}
wait_nexthops() { # WANT
	local end=$((SECONDS + 15))
	while [ $SECONDS -lt $end ]; do
		[ "$(ecmp_nexthops "$DIR")" = "$1" ] && return 0
		sleep 0.05
	done
	return 1
}
# Packets the backends stripped, all three.
decapped() {
	local i s=0 v
	for i in 1 2 3; do
		v=$(ip netns exec "$(ecmp_ns "$DIR" be$i)" "$BIN/xmbuf-decap" \
			-i "eb$i" --stats --json | tr ',' '\n' |
			awk -F: '/"ipip"/ { print $2 + 0; exit }')
		s=$((s + ${v:-0}))
	done
	echo $s
}
# Mpps through the balancers for SECS seconds of sending.
rate() {
	local before after
	before=$(decapped)
	ip netns exec "$(ecmp_ns "$DIR" cli)" "$BIN/xmbuf-pktgen" tx -i ec \
		--dst-mac 02:00:00:00:0a:01 --src 198.18.10.2 --dst "$VIP" \
		-s 64 --flows 4096 -d "$SECS" -Q > "$DIR/pktgen.out" 2>&1 ||
		{ cat "$DIR/pktgen.out" >&2; return 1; }
	# the last packets still on their way
	sleep 0.3
	after=$(decapped)
	awk -v d=$((after - before)) -v s="$SECS" 'BEGIN { printf "%.4f\n", d / s / 1e6 }'
}

lb_start 1
lb_start 2
wait_nexthops 2 || die "the route did not get both balancers"

# ------------------------------------------------------------ 1. rate
: > "$DIR/results"
status=0
for r in $(seq 1 "$ROUNDS"); do
	[ "$(ecmp_nexthops "$DIR")" = 2 ] || { lb_start 2; wait_nexthops 2 || die "lb2 not back"; }
	two=$(rate) || { fail_case two "$DIR/lb1.err" "$DIR/lb2.err"; status=1; break; }
	lb_stop 2
	wait_nexthops 1 || die "lb2's route not withdrawn"
	one=$(rate) || { fail_case one "$DIR/lb1.err"; status=1; break; }
	echo "# lb-ecmp round $r: two balancers $two Mpps, one $one Mpps"
	echo "$r two $two" >> "$DIR/results"
	echo "$r one $one" >> "$DIR/results"
done
[ "$(ecmp_nexthops "$DIR")" = 2 ] || { lb_start 2; wait_nexthops 2 || die "lb2 not back"; }
awk -v rounds="$ROUNDS" "$BENCH_AWK_MEDIAN$BENCH_AWK_ROUNDS"'
{ v[$1, $2] = $3 }
END {
	figure("lb_ecmp_two_mpps", "two")
	figure("lb_ecmp_one_mpps", "one")
	ratio("lb_ecmp_scaling_ratio", "two", "one")
	exit bad
}' "$DIR/results" || status=1

# -------------------------------------------------------- 2. failover
coproc CLI { ip netns exec "$(ecmp_ns "$DIR" cli)" "$BIN/xm-tcpecho" client \
	"$(ecmp_ns "$DIR" cli)" "$VIP:80" "$CONNS" 2>&1; }
pids+=("$CLI_PID")
read -r -t 60 opened <&"${CLI[0]}" || die "the client could not open $CONNS connections"
echo "# lb-ecmp failover: $opened"
echo "watch $WATCH $EVERY" >&"${CLI[1]}"
sleep $((WATCH / 3))
t0=$(date +%s%N)
lb_stop 1 KILL
wait_nexthops 1 || die "lb1's route not withdrawn after SIGKILL"
echo "# lb-ecmp failover: SIGKILL lb1, route withdrawn in $((($(date +%s%N) - t0) / 1000000)) ms"
read -r -t $((WATCH + 120)) res <&"${CLI[0]}" || die "no answer from the client"
echo "# lb-ecmp failover: $res"
echo quit >&"${CLI[1]}"
lost=$(sed -n 's/.*, \([0-9]*\) lost$/\1/p' <<< "$res")
[ -n "$lost" ] || die "cannot read the client's answer: $res"
echo "BENCH lb_failover_lost_flows $lost flows"
[ "$lost" = 0 ] || status=1
exit $status
