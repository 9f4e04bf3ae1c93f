#!/usr/bin/env bash
# Seal and open a 1 GiB file (in /dev/shm, output to /dev/null) with
# ti-seal and with age in the same run; medians of RUNS runs. Prints a
# markdown table fragment: throughput, peak RSS, ratios, and
# `openssl speed -evp chacha20-poly1305` at 64 KiB as the limit.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
TISEAL=${TISEAL:-$top/$BUILD/bin/ti-seal}
RUNS=${RUNS:-5}
SIZE_MIB=${SIZE_MIB:-1024}
dir=$(mktemp -d /dev/shm/ti-seal-bench.XXXXXX)
trap 'rm -rf "$dir"' EXIT

for t in "$TISEAL" age age-keygen openssl /usr/bin/time; do
	command -v "$t" >/dev/null || { echo "bench/seal.sh: missing $t" >&2; exit 4; }
done
"$TISEAL" keygen -o "$dir/key.txt" 2>/dev/null
r=$("$TISEAL" pubkey -i "$dir/key.txt")
head -c $((SIZE_MIB << 20)) /dev/urandom > "$dir/plain"
bytes=$((SIZE_MIB << 20))

# run LABEL CMD...: one timed run; appends "seconds maxrss_kib" to $dir/LABEL.
run() {
	local label=$1 t0 t1
	shift
	t0=$(date +%s%N)
	/usr/bin/time -f '%M' -o "$dir/rss" "$@" > /dev/null
	t1=$(date +%s%N)
	echo "$(( (t1 - t0) / 1000 )) $(tail -1 "$dir/rss")" >> "$dir/$label"
}

# median COLUMN LABEL
median() {
	cut -d' ' -f"$1" "$dir/$2" | sort -n | awk '{ v[NR] = $1 } END {
	    print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

"$TISEAL" seal -r "$r" -o "$dir/ti.age" "$dir/plain"
age -r "$r" -o "$dir/age.age" "$dir/plain"
for i in $(seq "$RUNS"); do
	run ti_seal "$TISEAL" seal -r "$r" "$dir/plain"
	run age_seal age -r "$r" "$dir/plain"
	run ti_open "$TISEAL" open -i "$dir/key.txt" "$dir/age.age"
	run age_open age -d -i "$dir/key.txt" "$dir/ti.age"
done

limit=$(openssl speed -evp chacha20-poly1305 -bytes 65536 -seconds 3 2>/dev/null |
    awk '/^[Cc]ha[Cc]ha20-[Pp]oly1305/ { sub(/k$/, "", $NF); print $NF * 1000 }')

mbs() {	# MB/s from microseconds
	awk -v b="$bytes" -v us="$1" 'BEGIN { printf "%.0f", b / us }'
}
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'
}
pct() {
	awk -v a="$1" -v l="$limit" 'BEGIN { printf "%.0f%%", 100 * a * 1e6 / l }'
}
ts=$(mbs "$(median 1 ti_seal)") as=$(mbs "$(median 1 age_seal)")
to=$(mbs "$(median 1 ti_open)") ao=$(mbs "$(median 1 age_open)")
echo "### ti-seal vs age: ${SIZE_MIB} MiB in /dev/shm to /dev/null, median of $RUNS ($(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg))"
echo
echo "| operation | ti-seal MB/s | age MB/s | ratio | ti-seal of limit | ti-seal peak RSS | age peak RSS |"
echo "|---|---|---|---|---|---|---|"
echo "| seal | $ts | $as | $(ratio "$ts" "$as")x | $(pct "$ts") | $(median 2 ti_seal) KiB | $(median 2 age_seal) KiB |"
echo "| open | $to | $ao | $(ratio "$to" "$ao")x | $(pct "$to") | $(median 2 ti_open) KiB | $(median 2 age_open) KiB |"
echo
echo "Limit: openssl speed -evp chacha20-poly1305 -bytes 65536: $(awk -v l="$limit" 'BEGIN { printf "%.0f", l / 1e6 }') MB/s."
