#!/usr/bin/env bash
# The price of trust: customers per second through the whole store/taxi
# pipeline, ti-fetch | ti-run | ti-post against the attested services,
# beside curl | jq | curl on plaintext against the same services' plaintext
# twins (--plain, for benchmarking only), in the same run. Medians of RUNS
# runs (default 5) for each size in SIZES (default "10000 1000000").
# Prints a markdown table fragment on stdout; progress on stderr.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=$top/${BUILD:-build}
ex=$top/examples/store-taxi
sizes=${SIZES:-10000 1000000}
runs=${RUNS:-5}
page=${PAGE:-100000}	# customers per GET: one message each
export PATH="$build/bin:$build/examples/store-taxi:$PATH"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ti-bench-demo.XXXXXX")
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	rm -rf "$tmp"
}
trap cleanup EXIT
cd "$tmp"
umask 077

export TI_HOME=$tmp/home
ti-attest init >/dev/null 2>&1
openssl genpkey -algorithm ed25519 -out store.key 2>/dev/null
openssl pkey -in store.key -pubout -out store.pub
ti-seal keygen -o taxi.key 2>/dev/null
ti-seal pubkey -i taxi.key >taxi.pub
head -c 24 /dev/urandom | base64 >token
cp "$ex/eligible.jq" .
ti-attest manifest eligible.jq --from store.pub --to-file taxi.pub >m.json
meas=$(ti-attest measure --manifest m.json)
printf '{"/customers":["%s"]}\n' "$meas" >store-policy.json
printf '{"/bookings":["%s"]}\n' "$meas" >taxi-policy.json

# start NAME ARGS...: a service in the background, its port in $port.
start() {
	local name=$1 i
	shift
	rm -f "$name.port"
	"$@" --port-file "$name.port" >/dev/null 2>"$name.log" &
	pids+=($!)
	for i in $(seq 200); do
		if [ -s "$name.port" ]; then
			port=$(cat "$name.port")
			return
		fi
		sleep 0.05
	done
	echo "bench: $name did not start" >&2
	cat "$name.log" >&2
	exit 4
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# timeit CMD...: seconds taken, to stdout.
timeit() {
	local t0 t1
	t0=$(date +%s.%N)
	"$@" >/dev/null
	t1=$(date +%s.%N)
	awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }'
}

echo "| customers | ti pipeline (customers/s) | curl \| jq \| curl plaintext (customers/s) | ti time / plain time |"
echo "|---:|---:|---:|---:|"
for n in $sizes; do
	rm -f store.db taxi.db* ptaxi.db* ./*.port
	echo "bench: generating $n customers" >&2
	store-service --db store.db --gen "$n"
	start store store-service --db store.db --key store.key \
	    --trust "$TI_HOME/root.pem" --policy store-policy.json
	sp=$port
	start taxi taxi-service --db taxi.db --identity taxi.key \
	    --trust "$TI_HOME/root.pem" --policy taxi-policy.json \
	    --token-file token
	tp=$port
	start pstore store-service --db store.db --plain
	psp=$port
	start ptaxi taxi-service --db ptaxi.db --token-file token --plain
	ptp=$port
	urls="" purls=""
	for ((a = 0; a < n; a += page)); do
		urls="$urls http://127.0.0.1:$sp/customers?after=$a&limit=$page"
		purls="$purls http://127.0.0.1:$psp/customers?after=$a&limit=$page"
	done
	ti_pipe() {
		TI_MANIFEST=m.json STORE_URL="$urls" \
		    TAXI_URL="http://127.0.0.1:$tp/bookings" \
		    LAUNCHER_LOCK=$tmp/lock "$ex/launcher.sh" 2>>launcher.log
	}
	plain_pipe() {
		# shellcheck disable=SC2086
		curl -sf $purls | jq -c -f eligible.jq |
		    curl -sf --data-binary @- \
		    "http://127.0.0.1:$ptp/bookings"
	}
	: >ti.times
	: >plain.times
	for ((r = 0; r < runs; r++)); do
		echo "bench: $n customers, run $((r + 1))/$runs" >&2
		timeit ti_pipe >>ti.times
		timeit plain_pipe >>plain.times
	done
	booked=$(curl -sf -H "Authorization: Bearer $(cat token)" \
	    "http://127.0.0.1:$tp/bookings" | jq length)
	pbooked=$(curl -sf -H "Authorization: Bearer $(cat token)" \
	    "http://127.0.0.1:$ptp/bookings" | jq length)
	if [ "$booked" != "$pbooked" ]; then
		echo "bench: ti booked $booked, plaintext $pbooked" >&2
		exit 1
	fi
	ti=$(median <ti.times)
	pl=$(median <plain.times)
	awk -v n="$n" -v t="$ti" -v p="$pl" 'BEGIN {
	    printf "| %d | %.0f | %.0f | %.2fx |\n", n, n / t, n / p, t / p }'
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	pids=()
done
