#!/usr/bin/env bash
# Run the C unit tests (TAP) and the bats files, and print a summary whose
# last line is "N passed, N failed". Arguments narrow the run: "unit",
# or bats file names (test/ti-seal.bats).
set -u
BUILD=${BUILD:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 4
case $BUILD in *san*) export TI_SANITIZE=1 ;; *) export TI_SANITIZE=0 ;; esac
export TI_TOP=$top TI_BUILD=$top/$BUILD TI_SHARED=${TI_SHARED:-$top/../shared}
export PATH="${TI_WRAP:+$TI_WRAP:}$top/$BUILD/bin:$PATH"
export LSAN_OPTIONS="suppressions=$top/test/lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export ASAN_OPTIONS="fast_unwind_on_malloc=0:detect_leaks=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
passed=0 failed=0 log=$(mktemp)
trap 'rm -f "$log"' EXIT

count() {	# count TAP lines of $log
	local p f
	p=$(grep -c '^ok ' "$log") f=$(grep -c '^not ok ' "$log")
	passed=$((passed + p)) failed=$((failed + f))
	grep '^not ok ' "$log" | sed "s|^|FAIL $1: |"
}

run_units() {
	local t
	for t in "$BUILD"/test/*_test; do
		[ -x "$t" ] || continue
		(cd test/unit && "$top/$t") >"$log" 2>&1
		rc=$?
		count "$(basename "$t")"
		if [ $rc -ne 0 ] && ! grep -q '^not ok ' "$log"; then
			echo "FAIL $(basename "$t"): exit $rc"; tail -5 "$log"
			failed=$((failed + 1))
		fi
	done
}

run_bats() {
	# Files run two at a time (GNU parallel), tests within a file in order.
	local jobs=()
	if [ "${TI_JOBS:-2}" -gt 1 ] && command -v parallel >/dev/null; then
		jobs=(--jobs "${TI_JOBS:-2}" --no-parallelize-within-files)
	fi
	bats --tap "${jobs[@]}" "$@" >"$log" 2>&1
	rc=$?
	count bats
	if [ $rc -ne 0 ] && ! grep -q '^not ok ' "$log"; then
		echo "FAIL bats: exit $rc"; tail -20 "$log"
		failed=$((failed + 1))
	fi
	grep -A12 '^not ok ' "$log" | grep '^#' | head -200
}

if [ $# -eq 0 ]; then
	run_units
	set -- test/*.bats
	[ -e "$1" ] && run_bats "$@"
elif [ "$1" = unit ]; then
	run_units
else
	run_bats "$@"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
