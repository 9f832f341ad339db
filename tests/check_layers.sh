#!/usr/bin/env bash
# check_layers: each layer includes only what lies below it.
#   tests/check_layers.sh [TOP [OBJDIR]]
# TOP is the source tree (default: the one this script is in); OBJDIR, if
# given, holds the objects of TOP (build/obj/rel), for the one check that
# reads symbols rather than includes.
#
#   common     xm_common.h, xm_common_int.h      nothing of ours
#     ^
#   umem       xm_umem.h (+ private)              common
#     ^
#   mbuf, pkt  xm_mbuf.h, xm_pkt.h                common, umem's public header,
#     ^                                           xm_zone_fast_int.h (mbuf only)
#   port, live xm_port.h, xm_live.h               common, umem and mbuf public
#     ^
#   examples   public headers only                no *_int.h, no ../
#              (pktgen's queues, pg_tx.c and pg_rx.c, see struct pg and
#              the pure parts, never the run, the CLI code or main)
#
# The table below says, for each file, which of our headers it may name in
# an #include "..." (or <xm_*.h>).  The first row whose glob matches the
# file applies; a file that matches no row is not checked (tests/ may
# include what they test).  Patterns are shell patterns on the name as
# written in the #include.  Two words are special:
#   @here   a header that sits in the file's own directory (no '/')
#   @skel   NAME.skel.h where NAME.bpf.c sits in the file's own directory
set -eu
top=${1:-$(cd "$(dirname "$0")/.." && pwd)}
objdir=${2:-}
cd "$top"

COMMON='xm_common.h xm_common_int.h'
PUBLIC='xm_common.h xm_umem.h xm_mbuf.h xm_pkt.h xm_port.h xm_live.h'

rules() {
	cat <<EOF
common/*			| $COMMON
umem/cache.c			| $COMMON xm_cache_int.h
umem/*				| $COMMON xm_umem.h xm_umem_int.h xm_zone_fast_int.h xm_cache_int.h
userspace/xm_pkt.h		| xm_common.h
userspace/mbuf*.c		| $COMMON xm_umem.h xm_zone_fast_int.h xm_mbuf.h xm_mbuf_int.h xm_rxframe_int.h
userspace/xm_mbuf*.h		| $COMMON xm_umem.h xm_mbuf.h xm_rxframe_int.h
userspace/xm_rxframe_int.h	| $COMMON
userspace/pkt*.c		| $COMMON xm_umem.h xm_mbuf.h xm_pkt.h xm_pkt_int.h
userspace/xm_pkt_int.h		| $COMMON xm_pkt.h
userspace/live*.c		| $COMMON xm_live.h xm_live_int.h ../bpf/xm_live_shared.h xm_live.skel.h xm_live_sink.skel.h
userspace/xm_live*.h		| $COMMON xm_live.h
userspace/*			| $COMMON xm_umem.h xm_mbuf.h xm_pkt.h xm_port.h xm_port_int.h xdp_rule_int.h xm_rxframe_int.h ../bpf/xm_redirect_shared.h xm_redirect*.skel.h
examples/pktgen/pg_[rt]x.c	| $PUBLIC xm_example.h pg_state.h pg_rx.h pg_tx.h pg_rate.h pg_stamp.h
examples/pktgen/pg_state.h	| $PUBLIC pg_cli.h pg_frame.h pg_meter.h pg_pcap.h pg_rate.h pg_sched.h pg_tuples.h
examples/*/*.bpf.c		| vmlinux.h @here
examples/*			| $PUBLIC xm_example.h @here @skel
bpf/*				| vmlinux.h @here
tests/bpf/*			| vmlinux.h
EOF
}

# The row for file f: prints its allowed patterns, or nothing.
allowed_for() {
	local f=$1 glob allow
	while IFS='|' read -r glob allow; do
		glob=${glob%"${glob##*[![:space:]]}"}
		allow=${allow#"${allow%%[![:space:]]*}"}
		# shellcheck disable=SC2053
		if [[ $f == $glob ]]; then
			echo "$allow"
			return
		fi
	done < <(rules)
}

# True when header h (as written) is allowed in file f by patterns.
is_allowed() {
	local f=$1 h=$2 dir p
	dir=$(dirname "$f")
	for p in $3; do
		case $p in
		@here)
			[[ $h != */* && -e $dir/$h ]] && return 0 ;;
		@skel)
			[[ $h == *.skel.h && $h != */* &&
			   -e $dir/${h%.skel.h}.bpf.c ]] && return 0 ;;
		*)
			# shellcheck disable=SC2053
			[[ $h == $p ]] && return 0 ;;
		esac
	done
	return 1
}

bad=0 checked=0
while IFS= read -r f; do
	allow=$(allowed_for "$f")
	[ -n "$allow" ] || continue
	checked=$((checked + 1))
	while IFS=: read -r line h; do
		if ! is_allowed "$f" "$h" "$allow"; then
			echo "check_layers: $f:$line includes \"$h\" (allowed: $allow)" >&2
			bad=1
		fi
	done < <(grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]*("[^"]+"|<xm_[^>]+>)' "$f" |
		 sed -E 's/^([0-9]+):[^"<]*[<"]([^">]+)[">].*/\1:\2/')
done < <(find common umem userspace examples bpf tests/bpf -name '*.[ch]' \
	 2>/dev/null | sort)

# cache.c sits below zone.c: cache.o must use nothing zone.o defines.
if [ -n "$objdir" ] && [ -e "$objdir/umem/cache.o" ] && [ -e "$objdir/umem/zone.o" ]; then
	up=$(comm -12 <(nm "$objdir/umem/cache.o" | awk '$1 == "U" {print $2}' | sort -u) \
		      <(nm --defined-only "$objdir/umem/zone.o" | awk '{print $3}' | sort -u))
	if [ -n "$up" ]; then
		echo "check_layers: umem/cache.c calls up into zone.c:" $up >&2
		bad=1
	fi
fi

if [ $bad != 0 ]; then
	exit 1
fi
echo "check_layers: $checked files, every include where its layer allows it"
