#!/usr/bin/env bash
# CI stages beyond the two test runs: a short fuzz smoke of every harness
# (when clang is available) and valgrind memcheck over the ti-seal and
# ti-attest bats suites. Last line: "N passed, N failed".
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 4
passed=0 failed=0
add() {	# add the counts of the last "N passed, N failed" line of $1
	local line
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$1" | tail -n 1)
	if [ -z "$line" ]; then failed=$((failed + 1)); return; fi
	passed=$((passed + $(echo "$line" | cut -d' ' -f1)))
	failed=$((failed + $(echo "$line" | cut -d' ' -f3)))
}
log=$(mktemp)
FUZZ_SECONDS=${FUZZ_SECONDS:-20} scripts/fuzz.sh 2>&1 | tee "$log"; add "$log"
suites=()
for f in test/ti-seal.bats test/ti-attest.bats; do [ -f "$f" ] && suites+=("$f"); done
if [ ${#suites[@]} -gt 0 ] && command -v valgrind >/dev/null; then
	scripts/valgrind-bats.sh "${suites[@]}" 2>&1 | tee "$log"; add "$log"
fi
rm -f "$log"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
