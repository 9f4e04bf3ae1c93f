#!/usr/bin/env bats
# ti-attest: platforms, manifests, measurements, keys, evidence and its
# verification, with every rejection the verifier must make.

load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

PY=/usr/bin/python3
R1=age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj

setup() {
	export TI_HOME=$BATS_TEST_TMPDIR/plat
	cd "$BATS_TEST_TMPDIR"
	ti-attest init 2>/dev/null
	printf '.\n' >p.jq
	ti-attest manifest p.jq --to "$R1" --from any >m.json
	M=$(ti-attest measure --manifest m.json)
	N=$(head -c 16 /dev/urandom | basenc --base64url | tr -d =)
	ti-attest quote --manifest m.json --nonce "$N" >ev
	POL=".tee == \"sim\" and .measurement == \"$M\""
}

verify() {
	ti-attest verify --trust "$TI_HOME/root.pem" "$@"
}

# Decode an evidence file into h.json and p.json; sig into sig.txt.
split_ev() {
	$PY - "$1" <<'EOF'
import sys, base64
h, p, s = open(sys.argv[1]).read().strip().split('.')
d = lambda x: base64.urlsafe_b64decode(x + '=' * (-len(x) % 4))
open('h.json', 'wb').write(d(h))
open('p.json', 'wb').write(d(p))
open('sig.txt', 'w').write(s)
EOF
}

# A JWS of header file, payload file, signed by a PEM Ed25519 key, or with
# the signature in sig.txt when the key is "-".
sign_ev() {
	$PY - "$@" <<'EOF'
import sys, base64
from cryptography.hazmat.primitives.serialization import load_pem_private_key
e = lambda b: base64.urlsafe_b64encode(b).rstrip(b'=').decode()
si = e(open(sys.argv[1], 'rb').read()) + '.' + e(open(sys.argv[2], 'rb').read())
if sys.argv[3] == '-':
    print(si + '.' + open('sig.txt').read())
else:
    k = load_pem_private_key(open(sys.argv[3], 'rb').read(), None)
    print(si + '.' + e(k.sign(si.encode())))
EOF
}

iat() {
	split_ev ev
	jq -r .iat p.json
}

@test "--help and --version exit 0, usage errors exit 2" {
	run ti-attest --help
	assert_success
	assert_output --partial "ti-attest verify"
	run ti-attest --version
	assert_output "ti-attest 0.1.0"
	run ti-attest frobnicate
	assert_failure 2
	run ti-attest verify --trust x
	assert_failure 2
	run ti-attest quote --manifest m.json --nonce '!!'
	assert_failure 2
	run ti-attest keys --manifest m.json --nonce AAAA
	assert_failure 2
}

@test "init creates a 0600 platform and never overwrites one" {
	for f in platform.key attest.key attest.pem root.pem backend; do
		[ "$(stat -c %a "$TI_HOME/$f")" = 600 ]
	done
	[ "$(stat -c %s "$TI_HOME/platform.key")" = 32 ]
	before=$(sha256sum "$TI_HOME/platform.key")
	run ti-attest init
	assert_failure 1
	assert_output --partial "already exists"
	[ "$(sha256sum "$TI_HOME/platform.key")" = "$before" ]
	run ti-attest init --dir "$BATS_TEST_TMPDIR/other/deep"
	assert_success
	[ -f "$BATS_TEST_TMPDIR/other/deep/root.pem" ]
	openssl x509 -in "$TI_HOME/root.pem" -noout -text | grep -q ED25519
	openssl verify -CAfile "$TI_HOME/root.pem" "$TI_HOME/attest.pem"
}

@test "manifest is canonical; measurement equals an independent SHA-256" {
	run $PY -c '
import json, hashlib, sys
raw = open("m.json").read().rstrip("\n")
c = json.dumps(json.loads(raw), sort_keys=True, separators=(",", ":"))
assert c == raw, (c, raw)
print("sha256:" + hashlib.sha256(c.encode()).hexdigest())'
	assert_success
	assert_output "$M"
}

@test "anything that changes where data can go changes the measurement" {
	base=$(ti-attest manifest p.jq --to "$R1" --from any | sha256sum)
	for extra in "--plain-out" "--stderr pass" "--split" "--pad 512" \
	    "--timeout 5" "--memory 64M" "--jobs 2" "-r" "--arg a b" \
	    "--slurpfile extra /dev/null"; do
		if [ "$extra" = --plain-out ]; then
			m=$(ti-attest manifest p.jq --from any --plain-out | sha256sum)
		else
			m=$(ti-attest manifest p.jq --to "$R1" --from any $extra | sha256sum)
		fi
		[ "$m" != "$base" ] || { echo "same with $extra"; false; }
	done
	age-keygen -o k2 2>/dev/null
	R2=$(age-keygen -y k2)
	m=$(ti-attest manifest p.jq --to "$R1" --to "$R2" --from any | sha256sum)
	[ "$m" != "$base" ]
	# order of recipients does not matter
	a=$(ti-attest manifest p.jq --to "$R2" --to "$R1" --from any | sha256sum)
	[ "$a" = "$m" ]
}

@test "manifest: usage errors and malformed manifests" {
	run ti-attest manifest p.jq --from any
	assert_failure 2
	assert_output --partial "needs at least one --to"
	run ti-attest manifest p.jq --to "$R1"
	assert_failure 2
	assert_output --partial "--from"
	run ti-attest manifest p.jq --to notarecipient --from any
	assert_failure 3
	run ti-attest manifest --manifest m.json --to "$R1"
	assert_failure 2
	jq -c '.extra = 1' m.json >bad.json
	run ti-attest measure --manifest bad.json
	assert_failure 3
	assert_output --partial "extra: unknown field"
	jq -c '.limits.jobs = "1"' m.json >bad.json
	run ti-attest measure --manifest bad.json
	assert_failure 3
	assert_output --partial "limits.jobs"
	echo '{"ti":' >bad.json
	run ti-attest measure --manifest bad.json
	assert_failure 3
}

@test "keys: per measurement, stable, and different for another manifest" {
	run ti-attest keys --manifest m.json
	assert_success
	assert_line --index 0 --regexp '^age1[a-z0-9]{58}$'
	assert_line --index 1 --regexp '^ed25519:[A-Za-z0-9_-]{43}$'
	k1=$output
	run ti-attest keys --manifest m.json --json
	assert_output --partial "\"measurement\":\"$M\""
	ti-attest manifest p.jq --to "$R1" --from any --split >m2.json
	run ti-attest keys --manifest m2.json
	[ "$output" != "$k1" ]
}

@test "round trip: age -r seals to the recipient, the platform opens it for that manifest only" {
	rcp=$(ti-attest keys --manifest m.json | head -1)
	echo '{"secret":42}' | age -r "$rcp" >sealed.age
	"$TI_BUILD/test/helpers/attest-identity" "$TI_HOME" m.json id.txt
	[ "$(stat -c %a id.txt)" = 600 ]
	run age -d -i id.txt sealed.age
	assert_success
	assert_output '{"secret":42}'
	age-keygen -o k2 2>/dev/null
	ti-attest manifest p.jq --to "$R1" --to "$(age-keygen -y k2)" \
	    --from any >other.json
	"$TI_BUILD/test/helpers/attest-identity" "$TI_HOME" other.json id2.txt
	run age -d -i id2.txt sealed.age
	assert_failure
	# another platform cannot open it either
	ti-attest init --dir p2 2>/dev/null
	"$TI_BUILD/test/helpers/attest-identity" p2 m.json id3.txt
	run age -d -i id3.txt sealed.age
	assert_failure
}

@test "verify: good evidence prints the verified claims" {
	run verify --policy "$POL" --nonce "$N" ev
	assert_success
	echo "$output" | jq -e --arg m "$M" --arg n "$N" \
	    '.tee == "sim" and .measurement == $m and .nonce == $n and
	     (.recipient | startswith("age1")) and (.sig_key | startswith("ed25519:"))'
	[ "$(echo "$output" | jq -r .recipient)" = \
	    "$(ti-attest keys --manifest m.json | head -1)" ]
	run verify --policy "$POL" --ear <ev
	assert_success
	echo "$output" | jq -e '.submods.ti["ear.status"] == "affirming"'
}

@test "verify: object policy; a denial names the failing claims" {
	run verify --policy "{\"tee\": \". == \\\"sim\\\"\", \"measurement\": \". == \\\"$M\\\"\"}" ev
	assert_success
	run verify --policy '{"tee": ". == \"sim\"", "measurement": ". == \"sha256:00\"", "nonce": "length > 100"}' ev
	assert_failure 1
	assert_output "ti-attest: policy denied: measurement, nonce"
}

@test "verify: a policy file; data bound with --data-file" {
	echo 'hello' >body
	ti-attest quote --manifest m.json --nonce "$N" --data-file body >evd
	want=$(sha256sum body | cut -d' ' -f1)
	echo ".tee == \"sim\" and .data == \"$want\"" >pol.jq
	run verify --policy-file pol.jq evd
	assert_success
	run verify --policy-file pol.jq ev
	assert_failure 1
	assert_output --partial "policy denied"
}

@test "reject: wrong measurement" {
	run verify --policy '.tee == "sim" and .measurement == "sha256:0000000000000000000000000000000000000000000000000000000000000000"' ev
	assert_failure 1
	assert_output --partial "policy denied"
	run verify --policy '{"tee": ". == \"sim\"", "measurement": ". == \"sha256:00\""}' ev
	assert_failure 1
	assert_output "ti-attest: policy denied: measurement"
}

@test "reject: forged signature (same certificates, another key)" {
	split_ev ev
	openssl genpkey -algorithm ed25519 -out forger.pem 2>/dev/null
	sign_ev h.json p.json forger.pem >forged
	run verify --policy "$POL" forged
	assert_failure 1
	assert_output "ti-attest: evidence signature does not verify"
}

@test "reject: tampered claim" {
	split_ev ev
	jq -cj '.measurement = "sha256:0000000000000000000000000000000000000000000000000000000000000000"' p.json >p2.json
	sign_ev h.json p2.json - >tampered
	run verify --policy '.tee == "sim"' tampered
	assert_failure 1
	assert_output "ti-attest: evidence signature does not verify"
	# claiming another TEE does not make it one
	jq -cj '.tee = "sgx"' p.json >p3.json
	sign_ev h.json p3.json "$TI_HOME/attest.key" >claims-sgx
	run verify --policy '.tee == "sgx"' claims-sgx
	assert_failure 1
	run verify --policy '.tee == "sim"' claims-sgx
	assert_success
	echo "$output" | jq -e '.tee == "sim"'
}

@test "reject: a chain to another root" {
	ti-attest init --dir p2 2>/dev/null
	TI_HOME=p2 ti-attest quote --manifest m.json --nonce "$N" >ev2
	run verify --policy "$POL" ev2
	assert_failure 1
	assert_output --partial "does not chain to a trusted root"
	# trusting both roots (one PEM file) admits it; DER works too
	cat "$TI_HOME/root.pem" p2/root.pem >both.pem
	run ti-attest verify --trust both.pem --policy '.tee == "sim"' ev2
	assert_success
	openssl x509 -in p2/root.pem -outform DER -out p2root.der
	run ti-attest verify --trust p2root.der --policy '.tee == "sim"' ev2
	assert_success
	# a self-made x5c of the attestation cert alone, signed by another key
	split_ev ev
	openssl genpkey -algorithm ed25519 -out rogue.pem 2>/dev/null
	openssl req -new -x509 -key rogue.pem -subj /CN=rogue -days 1 -outform DER -out rogue.der
	jq -cj --arg c "$(base64 -w0 rogue.der)" '.x5c = [$c]' h.json >h2.json
	sign_ev h2.json p.json rogue.pem >rogue
	run verify --policy "$POL" rogue
	assert_failure 1
	assert_output --partial "does not chain to a trusted root"
}

@test "reject: expired, not yet valid, too old" {
	t=$(iat)
	run verify --policy "$POL" --at "@$((t + 1000))" ev
	assert_failure 1
	assert_output "ti-attest: evidence expired"
	run verify --policy "$POL" --at "$(date -u -d @$((t - 1000)) +%Y-%m-%dT%H:%M:%SZ)" ev
	assert_failure 1
	assert_output "ti-attest: evidence not yet valid"
	run verify --policy "$POL" --at "@$((t + 100))" --max-age 30 ev
	assert_failure 1
	assert_output --partial "evidence too old"
	run verify --policy "$POL" --at "@$((t + 100))" --max-age 300 ev
	assert_success
	run verify --policy "$POL" --at "@$((t + 20 * 366 * 86400))" ev
	assert_failure 1
	assert_output --partial "certificate expired"
	run verify --policy "$POL" --at "yesterday" ev
	assert_failure 2
}

@test "reject: replayed or wrong nonce" {
	run verify --policy "$POL" --nonce AAAAAAAAAAAAAAAAAAAAAA ev
	assert_failure 1
	assert_output "ti-attest: nonce mismatch"
	N2=$(head -c 16 /dev/urandom | basenc --base64url | tr -d =)
	run verify --policy "$POL" --nonce "$N2" ev
	assert_failure 1
	assert_output "ti-attest: nonce mismatch"
}

@test "reject: alg none, HS256 and unknown algorithms" {
	split_ev ev
	for alg in none HS256 RS256 ES256 EdDSA2 ''; do
		jq -cj --arg a "$alg" '.alg = $a' h.json >h2.json
		sign_ev h.json p.json - >/dev/null
		e=$(basenc --base64url -w0 <h2.json | tr -d =).$(basenc --base64url -w0 <p.json | tr -d =)
		echo "$e." >bad-$alg
		run verify --policy '.tee == "sim"' bad-$alg
		assert_failure 1
		assert_output --partial "algorithm"
		echo "$e.$(cat sig.txt)" >bad2-$alg
		run verify --policy '.tee == "sim"' bad2-$alg
		assert_failure 1
		assert_output --partial "refused"
	done
	jq -cj 'del(.alg)' h.json >h2.json
	sign_ev h2.json p.json "$TI_HOME/attest.key" >noalg
	run verify --policy '.tee == "sim"' noalg
	assert_failure 3
	jq -cj '.crit = ["exp"]' h.json >h2.json
	sign_ev h2.json p.json "$TI_HOME/attest.key" >crit
	run verify --policy '.tee == "sim"' crit
	assert_failure 1
}

@test "reject: policies yielding \"true\", 1, two values, an error, nothing" {
	for p in '"true"' '1' 'true, true' 'error("no")' 'empty' '.nothere.x.y' \
	    '.tee | tonumber' 'null' 'false'; do
		run verify --policy "$p" ev
		assert_failure 1
		assert_output --partial "policy denied"
	done
	run verify --policy '{"tee": "\"true\""}' ev
	assert_failure 1
	assert_output "ti-attest: policy denied: tee"
	run verify --policy '{"tee": ". == \"sim\", true"}' ev
	assert_failure 1
	assert_output "ti-attest: policy denied: tee"
}

@test "reject: a policy that does not name sim" {
	for p in 'true' ".measurement == \"$M\"" '.tee != "sgx"' '{"measurement": "startswith(\"sha256:\")"}'; do
		run verify --policy "$p" ev
		assert_failure 1
		assert_output --partial "policy does not name sim"
	done
	run verify --policy '.tee == "sim" or .tee == "sgx"' ev
	assert_success
}

@test "policy: no module loading, no HOME, no environment" {
	for p in 'import "x" as x; true' 'include "x"; true' '$ENV.X == "1"' \
	    'env.X == "1"' 'now > 0' 'input' '.tee == "sim" and ("a" | modulemeta | true)'; do
		run verify --policy "$p" ev
		assert_failure 2
		assert_output --partial "not allowed"
	done
	mkdir -p home
	echo 'def sim: "sim";' >home/.jq
	run env HOME="$BATS_TEST_TMPDIR/home" ti-attest verify \
	    --trust "$TI_HOME/root.pem" --policy '.tee == sim' ev
	assert_failure 2
	assert_output --partial "not a valid jq expression"
	run verify --policy '.tee ==' ev
	assert_failure 2
}

@test "reject: truncated, non-JSON, malformed and huge evidence (exit 3)" {
	head -c 100 ev >trunc
	run verify --policy "$POL" trunc
	assert_failure 3
	cut -d. -f1-2 ev >twoparts
	run verify --policy "$POL" twoparts
	assert_failure 3
	echo 'hello world' >text
	run verify --policy "$POL" text
	assert_failure 3
	e=$(printf 'not json' | basenc --base64url -w0 | tr -d =)
	echo "eyJhbGciOiJFZERTQSJ9.$e.$(cut -d. -f3 ev)" >nonjson
	run verify --policy "$POL" nonjson
	assert_failure 3
	assert_output --partial "malformed evidence"
	split_ev ev
	jq -cj '.x5c = ["bm90IGEgY2VydA=="]' h.json >h2.json
	sign_ev h2.json p.json - >badcert
	run verify --policy "$POL" badcert
	assert_failure 3
	jq -cj 'del(.nonce)' p.json >p2.json
	sign_ev h.json p2.json "$TI_HOME/attest.key" >nononce
	run verify --policy "$POL" nononce
	assert_failure 3
	head -c 200000 /dev/zero | tr '\0' 'e' >huge
	run verify --policy "$POL" huge
	assert_failure 3
	assert_output --partial "too large"
	: >empty
	run verify --policy "$POL" empty
	assert_failure 3
	run ti-attest show text
	assert_failure 3
}

@test "show decodes without verifying" {
	split_ev ev
	openssl genpkey -algorithm ed25519 -out forger.pem 2>/dev/null
	sign_ev h.json p.json forger.pem >forged
	run ti-attest show forged
	assert_success
	echo "$output" | jq -e '.header.alg == "EdDSA" and .claims.tee == "sim"'
}

@test "another JWT library (python3-jwt) verifies our evidence" {
	run $PY - ev "$M" "$N" <<'EOF'
import sys, base64, jwt
from cryptography import x509
tok = open(sys.argv[1]).read().strip()
h = jwt.get_unverified_header(tok)
assert h['alg'] == 'EdDSA' and h['typ'] == 'JWT', h
leaf = x509.load_der_x509_certificate(base64.b64decode(h['x5c'][0]))
root = x509.load_der_x509_certificate(base64.b64decode(h['x5c'][1]))
assert leaf.issuer == root.subject
c = jwt.decode(tok, leaf.public_key(), algorithms=['EdDSA'])
assert c['tee'] == 'sim' and c['measurement'] == sys.argv[2]
assert c['nonce'] == sys.argv[3] and c['exp'] == c['iat'] + 300
try:
    jwt.decode(tok[:-4] + ('AAAA' if tok[-4:] != 'AAAA' else 'BBBB'),
               leaf.public_key(), algorithms=['EdDSA'])
    raise SystemExit('tampered token accepted')
except jwt.InvalidSignatureError:
    pass
print('ok')
EOF
	assert_success
	assert_output ok
}

@test "quote and keys without a platform fail cleanly" {
	run env TI_HOME="$BATS_TEST_TMPDIR/none" ti-attest quote --manifest m.json --nonce "$N"
	assert_failure 4
	assert_output --partial "no platform"
	chmod 644 "$TI_HOME/platform.key"
	run ti-attest keys --manifest m.json
	assert_failure 1
	assert_output --partial "too open"
}
