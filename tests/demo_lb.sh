#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# demo_lb.sh - `make demo-lb`: xmbuf-lb past one machine, on one machine.
# Two balancers behind a router's ECMP route, each announcing the VIP by
# BGP through its own BIRD 2 while it can serve it; three backends with
# xmbuf-decap and a small TCP service (tests/lib/lb_ecmp.sh draws it).
#
#   cli --- rt (BIRD: ECMP over the balancers, L4 hash) --- br0
#                                  lb1, lb2: xmbuf-lb + BIRD --+
#                        be1..be3: xmbuf-decap + TCP echo -----+
#
# It opens long-lived TCP connections from the client to the VIP (the
# router spreads them over both balancers), kills one balancer with
# SIGKILL, shows the route withdrawn and every connection still
# answering (the other balancer sends each flow to the backend it had:
# same key, same services), brings the balancer back and checks again.
#
# Everything it creates (namespaces, daemons, XDP programs, files) is
# removed on exit, also when it fails or is interrupted.  Addresses in
# 198.18.0.0/15.
#
# Environment:
#   BIN             binaries (default build/bin)
#   DEMO_CONNS      connections (default 300)
#
# Exit status: 0 when every check passed; 1 when one failed; 2 when it
# cannot run here (not root, a tool missing).
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/bench/lib.sh" || exit 2
. "$here/lib/lb_ecmp.sh" || exit 2

BIN=${BIN:-build/bin}
N=${DEMO_CONNS:-300}
VIP=$ECMP_VIP

say() { printf 'demo-lb: %s\n' "$*"; }
fail() { printf 'demo-lb: FAILED: %s\n' "$*" >&2; exit 1; }
cannot() { printf 'demo-lb: %s\n' "$*" >&2; exit 2; }

[ "$(id -u)" = 0 ] || cannot "needs root (network namespaces, XDP, AF_XDP): run 'sudo make demo-lb'"
for b in xmbuf-lb xmbuf-decap xm-tcpecho; do
	[ -x "$BIN/$b" ] || cannot "missing $BIN/$b (run 'make demo-lb')"
done
xm_need_cmds demo-lb ip sysctl bird birdc || exit 2
BIN=$(cd "$BIN" && pwd)
export DECAP=$BIN/xmbuf-decap

DIR=$(mktemp -d /tmp/xmbuf-demo-lb.XXXXXX) || exit 2
lbpid=(0 0)
srv=0
cli_pid=0
cleanup() {
	local p
	for p in "${lbpid[@]}" "$srv" "$cli_pid"; do
		[ "$p" != 0 ] && { kill -9 "$p"; wait "$p"; } 2>/dev/null
	done
	ecmp_down "$DIR"
	rm -rf "$DIR"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

ecmp_up "$DIR" "xmd$$_" > "$DIR/up.log" 2>&1 || { cat "$DIR/up.log" >&2; fail "topology"; }
for n in rt lb1 lb2; do
	ecmp_bird_start "$DIR" $n || fail "BIRD in $n"
done
ecmp_wait_bgp "$DIR" 30 || fail "BGP sessions did not come up"
"$BIN/xm-tcpecho" serve "$VIP:80" "$(ecmp_ns "$DIR" be1)=1" \
	"$(ecmp_ns "$DIR" be2)=2" "$(ecmp_ns "$DIR" be3)=3" &
srv=$!

cat > "$DIR/lb.conf" <<EOC
# The same on both balancers: same key, same services and weights,
# same table size, so both send every flow to the same backend.
key 5ca1ab1e0ddba11cafef00d15ea5e000
src-prefix 198.18.128.0/17
vip $VIP tcp 80
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

wait_nexthops() { # WANT
	local end=$((SECONDS + 15))
	while [ $SECONDS -lt $end ]; do
		[ "$(ecmp_nexthops "$DIR")" = "$1" ] && return 0
		sleep 0.05
	done
	return 1
}

route() {
	ip -n "$(ecmp_ns "$DIR" rt)" route show "$VIP" | tr -s ' \t\n' ' '
}

lb_start 1
lb_start 2
wait_nexthops 2 || fail "the router has $(ecmp_nexthops "$DIR") next hop(s) for $VIP, not 2"
say "router:   $(route)"

coproc CLI { ip netns exec "$(ecmp_ns "$DIR" cli)" "$BIN/xm-tcpecho" client \
	"$(ecmp_ns "$DIR" cli)" "$VIP:80" "$N" 2>&1; }
cli_pid=$CLI_PID
ask() { # COMMAND -> the answer line
	local line
	echo "$1" >&"${CLI[1]}"
	read -r -t 60 line <&"${CLI[0]}" || fail "no answer from the client to '$1'"
	printf '%s\n' "$line"
}
read -r -t 60 opened <&"${CLI[0]}" || fail "the client could not open $N connections"
say "client:   $opened (through both balancers)"
r=$(ask check); say "          $r"
case $r in "check: $N of $N answered"*) ;; *) fail "$r" ;; esac

{ kill -9 "${lbpid[0]}"; wait "${lbpid[0]}"; } 2>/dev/null; lbpid[0]=0
t0=$(date +%s%N)
wait_nexthops 1 || fail "the route was not withdrawn after SIGKILL"
say "SIGKILL lb1: route withdrawn in $((($(date +%s%N) - t0) / 1000000)) ms: $(route)"
r=$(ask check); say "          $r"
case $r in "check: $N of $N answered, 0 reset"*) ;; *) fail "after the failover: $r" ;; esac

lb_start 1
wait_nexthops 2 || fail "lb1 was not announced again"
say "lb1 back: $(route)"
r=$(ask check); say "          $r"
case $r in "check: $N of $N answered, 0 reset"*) ;; *) fail "after lb1 came back: $r" ;; esac
echo quit >&"${CLI[1]}"
say "ok: every connection kept its backend through the failover and back"
