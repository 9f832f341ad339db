#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# demo.sh - the README's main job, end to end (`make demo` runs it after
# building): xmbuf-pktgen sends into xmbuf-capture across a veth pair of
# this script's own, for a few seconds, and the capture file is checked
# with tcpdump.
#
#   netns G (generator)                     netns C (capture)
#   xmbuf-pktgen tx -i vG  ==== veth ====  vC: xmbuf-capture -w demo.pcapng
#   198.18.X.1                                  198.18.X.2
#
# It prints the rates of both ends and the zero-loss check (every packet
# sent was received and written, no kernel drops), then reads the file
# back with `tcpdump -r`: the packet count, the total of frame lengths
# against what the generator says it sent, and for every packet the
# Ethernet, IPv4 and UDP headers and the generator's stamp (magic and
# sequence number 0, 1, 2, ... in order) byte by byte.
#
# Everything it creates (namespaces, veth pair, XDP program, files) is
# removed on exit, also when it fails or is interrupted.  Addresses are
# in 198.18.0.0/15; the generator sends a bounded count at a bounded
# rate.
#
# Environment:
#   BIN            binaries (default build/bin)
#   DEMO_RATE      packets per second (default 200000)
#   DEMO_SECONDS   seconds of traffic (default 3)
#   DEMO_SIZE      frame size without FCS, 60..1514 (default 60)
#
# Exit status: 0 when every check passed; 1 when one failed (what failed
# is shown); 2 when it cannot run here (not root, a tool missing).
set -u
. "$(dirname "$0")/bench/lib.sh" || exit 2

BIN=${BIN:-build/bin}
RATE=${DEMO_RATE:-200000}
SECS=${DEMO_SECONDS:-3}
SIZE=${DEMO_SIZE:-60}
COUNT=$((RATE * SECS))

say() { printf '%s\n' "$*"; }
fail() { printf 'demo: FAILED: %s\n' "$*" >&2; exit 1; }
cannot() { printf 'demo: %s\n' "$*" >&2; exit 2; }

[ "$(id -u)" = 0 ] || cannot "needs root (network namespaces, XDP, AF_XDP): run 'sudo make demo'"
for b in xmbuf-pktgen xmbuf-capture; do
	[ -x "$BIN/$b" ] || cannot "missing $BIN/$b (run 'make' first)"
done
xm_need_cmds demo ip sysctl tcpdump awk || exit 2
case $SIZE in
''|*[!0-9]*) cannot "DEMO_SIZE must be a number" ;;
esac
[ "$SIZE" -ge 60 ] && [ "$SIZE" -le 1514 ] || cannot "DEMO_SIZE must be 60..1514"

# Names unique to this run; a subnet of 198.18.0.0/15 chosen at random.
id=$(printf '%04x%02x' $((RANDOM)) $(($$ % 256)))
NS_G=xmdemo-g-$id
NS_C=xmdemo-c-$id
VG=xdg$id
VC=xdc$id
NET=198.18.$((RANDOM % 256))
TMP=$(mktemp -d /tmp/xmbuf-demo.XXXXXX) || cannot "mktemp failed"
FILE=$TMP/demo.pcapng
cap_pid=""

teardown() {
	if [ -n "$cap_pid" ] && kill -0 "$cap_pid" 2> /dev/null; then
		kill -INT "$cap_pid" 2> /dev/null
		sleep 1
		kill -KILL "$cap_pid" 2> /dev/null
		wait "$cap_pid" 2> /dev/null
	fi
	ip netns del "$NS_G" 2> /dev/null
	ip netns del "$NS_C" 2> /dev/null
	rm -rf "$TMP"
}
trap teardown EXIT
trap 'exit 1' INT TERM

# A number from a one-line JSON summary: json KEY FILE
json() {
	grep -o "\"$1\":[-0-9.e+]*" "$2" | head -n 1 | cut -d: -f2
}

say "=== xmbuf demo: xmbuf-pktgen -> xmbuf-capture, $COUNT packets of $SIZE bytes at $RATE pps"

# ---------------------------------------------------------------- network
ip netns add "$NS_G" || fail "cannot create namespace $NS_G"
ip netns add "$NS_C" || fail "cannot create namespace $NS_C"
ip link add "$VG" netns "$NS_G" type veth peer name "$VC" netns "$NS_C" ||
	fail "cannot create the veth pair"
for ns in "$NS_G" "$NS_C"; do
	# no IPv6: router solicitations would be stray packets in the file
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
done
ip -n "$NS_G" addr add "$NET.1/24" dev "$VG" || fail "address on $VG"
# no address on vC: a capture port (a mirror port), where xmbuf-capture
# takes the inline AF_XDP path by default
ip -n "$NS_G" link set "$VG" up || fail "$VG up"
ip -n "$NS_C" link set "$VC" up || fail "$VC up"
MAC_G=$(ip netns exec "$NS_G" cat "/sys/class/net/$VG/address")
MAC_C=$(ip netns exec "$NS_C" cat "/sys/class/net/$VC/address")
say "network: $NS_G/$VG ($NET.1, $MAC_G) <-> $NS_C/$VC (no address: a capture port, $MAC_C)"

# ---------------------------------------------------------------- capture
# -c: it stops by itself once every packet is written; the duration only
# bounds a run that lost some.  -B: 64 MiB of ring, as one would give
# tcpdump for a burst.
ip netns exec "$NS_C" "$BIN/xmbuf-capture" -i "$VC" -w "$FILE" -c "$COUNT" \
	-B 65536 --duration $((SECS + 30)) --json > "$TMP/cap.json" 2> "$TMP/cap.err" &
cap_pid=$!
for _ in $(seq 1 100); do
	grep -q "capturing on" "$TMP/cap.err" 2> /dev/null && break
	kill -0 "$cap_pid" 2> /dev/null || break
	sleep 0.1
done
if ! grep -q "capturing on" "$TMP/cap.err"; then
	cat "$TMP/cap.err" >&2
	fail "xmbuf-capture did not start"
fi
say "capture: $(grep -m1 'capturing on' "$TMP/cap.err" | sed 's/^xmbuf-capture: //')"

# -------------------------------------------------------------- generator
# pktgen's -s counts the FCS, as testers do: SIZE bytes on the wire is a
# frame of SIZE + 4
if ! ip netns exec "$NS_G" "$BIN/xmbuf-pktgen" tx -i "$VG" --dst-mac "$MAC_C" \
	--src "$NET.1" --dst "$NET.2" -s "$((SIZE + 4))" -n "$COUNT" -r "$RATE" \
	--json -Q > "$TMP/gen.json" 2> "$TMP/gen.err"; then
	cat "$TMP/gen.err" "$TMP/gen.json" >&2
	fail "xmbuf-pktgen failed"
fi

# The capture exits at its count; give late packets a moment, then stop.
for _ in $(seq 1 30); do
	kill -0 "$cap_pid" 2> /dev/null || break
	sleep 0.1
done
kill -INT "$cap_pid" 2> /dev/null
wait "$cap_pid"
cap_rc=$?
cap_pid=""
# what the tool said besides its stats lines (mode fallbacks, errors)
notes=$(grep -v -e '^xmbuf-capture  *[0-9.]*s ' -e 'capturing on' "$TMP/cap.err")
if [ -n "$notes" ]; then
	say "capture notes:"
	printf '%s\n' "$notes" | sed 's/^/  /'
fi
[ -s "$TMP/cap.json" ] || fail "xmbuf-capture wrote no summary (exit $cap_rc)"

sent=$(json sent "$TMP/gen.json")
tx_pps=$(json tx_pps "$TMP/gen.json")
tx_bytes=$(json tx_bytes "$TMP/gen.json")
received=$(json received "$TMP/cap.json")
written=$(json written "$TMP/cap.json")
rx_mpps=$(json active_mpps "$TMP/cap.json")
ring_full=$(json dropped_ring_full "$TMP/cap.json")
fill_empty=$(json dropped_fill_empty "$TMP/cap.json")
kother=$(json dropped_kernel_other "$TMP/cap.json")
unwritten=$(json unwritten_disk_full "$TMP/cap.json")
duration=$(json duration_s "$TMP/cap.json")
for v in sent tx_pps tx_bytes received written ring_full fill_empty kother; do
	[ -n "${!v}" ] || fail "summary field '$v' missing"
done

say ""
say "--- rates"
awk -v n="$sent" -v p="$tx_pps" -v b="$tx_bytes" 'BEGIN {
	printf "pktgen : sent     %10d packets  %8.3f Mpps  %8.1f Mbit/s\n",
	       n, p / 1e6, (n > 0 ? p * b * 8 / n / 1e6 : 0) }'
awk -v n="$received" -v w="$written" -v r="$rx_mpps" -v d="$duration" 'BEGIN {
	printf "capture: received %10d packets  %8.3f Mpps  (written %d; %.2f s of capture)\n",
	       n, r, w, d }'
say "kernel drops: RX ring full $ring_full, fill ring empty $fill_empty, other $kother; not written $unwritten"

say ""
say "--- zero-loss check"
if [ "$sent" = "$COUNT" ] && [ "$received" = "$sent" ] && [ "$written" = "$sent" ] &&
   [ "$ring_full" = 0 ] && [ "$fill_empty" = 0 ] && [ "$kother" = 0 ] && [ "$cap_rc" = 0 ]; then
	say "PASS: $sent sent = $received received = $written written, no drops"
else
	fail "sent $sent of $COUNT, received $received, written $written, drops $ring_full/$fill_empty/$kother, capture exit $cap_rc"
fi

# ------------------------------------------------------ read back, tcpdump
say ""
say "--- tcpdump -r $(basename "$FILE")"
tcpdump -r "$FILE" -nn -c 3 2> /dev/null | sed 's/^/  /'
# Every packet: its length, its headers and its stamp (UDP payload:
# 0x584d, stream 0, 48-bit sequence = its position in the file).
read -r count bytes bad first_bad < <(tcpdump -r "$FILE" -nn -xx 2> /dev/null | awk \
	-v dmac="${MAC_C//:/}" -v smac="${MAC_G//:/}" -v net="$NET" '
	function hex2(s) { return sprintf("%02x", s) }
	function ipx(a,    p) {
		split(a, p, ".")
		return hex2(p[1]) hex2(p[2]) hex2(p[3]) hex2(p[4])
	}
	function check(    want, seq) {
		if (h == "") return
		len = length(h) / 2
		total += len
		seq = sprintf("%012x", n)
		want = dmac smac "0800"
		if (substr(h, 1, 28) != want ||
		    substr(h, 47, 2) != "11" ||
		    substr(h, 53, 16) != src dst ||
		    substr(h, 73, 4) != "0009" ||
		    substr(h, 85, 8) != "584d0000" ||
		    substr(h, 93, 12) != seq) {
			if (!bad) firstbad = n
			bad++
		}
		n++
		h = ""
	}
	BEGIN { src = ipx(net ".1"); dst = ipx(net ".2") }
	/^[0-9]/ { check(); next }
	/^[ \t]+0x/ { for (i = 2; i <= NF; i++) h = h $i }
	END { check(); printf "%d %d %d %d\n", n, total, bad, (bad ? firstbad : -1) }')
say "tcpdump read $count packets, $bytes bytes of frames"
[ "$count" = "$written" ] || fail "tcpdump read $count packets, the capture wrote $written"
[ "$bytes" = "$tx_bytes" ] || fail "tcpdump read $bytes bytes, the generator sent $tx_bytes"
[ "$bad" = 0 ] || fail "$bad packets differ from what was sent (first: packet $first_bad)"
say "PASS: every packet's Ethernet/IPv4/UDP headers and stamp checked, sequence 0..$((count - 1)) in order"

if ip -n "$NS_C" link show "$VC" | grep -q 'xdp'; then
	fail "an XDP program is still attached to $VC"
fi
say ""
say "=== demo passed (everything it created is removed on exit)"
exit 0
