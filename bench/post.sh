#!/usr/bin/env bash
# Delivery rate to a local receiver (test/helpers/tiserver on 127.0.0.1,
# SQLite store): ti-post (spool, attestation, keep-alive, parallel
# requests) beside a loop of curl posts carrying the same headers and
# bodies with a session token, in the same run. Medians of RUNS runs.
# Prints a markdown table fragment.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
bin=$top/$BUILD/bin
srv=$top/$BUILD/test/helpers/tiserver
N=${N:-5000}		# messages per ti-post run
C=${C:-300}		# messages per curl loop run
RUNS=${RUNS:-5}
[ -x "$bin/ti-post" ] && [ -x "$srv" ] || {
	echo "bench/post.sh: build first: make all $BUILD/test/helpers/tiserver" >&2
	exit 4
}
tmp=$(mktemp -d)
shm=
[ -d /dev/shm ] && shm=$(mktemp -d /dev/shm/ti-bench.XXXXXX)
pid=
trap '[ -n "$pid" ] && kill "$pid"; rm -rf "$tmp" ${shm:+"$shm"}' EXIT
cd "$tmp"
export TI_HOME=$tmp/plat
"$bin/ti-attest" init 2>/dev/null
printf '.\n' >p.jq
"$bin/ti-attest" manifest p.jq --from any \
    --to age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj >m.json
head -c 32 /dev/urandom >skey
"$srv" serve --trust "$TI_HOME/root.pem" --port-file port --store store.db \
    --session-key skey 2>/dev/null &
pid=$!
for _ in $(seq 100); do [ -s port ] && break; sleep 0.05; done
url=http://127.0.0.1:$(cat port)/bookings
tok=$("$srv" mint "$TI_HOME" m.json skey)

now() { date +%s.%N; }
median() { sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
rate() { awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN { printf "%.0f", n / (b - a) }'; }

post_rates=() shm_rates=() curl_rates=()
for r in $(seq "$RUNS"); do
	# Fresh runs each time, so every message is new to the receiver.
	"$srv" gen "$TI_HOME" m.json "$N" >msgs
	t0=$(now)
	"$bin/ti-post" --manifest m.json --spool "sp$r" "$url" <msgs 2>/dev/null
	t1=$(now)
	post_rates+=("$(rate "$N" "$t0" "$t1")")
	if [ -n "$shm" ]; then
		"$srv" gen "$TI_HOME" m.json "$N" >msgs
		t0=$(now)
		"$bin/ti-post" --manifest m.json --spool "$shm/sp$r" "$url" <msgs 2>/dev/null
		t1=$(now)
		shm_rates+=("$(rate "$N" "$t0" "$t1")")
	fi
	"$srv" gen "$TI_HOME" m.json "$C" >cmsgs
	mkdir -p "c$r"
	i=0
	while IFS= read -r line; do
		printf '%s' "$line" >"c$r/$i"
		jq -r '"\(.run).\(.seq)"' <<<"$line" >"c$r/$i.key"
		i=$((i + 1))
	done <cmsgs
	t0=$(now)
	for i in $(seq 0 $((C - 1))); do
		curl -s -f -o /dev/null -H "Authorization: TI-Session $tok" \
		    -H 'Content-Type: application/vnd.ti.message+json' \
		    -H "Idempotency-Key: $(<"c$r/$i.key")" \
		    --data-binary @"c$r/$i" "$url"
	done
	t1=$(now)
	curl_rates+=("$(rate "$C" "$t0" "$t1")")
done
want=$(( (N + C) * RUNS + N * ${#shm_rates[@]} ))
got=$(sqlite3 store.db 'SELECT count(*) FROM msg')
[ "$got" -eq "$want" ] || echo "bench/post.sh: receiver stored $got of $want" >&2
p=$(printf '%s\n' "${post_rates[@]}" | median)
c=$(printf '%s\n' "${curl_rates[@]}" | median)
echo "| post (messages/s, median of $RUNS) | messages/s | vs curl loop |"
echo "|---|---|---|"
echo "| ti-post, spool on disk ($N messages) | $p | $(awk -v a="$p" -v b="$c" 'BEGIN { printf "%.1fx", a / b }') |"
if [ -n "$shm" ]; then
	s=$(printf '%s\n' "${shm_rates[@]}" | median)
	echo "| ti-post, spool on tmpfs ($N messages) | $s | $(awk -v a="$s" -v b="$c" 'BEGIN { printf "%.1fx", a / b }') |"
fi
echo "| curl loop, same headers and bodies ($C messages) | $c | 1.0x |"
