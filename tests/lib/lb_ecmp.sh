#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# lb_ecmp.sh - two xmbuf-lb balancers behind a router's ECMP route,
# announced by BGP (BIRD 2): the topology of `make demo-lb`, of the
# lb_ecmp integration suite and of `make bench B=lb-ecmp`.
#
#   cli 198.18.10.2 --ec/rc-- rt 198.18.10.1 (BIRD, AS 65000: kernel
#                             |   ECMP route per VIP, L4 hash)
#                             rf 198.18.1.254
#                             |
#            sw: bridge br0 --+-- lb1 198.18.1.2 (el0: xmbuf-lb + BIRD, AS 65001)
#                             +-- lb2 198.18.1.3 (el1: xmbuf-lb + BIRD)
#                             +-- be1..3 198.18.1.11..13 (ebK: xmbuf-decap,
#                                 VIP 198.18.2.1 on lo, default via .254)
#
# Backends answer the client directly through the router (direct server
# return).  BIRD configurations: the router's is examples/lb/bird/
# bird-router.conf as shipped; each balancer's is bird-balancer.conf
# with its own address and paths, including examples/lb/bird/
# xmbuf-lb.conf with the routes file DIR/lbN.routes.
#
#   lb_ecmp.sh up DIR PREFIX    build it; namespace names PREFIX<suffix>
#                               in DIR/ns; BIRD configurations in DIR
#   lb_ecmp.sh down DIR         kill the daemons of DIR/*.pid, delete
#                               the namespaces (also after a partial up)
#
# Sourced (. lb_ecmp.sh), it defines ecmp_up, ecmp_down, ecmp_ns NAME
# (a namespace's full name), ecmp_bird_start NAME (BIRD as a daemon,
# DIR/bird-NAME.{pid,ctl}) and ecmp_wait_bgp (sessions established).
#
# Addresses 198.18.0.0/15 only; everything lives in the namespaces.
# Needs root, ip, bird, birdc, and build/bin/xmbuf-decap ($DECAP).

ECMP_SUFFIXES="ecc eaa ebb e1 e2 eb1 eb2 eb3"
ECMP_VIP=198.18.2.1

_ecmp_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
_ecmp_root=$(cd "$_ecmp_here/../.." && pwd)

# ecmp_ns DIR NAME: cli rt sw lb1 lb2 be1 be2 be3 -> the namespace.
ecmp_ns() {
	local p
	p=$(cat "$1/prefix")
	case $2 in
	cli) echo "${p}ecc";; rt) echo "${p}eaa";; sw) echo "${p}ebb";;
	lb1) echo "${p}e1";; lb2) echo "${p}e2";;
	be1) echo "${p}eb1";; be2) echo "${p}eb2";; be3) echo "${p}eb3";;
	*) return 1;;
	esac
}

# A host on the bridge: _ecmp_attach DIR NS IFNAME HOST
_ecmp_attach() {
	local sw
	sw=$(ecmp_ns "$1" sw)
	ip -n "$2" link add "$3" address "02:00:00:00:01:$(printf %02x "$4")" \
		type veth peer name "s$3" netns "$sw" &&
	ip -n "$sw" link set "s$3" master br0 up &&
	ip -n "$2" link set "$3" up &&
	ip -n "$2" addr add "198.18.1.$4/24" dev "$3"
}

ecmp_up() {
	local dir=$1 prefix=$2 ns i decap=${DECAP:-$_ecmp_root/build/bin/xmbuf-decap}
	mkdir -p "$dir" && echo "$prefix" > "$dir/prefix" || return 1
	: > "$dir/ns"
	for s in $ECMP_SUFFIXES; do
		ip netns add "$prefix$s" || return 1
		echo "$prefix$s" >> "$dir/ns"
		ip -n "$prefix$s" link set lo up || return 1
		ip netns exec "$prefix$s" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
			net.ipv6.conf.default.disable_ipv6=1 || return 1
	done
	local cli rt sw
	cli=$(ecmp_ns "$dir" cli); rt=$(ecmp_ns "$dir" rt); sw=$(ecmp_ns "$dir" sw)
	# A plain switch (no br_netfilter).
	ip -n "$sw" link add br0 type bridge && ip -n "$sw" link set br0 up || return 1
	ip netns exec "$sw" sh -c 'for f in /proc/sys/net/bridge/bridge-nf-call-*; do [ -e $f ] && echo 0 > $f; done; true'
	# Client <-> router.
	ip -n "$cli" link add ec address 02:00:00:00:0a:02 type veth peer \
		name rc address 02:00:00:00:0a:01 netns "$rt" &&
	ip -n "$cli" addr add 198.18.10.2/24 dev ec && ip -n "$cli" link set ec up &&
	ip -n "$rt" addr add 198.18.10.1/24 dev rc && ip -n "$rt" link set rc up &&
	ip -n "$cli" route add default via 198.18.10.1 || return 1
	# The router: forwards, hashes flows by ports over the next hops.
	_ecmp_attach "$dir" "$rt" rf 254 || return 1
	ip netns exec "$rt" sysctl -qw net.ipv4.ip_forward=1 \
		net.ipv4.fib_multipath_hash_policy=1 \
		net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
		net.ipv4.conf.all.send_redirects=0 || return 1
	for i in 1 2; do
		ns=$(ecmp_ns "$dir" lb$i)
		_ecmp_attach "$dir" "$ns" "el$((i - 1))" $((i + 1)) || return 1
		sed -e "s|^router id 198.18.1.2;|router id 198.18.1.$((i + 1));|" \
		    -e "s|local 198.18.1.2 as|local 198.18.1.$((i + 1)) as|" \
		    -e "s|include \"/etc/bird/xmbuf-lb.conf\";|include \"$dir/xmbuf-lb-lb$i.conf\";|" \
		    "$_ecmp_root/examples/lb/bird/bird-balancer.conf" > "$dir/bird-lb$i.conf" || return 1
		sed -e "s|/run/xmbuf-lb/IF|$dir/lb$i|g" \
		    "$_ecmp_root/examples/lb/bird/xmbuf-lb.conf" > "$dir/xmbuf-lb-lb$i.conf" || return 1
	done
	cp "$_ecmp_root/examples/lb/bird/bird-router.conf" "$dir/bird-rt.conf" || return 1
	for i in 1 2 3; do
		ns=$(ecmp_ns "$dir" be$i)
		_ecmp_attach "$dir" "$ns" "eb$i" $((i + 10)) || return 1
		ip -n "$ns" addr add "$ECMP_VIP/32" dev lo &&
		ip -n "$ns" route add default via 198.18.1.254 &&
		ip netns exec "$ns" sysctl -qw net.ipv4.conf.all.rp_filter=0 \
			"net.ipv4.conf.eb$i.rp_filter=0" &&
		ip netns exec "$ns" "$decap" -i "eb$i" --persist \
			--allow-src 198.18.128.0/17 > /dev/null || return 1
	done
	return 0
}

ecmp_down() {
	local dir=$1 f ns
	[ -d "$dir" ] || return 0
	for f in "$dir"/*.pid; do
		[ -e "$f" ] || continue
		kill "$(cat "$f")" 2>/dev/null
	done
	if [ -f "$dir/ns" ]; then
		while read -r ns; do
			[ -n "$ns" ] && ip netns del "$ns" 2>/dev/null
		done < "$dir/ns"
	fi
	return 0
}

# ecmp_bird_start DIR NAME (rt, lb1, lb2): BIRD as a daemon in NAME's
# namespace with DIR/bird-NAME.conf, socket DIR/bird-NAME.ctl.
ecmp_bird_start() {
	ip netns exec "$(ecmp_ns "$1" "$2")" bird -c "$1/bird-$2.conf" \
		-s "$1/bird-$2.ctl" -P "$1/bird-$2.pid"
}

# ecmp_wait_bgp DIR SECONDS: the router's sessions to both balancers up.
ecmp_wait_bgp() {
	local end=$((SECONDS + $2))
	while [ $SECONDS -lt $end ]; do
		[ "$(birdc -s "$1/bird-rt.ctl" show protocols 2>/dev/null |
		     grep -c Established)" -ge 2 ] && return 0
		sleep 0.2
	done
	return 1
}

# ecmp_nexthops DIR: next hops of the router's route to the VIP (0: none).
ecmp_nexthops() {
	local r
	r=$(ip -n "$(ecmp_ns "$1" rt)" route show "$ECMP_VIP" 2>/dev/null)
	[ -z "$r" ] && { echo 0; return; }
	case $r in
	*nexthop*) grep -c nexthop <<< "$r";;
	*) echo 1;;
	esac
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -u
	case ${1:-} in
	up)	[ $# = 3 ] || { echo "usage: $0 up DIR PREFIX" >&2; exit 2; }
		ecmp_up "$2" "$3" || { echo "lb_ecmp: up failed" >&2; ecmp_down "$2"; exit 1; }
		;;
	down)	[ $# = 2 ] || { echo "usage: $0 down DIR" >&2; exit 2; }
		ecmp_down "$2";;
	*)	echo "usage: $0 up DIR PREFIX | down DIR" >&2; exit 2;;
	esac
fi
