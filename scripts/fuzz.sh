#!/usr/bin/env bash
# Build every libFuzzer harness test/fuzz/fuzz_*.c with clang, ASan and
# UBSan, and run each for FUZZ_SECONDS (default 30). Seeds: the committed
# test/fuzz/corpus/<name>/ plus the shared vectors that test/fuzz/<name>.seeds
# lists (globs relative to $TI_SHARED), used in place. A crash fails the run
# and leaves its input in build/fuzz/crashes/<name>/. Arguments narrow the
# run to the named harnesses.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 4
export TI_SHARED=${TI_SHARED:-$top/../shared}
secs=${FUZZ_SECONDS:-30}
export LSAN_OPTIONS="suppressions=$top/test/lsan.supp:print_suppressions=0"
export ASAN_OPTIONS="fast_unwind_on_malloc=0"
B=build/fuzz
command -v clang >/dev/null || { echo "fuzz: clang not installed; skipped"; exit 0; }
FLAGS="-std=c11 -O1 -g -Wall -Wextra -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined"
make -s BUILD=$B CC=clang CFLAGS="$FLAGS" $B/libti.a || exit 4
libs="$(pkg-config --libs openssl libcurl libseccomp libmicrohttpd sqlite3 libcbor) -ljq -lonig -lm"
cflags="$(pkg-config --cflags openssl libcbor)"
passed=0 failed=0
harnesses=("$@")
[ ${#harnesses[@]} -eq 0 ] && harnesses=($(ls test/fuzz/fuzz_*.c 2>/dev/null | xargs -n1 basename | sed 's/\.c$//'))
for h in "${harnesses[@]}"; do
	bin=$B/$h
	clang $FLAGS -fsanitize=fuzzer -D_GNU_SOURCE -Ilib $cflags -o "$bin" \
	    "test/fuzz/$h.c" $B/libti.a $libs || { failed=$((failed + 1)); continue; }
	work=$B/corpus/$h crashes=$B/crashes/$h
	rm -rf "$work" "$crashes"
	mkdir -p "$work" "$crashes"
	seeds=()
	[ -d "test/fuzz/corpus/$h" ] && seeds+=("test/fuzz/corpus/$h")
	if [ -f "test/fuzz/$h.seeds" ]; then
		while read -r g; do
			[ -z "$g" ] || [ "${g#\#}" != "$g" ] && continue
			for f in $TI_SHARED/$g; do [ -e "$f" ] && seeds+=("$f"); done
		done < "test/fuzz/$h.seeds"
	fi
	echo "fuzz: $h for ${secs}s (${#seeds[@]} seed paths)"
	if "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
	    -artifact_prefix="$crashes/" -print_final_stats=0 \
	    "$work" "${seeds[@]}" >"$B/$h.log" 2>&1; then
		echo "ok - fuzz $h"
		passed=$((passed + 1))
	else
		echo "not ok - fuzz $h (see $B/$h.log, $crashes)"
		grep -m5 -E 'ERROR|SUMMARY' "$B/$h.log"
		failed=$((failed + 1))
	fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
