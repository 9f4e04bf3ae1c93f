#!/usr/bin/env bash
# Build every libFuzzer harness test/fuzz/fuzz_*.c with clang, ASan and
# UBSan, and run each for FUZZ_SECONDS (default 30). Seeds: the committed
# test/fuzz/corpus/<name>/ plus the shared vectors that test/fuzz/<name>.seeds
# lists (globs relative to $TI_SHARED), used in place. A crash fails the run
# and leaves its input in build/fuzz/crashes/<name>/. Arguments narrow the
# run to the named harnesses; FUZZ_JOBS (default 2) run at once.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 4
export TI_SHARED=${TI_SHARED:-$top/../shared}
secs=${FUZZ_SECONDS:-30}
export LSAN_OPTIONS="suppressions=$top/test/lsan.supp:print_suppressions=0"
export ASAN_OPTIONS="fast_unwind_on_malloc=0"
B=build/fuzz
command -v clang >/dev/null || { echo "fuzz: clang not installed; skipped"; exit 0; }
FLAGS="-std=c11 -O1 -g -Wall -Wextra -Wno-missing-field-initializers -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined"
make -s BUILD=$B CC=clang CFLAGS="$FLAGS" $B/libti.a || exit 4
libs="$(pkg-config --libs openssl libcurl libseccomp libmicrohttpd sqlite3 libcbor) -ljq -lonig -lm"
cflags="$(pkg-config --cflags openssl libcbor)"
jobs=${FUZZ_JOBS:-2}
harnesses=("$@")
[ ${#harnesses[@]} -eq 0 ] && harnesses=($(ls test/fuzz/fuzz_*.c 2>/dev/null | xargs -n1 basename | sed 's/\.c$//'))
mkdir -p $B/status

# fuzz_one NAME: build and run one harness; its verdict in $B/status/NAME.
fuzz_one() {
	local h=$1 bin=$B/$1 work=$B/corpus/$1 crashes=$B/crashes/$1 g f nseed=0
	local seeds=()
	if ! clang $FLAGS -fsanitize=fuzzer -D_GNU_SOURCE -Ilib $cflags \
	    -o "$bin" "test/fuzz/$h.c" $B/libti.a $libs >"$B/$h.log" 2>&1; then
		echo "not ok - fuzz $h (does not build, see $B/$h.log)"
		echo fail > "$B/status/$h"
		return
	fi
	rm -rf "$work" "$crashes"
	mkdir -p "$work" "$crashes"
	[ -d "test/fuzz/corpus/$h" ] && seeds+=("test/fuzz/corpus/$h")
	if [ -f "test/fuzz/$h.seeds" ]; then
		while read -r g; do
			[ -z "$g" ] || [ "${g#\#}" != "$g" ] && continue
			for f in $TI_SHARED/$g; do
				# libFuzzer takes directories: a seed file is
				# linked into the working corpus, used in place.
				if [ -d "$f" ]; then
					seeds+=("$f")
				elif [ -e "$f" ]; then
					ln -s "$f" "$work/seed-$((++nseed))-${f##*/}"
				fi
			done
		done < "test/fuzz/$h.seeds"
	fi
	echo "fuzz: $h for ${secs}s (${#seeds[@]} seed directories, $nseed seed files)"
	if "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
	    -artifact_prefix="$crashes/" -print_final_stats=0 \
	    "$work" "${seeds[@]}" >"$B/$h.log" 2>&1; then
		echo "ok - fuzz $h"
		echo pass > "$B/status/$h"
	else
		echo "not ok - fuzz $h (see $B/$h.log, $crashes)"
		grep -m5 -E 'ERROR|SUMMARY' "$B/$h.log"
		echo fail > "$B/status/$h"
	fi
}

# Run $jobs harnesses at a time (FUZZ_JOBS, default 2: one a core).
rm -f $B/status/*
running=0
for h in "${harnesses[@]}"; do
	if [ "$running" -ge "$jobs" ]; then
		wait -n
		running=$((running - 1))
	fi
	fuzz_one "$h" &
	running=$((running + 1))
done
wait
passed=0 failed=0
for h in "${harnesses[@]}"; do
	if [ "$(cat "$B/status/$h" 2>/dev/null)" = pass ]; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
	fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
