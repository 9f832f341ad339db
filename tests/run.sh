#!/usr/bin/env bash
# Runs Criterion test binaries and sums their TAP reports.
#   tests/run.sh RESULTS_DIR UNIT_BIN... -- INTEGRATION_BIN...
# A binary build/test/VARIANT/KIND/NAME reports to RESULTS_DIR as
# VARIANT-KIND-NAME.tap, so one run can hold a suite in two builds (make
# test runs the unit suites under both dbg and asan).
# Unit binaries run as anyone; integration binaries need root (network
# namespaces, XDP, AF_XDP) and are skipped, loudly, without it.
# Integration suites run commands of packages `make deps` installs
# (tests/bench/lib.sh's table): checked before the first suite starts.
# Exit status: 0 only when no test failed.
set -u
. "$(dirname "$0")/bench/lib.sh" || exit 1
results=$1; shift
mkdir -p "$results"
rm -f "$results"/*.tap
unit=(); integ=(); side=unit
for a in "$@"; do
	if [ "$a" = "--" ]; then side=integ; continue; fi
	if [ $side = unit ]; then unit+=("$a"); else integ+=("$a"); fi
done

# ip and sysctl build the namespaces (tests/lib); the capture suite
# reads its files back with tcpdump and tshark; the balancer's ECMP suite
# runs BIRD, and its TCP suite setpriv.
if [ ${#integ[@]} -gt 0 ] && [ "$(id -u)" = 0 ]; then
	xm_need_cmds "tests: integration" ip sysctl tcpdump tshark bird birdc \
		setpriv ||
		exit 1
fi

# ASan builds: the runner's own leaks are suppressed (tests/lsan.supp);
# any other leak still fails the suite.
export LSAN_OPTIONS="suppressions=$(cd "$(dirname "$0")" && pwd)/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"

status=0
run_one() { # BIN EXTRA_ARGS...
	local bin=$1; shift
	local rel=${bin##*/test/}
	local tap="$results/${rel//\//-}.tap"
	echo "=== ${rel}"
	"$bin" --tap="$tap" "$@" || status=1
}

for b in "${unit[@]}"; do run_one "$b"; done

skipped_integ=0
if [ ${#integ[@]} -gt 0 ]; then
	if [ "$(id -u)" = 0 ]; then
		# Each integration test builds its own namespaces and veth pairs;
		# one at a time keeps the 2-core machine's timing honest.
		for b in "${integ[@]}"; do run_one "$b" --jobs 1; done
	else
		echo "################################################################"
		echo "# SKIPPED: ${#integ[@]} integration suite(s) need root"
		echo "# (network namespaces, veth, XDP, AF_XDP). Run 'make test' as root."
		echo "################################################################"
		skipped_integ=${#integ[@]}
	fi
fi

pass=0; fail=0; skip=0
for t in "$results"/*.tap; do
	[ -f "$t" ] || continue
	# Criterion 2.4 writes "ok - suite::name", "not ok - ...", and
	# "ok - suite::name # SKIP reason" for cr_skip_test().
	p=$(grep -cE '^ok( |$)' "$t" | tr -d ' ')
	s=$(grep -ciE '^ok( |$).*# skip' "$t" | tr -d ' ')
	f=$(grep -cE '^not ok( |$)' "$t" | tr -d ' ')
	pass=$((pass + p - s)); skip=$((skip + s)); fail=$((fail + f))
done
[ $skipped_integ -gt 0 ] && echo "(plus $skipped_integ integration suite(s) not run: not root)"
if [ $fail -gt 0 ]; then status=1; fi
echo "tests: $pass passed, $fail failed, $skip skipped"
exit $status
