#!/usr/bin/env bash
# The store/taxi scenario end to end (`make demo`): a Store and a Taxi
# service on 127.0.0.1 with fresh keys, the sim platform, generated
# customers, one run of the launcher, and the bookings the Taxi holds.
# Everything lives in a temporary directory that is removed at the end;
# nothing is left running.
#   DEMO_CUSTOMERS  customers to generate (default 1000)
#   DEMO_ROWS       bookings to show (default 15)
#   DEMO_KEEP=1     keep the temporary directory (its path is printed)
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
here=$top/examples/store-taxi
build=$top/${BUILD:-build}
customers=${DEMO_CUSTOMERS:-1000}
rows=${DEMO_ROWS:-15}

if [ ! -x "$build/bin/ti-run" ] ||
    [ ! -x "$build/examples/store-taxi/store-service" ]; then
	make -C "$top" --no-print-directory deps all >&2
fi
export PATH="$build/bin:$build/examples/store-taxi:$PATH"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ti-demo.XXXXXX")
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	for p in "${pids[@]}"; do
		wait "$p" 2>/dev/null || true
	done
	if [ "${DEMO_KEEP:-0}" = 1 ]; then
		echo "demo: kept $tmp" >&2
	else
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
cd "$tmp"
umask 077

step() { printf '\n== %s\n' "$*"; }

# wait_port FILE PID: the port a service wrote once it listens.
wait_port() {
	local i
	for i in $(seq 100); do
		if [ -s "$1" ]; then
			cat "$1"
			return 0
		fi
		kill -0 "$2" 2>/dev/null || break
		sleep 0.05
	done
	echo "demo: a service did not start; its log:" >&2
	cat "${1%.port}.log" >&2
	return 4
}

step "platform: the sim attestation backend in a fresh TI_HOME"
export TI_HOME=$tmp/home
ti-attest init >/dev/null
root=$TI_HOME/root.pem
echo "TI_HOME=$TI_HOME (root certificate: root.pem)"

step "keys: the Store signs (Ed25519), the Taxi opens (age X25519)"
openssl genpkey -algorithm ed25519 -out store.key 2>/dev/null
openssl pkey -in store.key -pubout -out store.pub
ti-seal keygen -o taxi.key 2>/dev/null
ti-seal pubkey -i taxi.key >taxi.pub
head -c 24 /dev/urandom | base64 >operator.token
echo "store: $(store-service --key store.key --pubkey)"
echo "taxi:  $(cat taxi.pub)"

step "the process: eligible.jq, its manifest and measurement"
cp "$here/eligible.jq" .
ti-attest manifest eligible.jq --from store.pub --to-file taxi.pub \
    >eligible.json
measurement=$(ti-attest measure --manifest eligible.json)
echo "measurement: $measurement"
printf '{"/customers":["%s"]}\n' "$measurement" >store-policy.json
printf '{"/bookings":["%s"]}\n' "$measurement" >taxi-policy.json

step "data: $customers customers with receipts in the Store's SQLite"
store-service --db store.db --gen "$customers"

step "services on 127.0.0.1"
store-service --db store.db --key store.key --trust "$root" \
    --policy store-policy.json --port-file store.port 2>store.log &
pids+=($!)
taxi-service --db taxi.db --identity taxi.key --trust "$root" \
    --policy taxi-policy.json --token-file operator.token \
    --port-file taxi.port 2>taxi.log &
pids+=($!)
sport=$(wait_port store.port "${pids[0]}")
tport=$(wait_port taxi.port "${pids[1]}")
echo "store http://127.0.0.1:$sport/customers"
echo "taxi  http://127.0.0.1:$tport/bookings"

step "the launcher: ti-fetch | ti-run | ti-post"
rc=0
TI_MANIFEST=eligible.json STORE_URL="http://127.0.0.1:$sport/customers" \
    TAXI_URL="http://127.0.0.1:$tport/bookings" \
    LAUNCHER_LOCK=$tmp/launcher.lock \
    "$here/launcher.sh" || rc=$?
if [ "$rc" -ne 0 ]; then
	echo "demo: the launcher failed (exit $rc); service logs:" >&2
	cat store.log taxi.log >&2
	exit "$rc"
fi

step "the bookings the Taxi holds (GET /bookings, operator token)"
curl -sf -H "Authorization: Bearer $(cat operator.token)" \
    "http://127.0.0.1:$tport/bookings" >bookings.json
booked=$(jq length bookings.json)
eligible=$(store-service --db store.db --dump /customers |
    jq -c -f eligible.jq | wc -l)
{
	printf 'CUSTOMER\tPHONE\tADDRESS\tDATE\n'
	jq -r --argjson n "$rows" '.[:$n][] |
	    [.customer, .phone, .address, .date] | @tsv' bookings.json
} | awk -F '\t' '{ printf "%-9s %-16s %-30s %s\n", $1, $2, $3, $4 }'
[ "$booked" -gt "$rows" ] && echo "... and $((booked - rows)) more"
printf '\ncustomers %s   eligible %s   booked %s\n' "$customers" "$eligible" \
    "$booked"
echo "(eligible: what jq computes from the Store's plaintext, for comparison)"
if [ "$booked" -ne "$eligible" ]; then
	echo "demo: booked and eligible differ" >&2
	exit 1
fi

cat <<'EOF'

What this run protected, and what it did not (the sim backend):
- The Store released its customers only to a process whose manifest it
  admits; between the tools the data was sealed (age), and the process ran
  in a compartment that could not send it anywhere but to the Taxi.
- sim is not hardware: its platform secret is a file in TI_HOME, so
  whoever runs the machine could derive the process's keys and read the
  data. sim protects the data from the process, not from the operator.
  With a hardware backend (tsm, nitro, sgx) the secret stays in the TEE.
EOF
