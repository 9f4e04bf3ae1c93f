#!/usr/bin/env bash
# Evidence verification speed: in-process through lib/ (the verifier with
# its chain cache, policy included) beside OpenSSL verifying the same
# Ed25519 signature, and the latency of one `ti-attest verify` beside one
# `openssl pkeyutl -verify`. Prints a markdown table fragment.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
bin=$top/$BUILD/bin
bench=$top/$BUILD/test/helpers/attest-bench
N=${N:-20000}
RUNS=${RUNS:-5}
[ -x "$bin/ti-attest" ] && [ -x "$bench" ] || {
	echo "bench/attest.sh: build first: make all $BUILD/test/helpers/attest-bench" >&2
	exit 4
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
export TI_HOME=$tmp/plat
"$bin/ti-attest" init 2>/dev/null
printf '.\n' >p.jq
"$bin/ti-attest" manifest p.jq --to age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj \
    --from any >m.json
M=$("$bin/ti-attest" measure --manifest m.json)
nonce=$(head -c 16 /dev/urandom | basenc --base64url | tr -d =)
"$bin/ti-attest" quote --manifest m.json --nonce "$nonce" >ev
pol=".tee == \"sim\" and .measurement == \"$M\""

median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

# The same signature for openssl: signing input, signature, leaf public key.
python3 - <<'PY'
import base64
h, p, s = open('ev').read().strip().split('.')
d = lambda x: base64.urlsafe_b64decode(x + '=' * (-len(x) % 4))
open('input', 'w').write(h + '.' + p)
open('sig', 'wb').write(d(s))
import json
x5c = json.loads(d(h))['x5c'][0]
open('leaf.der', 'wb').write(base64.b64decode(x5c))
PY
openssl x509 -inform DER -in leaf.der -pubkey -noout >pub.pem
openssl pkeyutl -verify -pubin -inkey pub.pem -rawin -in input -sigfile sig >/dev/null

wall=() cpu=()
for _ in $(seq "$RUNS"); do
	read -r w c < <("$bench" "$TI_HOME/root.pem" "$pol" ev "$nonce" "$N")
	wall+=("$w") cpu+=("$c")
done
lib_wall=$(printf '%s\n' "${wall[@]}" | median)
lib_cpu=$(printf '%s\n' "${cpu[@]}" | median)
ssl=()
for _ in $(seq "$RUNS"); do
	ssl+=("$(openssl speed -seconds 1 ed25519 2>/dev/null | awk '/Ed25519/ { print int($NF) }')")
done
ssl_rate=$(printf '%s\n' "${ssl[@]}" | median)

hyperfine -N --runs 30 --warmup 3 --export-json hf.json \
    "$bin/ti-attest verify --trust $TI_HOME/root.pem --policy '$pol' ev" \
    "openssl pkeyutl -verify -pubin -inkey pub.pem -rawin -in input -sigfile sig" \
    "jq -n true" >/dev/null 2>&1
read -r ti_ms ssl_ms jq_ms < <(python3 -c '
import json
r = json.load(open("hf.json"))["results"]
print(" ".join("%.2f" % (x["median"] * 1000) for x in r))')

echo "| attest | ti (lib, in-process) | openssl | ratio |"
echo "|---|---|---|---|"
echo "| verifications/s, one core (CPU time; chain cached, policy run) | $lib_cpu | $ssl_rate (speed ed25519 verify) | $(awk "BEGIN { printf \"%.2f\", $lib_cpu / $ssl_rate }") |"
echo "| verifications/s, wall clock | $lib_wall | | |"
echo "| one CLI verification, median ms (jq compile, chain, policy) | $ti_ms (ti-attest verify) | $ssl_ms (pkeyutl -verify) | $(awk "BEGIN { printf \"%.2f\", $ti_ms / $ssl_ms }") |"
echo "| one jq start-up (\`jq -n true\`: libjq 1.6 compiles its builtins), median ms | $ti_ms | $jq_ms (jq) | $(awk "BEGIN { printf \"%.2f\", $ti_ms / $jq_ms }") |"
echo "| in-process speed-up over one CLI call | $(awk "BEGIN { printf \"%.0fx\", $lib_cpu * $ti_ms / 1000 }") | | |"
