#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# tests/mutate/run.sh - mutation testing of the unit suites (`make mutate`).
#
#   tests/mutate/run.sh [-n] [-l MUTANTS_FILE] [NAME...]
#
# Each mutant of MUTANTS_FILE (default tests/mutate/mutants.txt, format
# described there) is one small edit of the kind real bugs are.  The tree
# is copied to a scratch directory once (without build/ outputs but the
# BPF skeletons and the dbg objects, so that the first build is
# incremental); then for each mutant in turn:
#
#   apply     replace its snippet, which must occur exactly once
#   build     its unit test binaries, dbg variant, with the Makefile's own
#             rules (only what the edit touches is recompiled)
#   run       each binary (--fail-fast) under a timeout
#   restore   the pristine source (and its pristine object, so that the
#             next build does not recompile it)
#
# A mutant is killed when a binary fails, crashes or times out; stillborn
# when the build fails (kept out of the score); it survives otherwise.  A
# mutant marked "equivalent" cannot be told from the original by any test
# (the list says why): it is run, kept out of the score when it survives,
# and reported when it does not (the mark is then wrong).
#
# -n only checks the list (every snippet found exactly once) and exits.
# NAMEs run only those mutants.
#
# Unit tests only: no root, no network; the unmutated tree must pass them
# all first (a failing baseline would make every mutant look killed).
#
# Output: one line per mutant, the survivors with their edit, then
#   BENCH mutation_score <killed / scored> ratio
#   BENCH mutation_count <scored> mutants
# where scored = mutants - stillborn - equivalent that survived.
#
# Environment:
#   MUTATE_DIR        scratch directory (default: a new one under $TMPDIR,
#                     removed at the end unless MUTATE_KEEP=1)
#   MUTATE_TIMEOUT    seconds per test binary run (default 60)
#   MUTATE_JOBS       make -j (default: the number of CPUs)
#   MUTATE_MIN_SCORE  exit 1 below this score (default 0.95; 0: never)
#
# Exit status: 0, 1 when the score is below MUTATE_MIN_SCORE, 2 on an error
# (a snippet not found exactly once, a malformed list, a failing baseline).
set -u
export LC_ALL=C

root=$(cd "$(dirname "$0")/../.." && pwd)
list=$root/tests/mutate/mutants.txt
check_only=0
while [ $# -gt 0 ]; do
	case $1 in
	-n) check_only=1; shift ;;
	-l) [ $# -ge 2 ] || { echo "mutate: -l needs a file" >&2; exit 2; }
	    list=$2; shift 2 ;;
	-*) echo "usage: $0 [-n] [-l MUTANTS_FILE] [NAME...]" >&2; exit 2 ;;
	*) break ;;
	esac
done
only=("$@")
timeout_s=${MUTATE_TIMEOUT:-60}
jobs=${MUTATE_JOBS:-$(nproc 2>/dev/null || echo 2)}
min_score=${MUTATE_MIN_SCORE:-0.95}

die() {
	echo "mutate: $*" >&2
	exit 2
}

# ------------------------------------------------------------ the list

# Parallel arrays, one entry per mutant.
names=(); files=(); froms=(); tos=(); tests=(); equivs=(); lines=()
n=-1
cur_field=""
add_line() { # FIELD VALUE: appends a line to the current mutant's field
	local f=$1 v=$2
	[ $n -ge 0 ] || die "$list:$lineno: '$f' before any 'mutant'"
	case $f in
	from)
		if [ "$cur_field" = from ]; then
			froms[n]+=$'\n'$v
		else
			[ -z "${froms[n]+x}" ] || die "$list:$lineno: second 'from' block in ${names[n]}"
			froms[n]=$v
		fi ;;
	to)
		if [ "$cur_field" = to ]; then
			tos[n]+=$'\n'$v
		else
			[ -z "${tos[n]+x}" ] || die "$list:$lineno: second 'to' block in ${names[n]}"
			tos[n]=$v
		fi ;;
	esac
	cur_field=$f
}

[ -f "$list" ] || die "no mutant list $list"
lineno=0
while IFS= read -r line || [ -n "$line" ]; do
	lineno=$((lineno + 1))
	case $line in
	'#'*) continue ;;
	'')
		cur_field=""
		continue ;;
	'mutant '*)
		n=$((n + 1))
		names[n]=${line#mutant }
		lines[n]=$lineno
		cur_field="" ;;
	'file '*)
		[ $n -ge 0 ] || die "$list:$lineno: 'file' before any 'mutant'"
		files[n]=${line#file }
		cur_field="" ;;
	'tests '*)
		[ $n -ge 0 ] || die "$list:$lineno: 'tests' before any 'mutant'"
		tests[n]=${line#tests }
		cur_field="" ;;
	'equivalent: '*)
		[ $n -ge 0 ] || die "$list:$lineno: 'equivalent' before any 'mutant'"
		equivs[n]=${line#equivalent: }
		cur_field="" ;;
	'note '*)
		cur_field="" ;;
	from|'from '*)
		v=${line#from}
		add_line from "${v# }" ;;
	to|'to '*)
		v=${line#to}
		add_line to "${v# }" ;;
	*)
		die "$list:$lineno: cannot read: $line" ;;
	esac
done < "$list"
total=$((n + 1))
[ $total -gt 0 ] || die "$list holds no mutant"

declare -A seen_name
for ((i = 0; i < total; i++)); do
	nm=${names[i]}
	where="$list:${lines[i]}: mutant $nm"
	[ -z "${seen_name[$nm]+x}" ] || die "$where: name used twice"
	seen_name[$nm]=1
	[ -n "${files[i]:-}" ] || die "$where: no 'file'"
	[ -n "${froms[i]:-}" ] || die "$where: no 'from'"
	[ -n "${tos[i]+x}" ] || die "$where: no 'to' (an empty 'to' deletes)"
	[ "${froms[i]}" != "${tos[i]}" ] || die "$where: 'to' is 'from'"
	[ -n "${tests[i]:-}" ] || die "$where: no 'tests'"
	for t in ${tests[i]}; do
		[ -f "$root/tests/unit/$t.c" ] ||
			die "$where: no unit suite tests/unit/$t.c"
	done
done

# The mutants to run: all, or those named.
sel=()
if [ ${#only[@]} -gt 0 ]; then
	for nm in "${only[@]}"; do
		found=""
		for ((i = 0; i < total; i++)); do
			[ "${names[i]}" = "$nm" ] && found=$i
		done
		[ -n "$found" ] || die "no mutant named '$nm' in $list"
		sel+=("$found")
	done
else
	for ((i = 0; i < total; i++)); do sel+=("$i"); done
fi

# ------------------------------------------------------- file editing

# The whole file, trailing newlines included.
read_file() {
	local c
	c=$(cat -- "$1"; printf x) || return 1
	printf '%s' "${c%x}"
}

# Occurrences of a snippet in a string: 0, 1 or 2 (two or more).
count_in() { # TEXT SNIPPET
	local rest=${1#*"$2"}
	if [ "$rest" = "$1" ]; then echo 0; return; fi
	case $rest in
	*"$2"*) echo 2 ;;
	*) echo 1 ;;
	esac
}

# Every snippet exactly once, before anything is built: all errors at once.
bad=0
for i in "${sel[@]}"; do
	f=$root/${files[i]}
	if [ ! -f "$f" ]; then
		echo "mutate: mutant ${names[i]} (line ${lines[i]}): no file ${files[i]}" >&2
		bad=1
		continue
	fi
	c=$(count_in "$(read_file "$f")" "${froms[i]}")
	if [ "$c" != 1 ]; then
		echo "mutate: mutant ${names[i]} (line ${lines[i]}): its snippet is found $([ "$c" = 0 ] && echo "nowhere" || echo "more than once") in ${files[i]}:" >&2
		printf '%s\n' "${froms[i]}" | sed 's/^/    | /' >&2
		bad=1
	fi
done
[ $bad = 0 ] || die "fix the list (snippets must match exactly once)"
if [ $check_only = 1 ]; then
	echo "mutate: ${#sel[@]} mutant(s) in ${list#"$root"/}: every snippet found exactly once"
	exit 0
fi

# ------------------------------------------------------ scratch tree

if [ -n "${MUTATE_DIR:-}" ]; then
	scratch=$MUTATE_DIR
	mkdir -p "$scratch" || die "cannot make $scratch"
	[ -z "$(ls -A "$scratch")" ] || die "MUTATE_DIR $scratch is not empty"
else
	scratch=$(mktemp -d "${TMPDIR:-/tmp}/xmbuf-mutate.XXXXXX") ||
		die "cannot make a scratch directory"
fi
cleanup() {
	if [ "${MUTATE_KEEP:-0}" = 1 ]; then
		echo "mutate: scratch tree kept in $scratch"
	else
		rm -rf -- "$scratch"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start=$(date +%s)
# Sources, without build outputs or git's objects; then what spares the
# first build work (mtimes kept, so make judges them as in the tree).
(cd "$root" && tar --exclude=./build --exclude=./.git -cf - .) |
	(cd "$scratch" && tar -xf -) || die "cannot copy the tree"
for d in build/bpf build/obj/dbg; do
	if [ -d "$root/$d" ]; then
		mkdir -p "$scratch/$(dirname "$d")"
		(cd "$root" && tar -cf - "$d") | (cd "$scratch" && tar -xf -) ||
			die "cannot copy $d"
	fi
done
pristine=$scratch/.mutate-pristine
mkdir -p "$pristine"

bins_of() { # MUTANT_INDEX -> build/test/dbg/unit/... paths
	local t out=""
	for t in ${tests[$1]}; do out+=" build/test/dbg/unit/$t"; done
	echo "$out"
}

# The object a source file compiles to (dbg), if it is a .c file.
obj_of() {
	case $1 in
	*.c) echo "build/obj/dbg/${1%.c}.o" ;;
	*) echo "" ;;
	esac
}

build() { # LOG BIN... : make the binaries in the scratch tree
	local log=$1; shift
	make -C "$scratch" --no-print-directory -j"$jobs" "$@" >"$log" 2>&1
}

# Runs one test binary; prints nothing, returns: 0 pass, 1 fail, 2 crash
# (killed by a signal), 3 timeout.
run_bin() { # BIN LOG
	local rc
	(cd "$scratch" && timeout -k 5 "$timeout_s" "./$1" --fail-fast \
		>"$2" 2>&1)
	rc=$?
	if [ $rc = 0 ]; then return 0; fi
	if [ $rc = 124 ] || [ $rc = 137 ]; then return 3; fi
	if [ $rc -gt 128 ]; then return 2; fi
	return 1
}

# ------------------------------------------------------------ baseline

declare -A all_bins
for i in "${sel[@]}"; do
	for b in $(bins_of "$i"); do all_bins[$b]=1; done
done
logs=$scratch/.mutate-logs
mkdir -p "$logs"
echo "mutate: ${#sel[@]} mutant(s) from ${list#"$root"/}, ${#all_bins[@]} unit suite(s); scratch tree $scratch"
build "$logs/baseline-build.log" "${!all_bins[@]}" ||
	{ tail -n 30 "$logs/baseline-build.log" >&2; die "the unmutated tree does not build"; }
for b in "${!all_bins[@]}"; do
	if ! run_bin "$b" "$logs/baseline-$(basename "$b").log"; then
		tail -n 30 "$logs/baseline-$(basename "$b").log" >&2
		die "the unmutated tree fails $(basename "$b"): mutants would look killed"
	fi
done
# Pristine objects of the files to be mutated, to put back after each.
for i in "${sel[@]}"; do
	o=$(obj_of "${files[i]}")
	if [ -n "$o" ] && [ -f "$scratch/$o" ] && [ ! -f "$pristine/$o" ]; then
		mkdir -p "$pristine/$(dirname "$o")"
		cp "$scratch/$o" "$pristine/$o"
	fi
done
echo "mutate: baseline passes ($(( $(date +%s) - start )) s)"

# ------------------------------------------------------------- mutants

killed=0; survived=0; stillborn=0; equiv_survived=0
survivors=(); equiv_killed=(); stillborns=()
k=0
for i in "${sel[@]}"; do
	k=$((k + 1))
	nm=${names[i]}
	rel=${files[i]}
	f=$scratch/$rel
	t0=$(date +%s)
	orig=$(read_file "$f")
	pre=${orig%%"${froms[i]}"*}
	post=${orig#*"${froms[i]}"}
	printf '%s' "$pre${tos[i]}$post" > "$f"
	# Its object goes: file times are coarse (a jiffy), and the source
	# written within the tick of the last restore would not look newer.
	o=$(obj_of "$rel")
	[ -z "$o" ] || rm -f "$scratch/$o"

	verdict=survived; why=""
	if ! build "$logs/$nm.build.log" $(bins_of "$i"); then
		verdict=stillborn
		why="does not build (see $nm.build.log)"
	else
		for b in $(bins_of "$i"); do
			run_bin "$b" "$logs/$nm.$(basename "$b").log"
			case $? in
			0) continue ;;
			1) why="$(basename "$b") fails" ;;
			2) why="$(basename "$b") crashes" ;;
			3) why="$(basename "$b") times out (${timeout_s} s)" ;;
			esac
			verdict=killed
			break
		done
	fi

	# Back to the original; its pristine object too (written after the
	# source, so it is not older and make keeps it), else make rebuilds.
	printf '%s' "$orig" > "$f"
	o=$(obj_of "$rel")
	if [ -n "$o" ] && [ -f "$pristine/$o" ]; then
		cp "$pristine/$o" "$scratch/$o"
	fi

	eq=${equivs[i]:-}
	case $verdict in
	killed)
		killed=$((killed + 1))
		if [ -n "$eq" ]; then
			equiv_killed+=("$nm ($rel): marked equivalent, but $why")
		fi ;;
	survived)
		if [ -n "$eq" ]; then
			equiv_survived=$((equiv_survived + 1))
			verdict="equivalent"
			why=$eq
		else
			survived=$((survived + 1))
			survivors+=("$i")
			why="no test fails: $(echo "${tests[i]}" | tr ' ' ',')"
		fi ;;
	stillborn)
		stillborn=$((stillborn + 1))
		stillborns+=("$nm ($rel)") ;;
	esac
	printf '[%3d/%d] %-10s %-30s %3ds  %s\n' "$k" "${#sel[@]}" "$verdict" \
		"$nm" "$(( $(date +%s) - t0 ))" "$why"
done

# ------------------------------------------------------------- summary

scored=$((killed + survived))
elapsed=$(( $(date +%s) - start ))
echo
echo "mutate: ${#sel[@]} mutants in ${elapsed} s: $killed killed, $survived survived, $equiv_survived equivalent (survived, not scored), $stillborn stillborn (not scored)"
if [ ${#survivors[@]} -gt 0 ]; then
	echo "mutate: survivors (no test tells them from the original):"
	for i in "${survivors[@]}"; do
		echo "  ${names[i]}  ${files[i]}  tests: ${tests[i]}"
		printf '%s\n' "${froms[i]}" | sed 's/^/      - /'
		printf '%s\n' "${tos[i]}" | sed 's/^/      + /'
	done
fi
for s in "${equiv_killed[@]}"; do
	echo "mutate: WARNING: $s: fix the list"
done
for s in "${stillborns[@]}"; do
	echo "mutate: stillborn (fix the list): $s"
done
if [ $scored -gt 0 ]; then
	score=$(awk -v k=$killed -v s=$scored 'BEGIN { printf "%.3f", k / s }')
else
	score=0
fi
echo "BENCH mutation_score $score ratio"
echo "BENCH mutation_count $scored mutants"
if awk -v s="$score" -v m="$min_score" 'BEGIN { exit !(s + 0 < m + 0) }'; then
	echo "mutate: score $score is below $min_score" >&2
	exit 1
fi
exit 0
