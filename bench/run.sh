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

# run NAME CMD...: one timed run, appended to NAME.times as
# "wall-seconds cpu-seconds max-rss-kb".
run() {
	local name=$1
	shift
	/usr/bin/time -f '%e %U %S %M' -o t.out "$@" >/dev/null ||
		echo "$name: a run failed" >&2
	awk '{ print $1, $2 + $3, $4 }' t.out >>"$name.times"
}

# stat NAME: "median-wall median-cpu max-rss" of NAME's runs.
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
stat() {
	echo "$(cut -d' ' -f1 "$1.times" | median)" \
	    "$(cut -d' ' -f2 "$1.times" | median)" \
	    "$(cut -d' ' -f3 "$1.times" | sort -n | tail -1)"
}

# Check once that the sealed output opens to exactly jq's output.
jq -c -f f.jq big.ndjson >want.out
"$bin/ti-run" --manifest one.json <one.big.msg >out.msg
sig=$("$bin/ti-attest" keys --manifest one.json | sed -n 2p)
"$msg" check "$sig" part <out.msg >/dev/null
age -d -i sink.key part.0 | cmp -s - want.out ||
	{ echo "ti-run output differs from jq -c" >&2; exit 1; }
rm -f out.msg part.* want.out

# Interleaved, so that the other users of the machine weigh on each alike.
for i in $(seq "$RUNS"); do
	run jq jq -c -f f.jq big.ndjson
	run one sh -c "'$bin/ti-run' --manifest one.json <one.big.msg"
	run two sh -c "'$bin/ti-run' --manifest two.json <two.big.msg"
done
run one-small sh -c "'$bin/ti-run' --manifest one.json <one.small.msg"
run two-small sh -c "'$bin/ti-run' --manifest two.json <two.small.msg"
read -r tjq cjq rjq < <(stat jq)
read -r t1 c1 r1 < <(stat one)
read -r t2 c2 r2 < <(stat two)
read -r _ _ s1 < <(stat one-small)
read -r _ _ s2 < <(stat two-small)

rate() { awk -v n="$N" -v t="$1" 'BEGIN { printf "%.0f", n / t }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }'; }
echo "| \$150 filter, $N records | wall s | records/s | vs jq -c | CPU s | max RSS, $small / $N records |"
echo "|---|---|---|---|---|---|"
echo "| jq -c, plaintext | $tjq | $(rate "$tjq") | 1.00x | $cjq | - / $rjq KB |"
echo "| ti-run, sealed in/out, one compartment | $t1 | $(rate "$t1") | $(ratio "$tjq" "$t1") | $c1 | $s1 KB / $r1 KB |"
echo "| ti-run, sealed in/out, --jobs 2 | $t2 | $(rate "$t2") | $(ratio "$tjq" "$t2") | $c2 | $s2 KB / $r2 KB |"
