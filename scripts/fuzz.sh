#!/bin/sh
# Build every test/fuzz/fuzz_*.c with clang's libFuzzer, ASan and UBSan,
# seed a corpus from the genuine samples in ../shared/vectors (copied into
# build/fuzz/, never into the repository), and run each harness for
# FUZZ_SECONDS (default 60). Arguments narrow the run: fuzz_nitro ...
# Exit status: 0 if no harness found a crash, 1 otherwise.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
: "${FUZZ_SECONDS:=60}"
: "${CC_FUZZ:=clang}"
export TI_SHARED="${TI_SHARED:-$top/../shared}"
V=$TI_SHARED/vectors
out=build/fuzz
SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
CFLAGS="-std=c11 -g -O1 -D_GNU_SOURCE -Ilib $(pkg-config --cflags openssl libcbor)"
LIBS="$(pkg-config --libs openssl libcurl libseccomp libmicrohttpd sqlite3 libcbor) -ljq -lonig -lm"
mkdir -p "$out/obj"

# The library, instrumented for coverage.
objs=""
for c in lib/*.c; do
	o=$out/obj/$(basename "$c" .c).o
	if [ ! -e "$o" ] || [ "$c" -nt "$o" ] || [ "$0" -nt "$o" ]; then
		# shellcheck disable=SC2086
		$CC_FUZZ $CFLAGS $SAN -fsanitize=fuzzer-no-link -c -o "$o" "$c"
	fi
	objs="$objs $o"
done

seed() {	# seed HARNESS FILE [PREFIX-BYTE]
	d=$out/corpus/$1
	mkdir -p "$d"
	if [ $# -eq 3 ]; then
		{ printf "$3"; cat "$2"; } >"$d/seed-$(basename "$2")"
	else
		cp "$2" "$d/seed-$(basename "$2")"
	fi
}

seed_all() {
	seed fuzz_nitro "$V/nitro/evervault_valid-attestation-doc-bytes"
	base64 -d "$V/nitro/blocky_nitro_attestation.b64" \
	    >"$out/blocky.bin" 2>/dev/null || true
	seed fuzz_nitro "$out/blocky.bin"
	seed fuzz_dcap "$V/sgx-dcap/sgx_quote" '\000'
	seed fuzz_dcap "$V/tdx/phala_tdx_quote" '\000'
	seed fuzz_dcap "$V/sgx-dcap/sgx_quote_collateral.json" '\001'
	seed fuzz_snp "$V/sev-snp/attestation.bin"
	seed fuzz_snp "$V/sev-snp/vcek.testcer"
}
seed_all

if [ $# -gt 0 ]; then
	harnesses=$*
else
	harnesses=$(for f in test/fuzz/fuzz_*.c; do basename "$f" .c; done)
fi
# libjq 1.6 leaks a string when jv_parse meets two values without a
# separator ('["x" "y"]'; fixed in jq 1.7), which fuzz_dcap's collateral
# JSON reaches. libjq has no frame pointers, so LeakSanitizer's fast
# unwinder sees only jv_mem_alloc: for that harness alone, leaks of jv
# values are suppressed (the unit and bats tests under SANITIZE=1 still
# check ours, without suppression).
printf 'leak:jv_mem_alloc\n' >"$out/lsan-jq.supp"
status=0
for h in $harnesses; do
	# shellcheck disable=SC2086
	$CC_FUZZ $CFLAGS $SAN -fsanitize=fuzzer -o "$out/$h" \
	    "test/fuzz/$h.c" $objs $LIBS
	mkdir -p "$out/corpus/$h" "$out/crash/$h"
	echo "fuzz: $h for ${FUZZ_SECONDS}s" >&2
	supp=
	[ "$h" = fuzz_dcap ] && supp="suppressions=$top/$out/lsan-jq.supp"
	if ! LSAN_OPTIONS="$supp" "$out/$h" -max_total_time="$FUZZ_SECONDS" -max_len=65536 \
	    -timeout=10 -print_final_stats=1 \
	    -artifact_prefix="$out/crash/$h/" "$out/corpus/$h" \
	    >"$out/$h.log" 2>&1; then
		echo "fuzz: $h FAILED, see $out/$h.log and $out/crash/$h/" >&2
		status=1
	fi
	grep -E '^stat::(number_of_executed_units|peak_rss_mb)|^#[0-9]+.*DONE' \
	    "$out/$h.log" | sed "s/^/fuzz: $h: /" >&2 || true
done
exit $status
