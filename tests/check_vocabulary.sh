#!/usr/bin/env bash
# check_vocabulary: the tools speak one option vocabulary (issue #16;
# examples/common/xm_ex_opts.c describes it), read from each tool's
# --list-options ("LONG SHORT METAVAR ALIAS OLD", tab-separated):
#   - -i, --iface IF with --interface as its alias, everywhere;
#   - -Q, --quiet and -v, --verbose everywhere, but in xmbuf-capture,
#     where -Q is tcpdump's direction (in|out|inout) and --quiet has -q
#     (tcpdump's) as its letter;
#   - --cpus, where a tool takes it, has no letter (-c and -C meant CPUs
#     in some tools and other things in others);
#   - -c is never CPUs; in xmbuf-capture it is --count, as tcpdump's;
#   - xmbuf-capture's -q is tcpdump's (quiet), not --queues;
# and the spellings that changed keep working one release: each old
# letter below is still parsed, says it is deprecated and what to write
# instead, and otherwise does what the new spelling does (the same
# message for the same bad value, the same exit status).
#   tests/check_vocabulary.sh BIN_DIR
set -eu
bin=${1:?usage: check_vocabulary.sh BIN_DIR}

# tool old-letter new-spelling [command]: the renames of this release
OLD_SPELLINGS="
xmbuf-fwd -c --cpus
xmbuf-pktgen -c --cpus tx
xmbuf-lb -C --cpus
"

rc=0
bad() { echo "check_vocabulary: $*" >&2; rc=1; }

# The row of spelling s in table t, or nothing.
row() { awk -F'\t' -v s="$2" '$1 == s || $2 == s' <<<"$1" | head -n 1; }

n=0
for tool in "$bin"/xmbuf-*; do
	[ -x "$tool" ] || continue
	name=${tool##*/}
	n=$((n + 1))
	t=$("$tool" --list-options)
	[ "$(row "$t" --iface | cut -f2,4)" = $'-i\t--interface' ] ||
		bad "$name: no -i, --iface with the alias --interface"
	if [ "$name" = xmbuf-capture ]; then
		[ "$(row "$t" -Q | cut -f1)" = --direction ] ||
			bad "$name: -Q is not tcpdump's --direction"
		[ -n "$(row "$t" --quiet)" ] || bad "$name: no --quiet"
	else
		[ "$(row "$t" --quiet | cut -f2)" = -Q ] || bad "$name: no -Q, --quiet"
	fi
	[ "$(row "$t" --verbose | cut -f2)" = -v ] || bad "$name: no -v, --verbose"
	cpus=$(row "$t" --cpus)
	if [ -n "$cpus" ] && [ "$(cut -f2 <<<"$cpus")" != - ]; then
		bad "$name: --cpus has the letter $(cut -f2 <<<"$cpus")"
	fi
	c=$(row "$t" -c)
	case $(cut -f1 <<<"$c") in
	--cpus) bad "$name: -c is --cpus" ;;
	esac
	if [ "$name" = xmbuf-capture ]; then
		[ "$(row "$t" -c | cut -f1)" = --count ] || bad "$name: -c is not --count"
		q=$(row "$t" -q | cut -f1)
		[ "$q" = - ] || bad "$name: -q is ${q:-not taken}, not tcpdump's quiet"
	fi
done
[ "$n" -ge 5 ] || bad "only $n tools in $bin"

# The old letters: listed, deprecated, and doing what the new one does.
while read -r name old new cmd; do
	[ -n "$name" ] || continue
	tool=$bin/$name
	t=$("$tool" --list-options)
	[ "$(row "$t" "$new" | cut -f5)" = "$old" ] ||
		bad "$name: $old is not listed as the old letter of $new"
	set +e
	o_old=$("$tool" $cmd "$old" x 2>&1); s_old=$?
	o_new=$("$tool" $cmd "$new" x 2>&1); s_new=$?
	set -e
	first=$(head -n 1 <<<"$o_old")
	[ "$first" = "$name: $old is deprecated and goes in the next release; use $new" ] ||
		bad "$name $old: the first line is '$first', not the deprecation message"
	[ "$(tail -n +2 <<<"$o_old")" = "$o_new" ] && [ "$s_old" = "$s_new" ] ||
		bad "$name $old x: '$(tail -n +2 <<<"$o_old")' (exit $s_old), but $new x: '$o_new' (exit $s_new)"
	grep -q -- "$new" <<<"$("$tool" --help)" || bad "$name: --help lacks $new"
	if grep -qE -- "^ +$old[ ,]" <<<"$("$tool" --help)"; then
		bad "$name: --help still shows $old"
	fi
done <<<"$OLD_SPELLINGS"

[ $rc = 0 ] && echo "check_vocabulary: $n tools share -i/--iface, -Q (capture: -Q DIR, -q), -v, --cpus; $(grep -c . <<<"$OLD_SPELLINGS") old letters deprecated"
exit $rc
