#!/usr/bin/env bash
# ti-run beside jq: N customer records (default 1,000,000) through the $150
# filter, ti-run with sealed input and output (one compartment, then
# --jobs 2) against `jq -c` on the plaintext, in the same run. Medians of
# RUNS runs (default 5); max RSS at N/10 and N records shows memory flat in
# the record count. Prints a markdown table fragment on stdout.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
N=${N:-1000000}
RUNS=${RUNS:-5}
bin=$top/$BUILD/bin
make -s -C "$top" BUILD="$BUILD" "$BUILD/bin/ti-run" "$BUILD/bin/ti-attest" \
	"$BUILD/test/helpers/ti-msg" >&2
msg=$top/$BUILD/test/helpers/ti-msg
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
export TI_HOME=$work/ti TMPDIR=$work
"$bin/ti-attest" init >/dev/null 2>&1
age-keygen -o sink.key 2>/dev/null
sink=$(age-keygen -y sink.key)
(umask 077; head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >sender.seed)
"$msg" pub sender.seed >sender.pub
echo 'select((.receipts|add) >= 150)' >f.jq
small=$((N / 10))
"$top/bench/gen-customers" "$N" >big.ndjson
head -n "$small" big.ndjson >small.ndjson

# manifest NAME OPTIONS...: a manifest and the recipient it opens.
manifest() {
	local name=$1
	shift
	"$bin/ti-run" --print-manifest f.jq --from sender.pub --to "$sink" \
		--timeout 3600 --memory 1G "$@" >"$name.json"
	"$bin/ti-attest" keys --manifest "$name.json" | sed -n 1p >"$name.rec"
}
manifest one
manifest two --jobs 2
for m in one two; do
	for d in big small; do
		age -r "$(cat $m.rec)" <$d.ndjson |
			"$msg" make sender.seed QUFBQUFBQUFBQUFBQUFBQQ 0 true >$m.$d.msg
	done
done

# measure NAME CMD...: RUNS timings; prints "median-seconds max-rss-kb".
measure() {
	local name=$1 i
	shift
	for i in $(seq "$RUNS"); do
		/usr/bin/time -f '%e %M' -o t.$i "$@" >/dev/null ||
			echo "$name: run $i failed" >&2
	done
	cat t.* | sort -n | awk -v r="$RUNS" '{ s[NR] = $1; if ($2 > m) m = $2 }
		END { print s[int((r + 1) / 2)], m }'
	rm -f t.*
}

# Check once that the sealed output opens to exactly jq's output.
jq -c -f f.jq big.ndjson >want.out
"$bin/ti-run" --manifest one.json <one.big.msg >out.msg
sig=$("$bin/ti-attest" keys --manifest one.json | sed -n 2p)
"$msg" check "$sig" part <out.msg >/dev/null
age -d -i sink.key part.0 | cmp -s - want.out ||
	{ echo "ti-run output differs from jq -c" >&2; exit 1; }
rm -f out.msg part.* want.out

read -r tjq rjq < <(measure jq jq -c -f f.jq big.ndjson)
read -r t1 r1 < <(measure one sh -c "'$bin/ti-run' --manifest one.json <one.big.msg")
read -r t2 r2 < <(measure two sh -c "'$bin/ti-run' --manifest two.json <two.big.msg")
read -r _ s1 < <(RUNS=1 measure small sh -c "'$bin/ti-run' --manifest one.json <one.small.msg")
read -r _ s2 < <(RUNS=1 measure small sh -c "'$bin/ti-run' --manifest two.json <two.small.msg")

rate() { awk -v n="$N" -v t="$1" 'BEGIN { printf "%.0f", n / t }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }'; }
echo "| ti-run (\$150 filter, $N records, sealed in/out) | seconds | records/s | vs jq -c | max RSS at $small / $N records |"
echo "|---|---|---|---|---|"
echo "| jq -c (plaintext) | $tjq | $(rate "$tjq") | 1.00x | - / ${rjq} KB |"
echo "| ti-run, one compartment | $t1 | $(rate "$t1") | $(ratio "$tjq" "$t1") | ${s1} KB / ${r1} KB |"
echo "| ti-run --jobs 2 | $t2 | $(rate "$t2") | $(ratio "$tjq" "$t2") | ${s2} KB / ${r2} KB |"
