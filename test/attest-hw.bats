#!/usr/bin/env bats
# ti-attest verify on genuine hardware evidence (../shared/vectors: Nitro,
# SGX and TDX DCAP quotes, an SEV-SNP report), native and unbound: formats,
# roots, collateral, times, debug admission, EAR results.

load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

setup() {
	V=$TI_SHARED/vectors
	NITRO_ROOT=$V/nitro/aws_nitro_root_g1.pem
	NITRO=$V/nitro/blocky_nitro_attestation.b64
	NITRO_DEBUG=$V/nitro/blocky_nitro_attestation_debug.b64
	NITRO_RAW=$V/nitro/evervault_valid-attestation-doc-bytes
	INTEL_ROOT=$V/sgx-dcap/TrustedRootCA.der
	SGX=$V/sgx-dcap/sgx_quote
	SGX_COL=$V/sgx-dcap/sgx_quote_collateral.json
	TDX=$V/tdx/phala_tdx_quote
	TDX_COL=$V/tdx/phala_tdx_quote_collateral.json
	SNP=$V/sev-snp/attestation.bin
	VCEK=$V/sev-snp/vcek.testcer
	AMD=$V/sev-snp/ask_ark_milan.pem
	# Inside the DCAP collateral's validity (2025-06-19 .. 2025-07-19).
	DCAP_AT=2025-06-25T00:00:00Z
	T=$BATS_TEST_TMPDIR
	cd "$T"
}

# nitro_at FILE: the document's signed time, inside its leaf's validity.
nitro_at() {
	local ms
	ms=$(ti-attest show "$1" | jq -r .claims.timestamp)
	date -u -d "@$((ms / 1000))" +%Y-%m-%dT%H:%M:%SZ
}

# flip FILE OFFSET OUT: OUT is FILE with one bit of byte OFFSET flipped.
flip() {
	python3 -c 'import sys
d = bytearray(open(sys.argv[1], "rb").read())
d[int(sys.argv[2])] ^= 1
open(sys.argv[3], "wb").write(d)' "$@"
}

# offset FILE HEX: where the bytes HEX are in FILE.
offset() {
	python3 -c 'import sys
print(open(sys.argv[1], "rb").read().index(bytes.fromhex(sys.argv[2])))' "$@"
}

# unb64 FILE OUT: the raw bytes of a base64 file.
unb64() {
	python3 -c 'import sys, base64
open(sys.argv[2], "wb").write(base64.b64decode(open(sys.argv[1]).read()))' "$@"
}

# throwaway_root NAME: a self-signed P-384 root in $T/NAME.pem.
throwaway_root() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-384 -nodes \
	    -keyout "$T/$1.key" -out "$T/$1.pem" -subj "/CN=$1" -days 3650 \
	    2>/dev/null
}

sgx() {
	ti-attest verify --trust "$INTEL_ROOT" --collateral "$SGX_COL" "$@"
}

tdx() {
	ti-attest verify --trust "$INTEL_ROOT" --collateral "$TDX_COL" "$@"
}

snp() {
	ti-attest verify --trust "$AMD" --certs "$VCEK" "$@"
}

# --- AWS Nitro ---------------------------------------------------------

@test "nitro: the base64 document verifies at its time, unbound, with its PCRs" {
	at=$(nitro_at "$NITRO")
	[ "$at" = 2024-09-07T14:37:39Z ]
	run ti-attest verify --trust "$NITRO_ROOT" --at "$at" \
	    --policy '.tee == "nitro" and .debug == false' "$NITRO"
	assert_success
	echo "$output" | jq -e '.tee == "nitro" and .debug == false and
	    .bound == false and .measurement == .pcrs["0"] and
	    (.measurement | startswith("e72a46ca80a260fb")) and
	    (.pcrs | length) == 16 and .tcb_status == "unknown" and
	    .module_id == "i-0a22e5c5f24d22174-enc0191cceb4289903f" and
	    (has("recipient") | not) and (has("sig_key") | not) and
	    (.nonce | test("^(01)+$"))'
}

@test "nitro: raw documents verify, detected or named with --format" {
	unb64 "$NITRO" doc
	at=$(nitro_at "$NITRO")
	run ti-attest verify --trust "$NITRO_ROOT" --at "$at" \
	    --policy '.tee == "nitro"' doc
	assert_success
	run ti-attest verify --format nitro --trust "$NITRO_ROOT" --at "$at" \
	    --policy '.tee == "nitro"' doc
	assert_success
	at=$(nitro_at "$NITRO_RAW")
	[ "$at" = 2022-10-13T08:58:02Z ]
	run ti-attest verify --trust "$NITRO_ROOT" --at "$at" \
	    --policy '.tee == "nitro" and .user_data == null' "$NITRO_RAW"
	assert_success
	echo "$output" | jq -e '(.nonce | length) == 512 and
	    (.measurement | startswith("f4d48b81a460c991"))'
	# From stdin, too.
	run ti-attest verify --trust "$NITRO_ROOT" --at "$at" \
	    --policy '.tee == "nitro"' <"$NITRO_RAW"
	assert_success
}

@test "nitro: outside the leaf's validity, and now, it fails as expired" {
	run ti-attest verify --trust "$NITRO_ROOT" --at 2024-09-07T17:37:40Z \
	    --policy '.tee == "nitro"' "$NITRO"
	assert_failure 1
	assert_output "ti-attest: nitro: certificate chain: certificate has expired"
	run ti-attest verify --trust "$NITRO_ROOT" --at 2024-09-07T14:37:35Z \
	    --policy '.tee == "nitro"' "$NITRO"
	assert_failure 1
	assert_output "ti-attest: nitro: certificate chain: certificate is not yet valid"
	for f in "$NITRO" "$NITRO_RAW"; do
		run ti-attest verify --trust "$NITRO_ROOT" \
		    --policy '.tee == "nitro"' "$f"
		assert_failure 1
		assert_output "ti-attest: nitro: certificate chain: certificate has expired"
	done
}

@test "nitro: a flipped byte of the signed payload, another root, fail" {
	at=$(nitro_at "$NITRO_RAW")
	pcr0=$(ti-attest show "$NITRO_RAW" | jq -r .claims.measurement)
	flip "$NITRO_RAW" "$(offset "$NITRO_RAW" "$pcr0")" bad
	run ti-attest verify --trust "$NITRO_ROOT" --at "$at" \
	    --policy '.tee == "nitro"' bad
	assert_failure 1
	assert_output "ti-attest: nitro: document signature does not verify"
	throwaway_root other
	run ti-attest verify --trust other.pem --at "$at" \
	    --policy '.tee == "nitro"' "$NITRO_RAW"
	assert_failure 1
	assert_output "ti-attest: nitro: certificate chain: self-signed certificate in certificate chain"
	# DER roots are taken as well as PEM.
	openssl x509 -in "$NITRO_ROOT" -outform DER -out root.der
	run ti-attest verify --trust root.der --at "$at" \
	    --policy '.tee == "nitro"' "$NITRO_RAW"
	assert_success
}

@test "nitro: a policy demanding another measurement denies, naming it" {
	at=$(nitro_at "$NITRO")
	zero=$(printf '%096d' 0)
	run ti-attest verify --trust "$NITRO_ROOT" --at "$at" \
	    --policy "{\"tee\": \". == \\\"nitro\\\"\", \"measurement\": \". == \\\"$zero\\\"\"}" "$NITRO"
	assert_failure 1
	assert_output "ti-attest: policy denied: measurement"
	run ti-attest verify --trust "$NITRO_ROOT" --at "$at" \
	    --policy ".tee == \"nitro\" and .measurement == \"$zero\"" "$NITRO"
	assert_failure 1
	assert_output "ti-attest: policy denied (not true)"
}

# --- debug evidence --------------------------------------------------------

@test "debug: a debug Nitro document is refused unless the policy requires debug" {
	at=$(nitro_at "$NITRO_DEBUG")
	zero=$(printf '%096d' 0)
	# A policy that does not mention debug: refused.
	run ti-attest verify --trust "$NITRO_ROOT" --at "$at" \
	    --policy '.tee == "nitro"' "$NITRO_DEBUG"
	assert_failure 1
	assert_output "ti-attest: policy denied: debug (require .debug == true to admit debug evidence)"
	# One that mentions it but admits either value: still refused.
	run ti-attest verify --trust "$NITRO_ROOT" --at "$at" \
	    --policy '.tee == "nitro" and (.debug == true or .debug == false)' \
	    "$NITRO_DEBUG"
	assert_failure 1
	assert_output --partial "policy denied: debug"
	# One that requires debug: admitted.
	run ti-attest verify --trust "$NITRO_ROOT" --at "$at" \
	    --policy ".tee == \"nitro\" and .debug == true and .measurement == \"$zero\"" \
	    "$NITRO_DEBUG"
	assert_success
	echo "$output" | jq -e '.debug == true and .pcrs["1"] == .pcrs["0"]'
	# The object form.
	run ti-attest verify --trust "$NITRO_ROOT" --at "$at" \
	    --policy '{"tee": ". == \"nitro\"", "debug": ". == true"}' \
	    "$NITRO_DEBUG"
	assert_success
	# A debug-only policy does not admit the production document.
	run ti-attest verify --trust "$NITRO_ROOT" --at "$(nitro_at "$NITRO")" \
	    --policy '{"tee": ". == \"nitro\"", "debug": ". == true"}' "$NITRO"
	assert_failure 1
	assert_output "ti-attest: policy denied: debug"
}

@test "debug: the SEV-SNP sample (debug policy bit) needs a policy requiring it" {
	run snp --policy '.tee == "sev-snp"' "$SNP"
	assert_failure 1
	assert_output --partial "policy denied: debug"
	run snp --policy '.tee == "sev-snp" and .debug' "$SNP"
	assert_success
}

# --- Intel SGX ----------------------------------------------------------

@test "sgx: the quote verifies with its collateral: TCB status and advisories" {
	run sgx --at "$DCAP_AT" --policy '.tee == "sgx" and .tcb_status != "Revoked"' "$SGX"
	assert_success
	echo "$output" | jq -e '.tee == "sgx" and .bound == false and
	    .tcb_status == "ConfigurationAndSWHardeningNeeded" and
	    .advisories == ["INTEL-SA-00289", "INTEL-SA-00615"] and
	    .measurement == .mrenclave and .debug == false and
	    .measurement == "33d8736db756ed4997e04ba358d27833188f1932ff7b1d156904d3f560452fbb" and
	    .mrsigner == "815f42f11cf64430c30bab7816ba596a1da0130c3b028b673133a66cf9a3e0e6" and
	    (.report_data | startswith("48656c6c6f2c20776f726c6421000000"))'
}

@test "sgx: base64, --format, and without collateral tcb_status is unknown" {
	base64 -w 76 "$SGX" >q.b64
	run sgx --at "$DCAP_AT" --format sgx --policy '.tee == "sgx"' q.b64
	assert_success
	run ti-attest verify --trust "$INTEL_ROOT" --policy '.tee == "sgx"' "$SGX"
	assert_success
	echo "$output" | jq -e '.tcb_status == "unknown" and .advisories == []'
	# A policy that wants a known TCB status denies that, naming it.
	run ti-attest verify --trust "$INTEL_ROOT" \
	    --policy '{"tee": ". == \"sgx\"", "tcb_status": ". != \"unknown\""}' "$SGX"
	assert_failure 1
	assert_output "ti-attest: policy denied: tcb_status"
	# The format named must be the evidence's.
	run ti-attest verify --trust "$INTEL_ROOT" --format tdx \
	    --policy true "$SGX"
	assert_failure 1
	assert_output "ti-attest: evidence is not a tdx quote"
	run ti-attest verify --trust "$INTEL_ROOT" --format sim \
	    --policy true "$SGX"
	assert_failure 3
	assert_output "ti-attest: malformed evidence: not sim evidence"
}

@test "sgx: outside the collateral's validity, and now, it fails as expired" {
	run sgx --at 2025-07-19T11:00:00Z --policy '.tee == "sgx"' "$SGX"
	assert_failure 1
	assert_output --partial "expired"
	run sgx --policy '.tee == "sgx"' "$SGX"
	assert_failure 1
	assert_output --partial "expired"
	run sgx --at 2025-06-19T10:00:00Z --policy '.tee == "sgx"' "$SGX"
	assert_failure 1
	assert_output --partial "not yet valid"
}

@test "sgx: a flipped byte, another root, another MRENCLAVE, the wrong tee" {
	flip "$SGX" 112 q	# MRENCLAVE
	run sgx --at "$DCAP_AT" --policy '.tee == "sgx"' q
	assert_failure 1
	assert_output "ti-attest: dcap: quote signature does not verify"
	throwaway_root other
	run ti-attest verify --trust other.pem --policy '.tee == "sgx"' "$SGX"
	assert_failure 1
	assert_output "ti-attest: dcap: PCK: certificate chain: self-signed certificate in certificate chain"
	run sgx --at "$DCAP_AT" --policy "{\"measurement\": \". == \\\"$(printf '%064d' 0)\\\"\"}" "$SGX"
	assert_failure 1
	assert_output "ti-attest: policy denied: measurement"
	run sgx --at "$DCAP_AT" --policy '{"tee": ". == \"tdx\""}' "$SGX"
	assert_failure 1
	assert_output "ti-attest: policy denied: tee"
}

# --- Intel TDX ----------------------------------------------------------

@test "tdx: the quote verifies with its collateral: UpToDate, MRTD and RTMRs" {
	run tdx --at "$DCAP_AT" --policy '.tee == "tdx" and .tcb_status == "UpToDate"' "$TDX"
	assert_success
	echo "$output" | jq -e '.tee == "tdx" and .tcb_status == "UpToDate" and
	    .advisories == [] and .measurement == .mrtd and .debug == false and
	    .bound == false and (.mrtd | startswith("91eb2b44d141d4ec")) and
	    (.rtmrs | length) == 4 and .fmspc == "b0c06f000000"'
}

@test "tdx: outside the collateral's validity, and now, it fails as expired" {
	run tdx --at 2025-07-20T00:00:00Z --policy '.tee == "tdx"' "$TDX"
	assert_failure 1
	assert_output --partial "expired"
	run tdx --policy '.tee == "tdx"' "$TDX"
	assert_failure 1
	assert_output --partial "expired"
}

@test "tdx: a flipped byte, another root, another MRTD" {
	flip "$TDX" 184 q	# MRTD
	run tdx --at "$DCAP_AT" --policy '.tee == "tdx"' q
	assert_failure 1
	assert_output "ti-attest: dcap: quote signature does not verify"
	throwaway_root other
	run ti-attest verify --trust other.pem --collateral "$TDX_COL" \
	    --at "$DCAP_AT" --policy '.tee == "tdx"' "$TDX"
	assert_failure 1
	assert_output --partial "certificate chain: self-signed certificate in certificate chain"
	run tdx --at "$DCAP_AT" --policy "{\"measurement\": \". == \\\"$(printf '%096d' 0)\\\"\"}" "$TDX"
	assert_failure 1
	assert_output "ti-attest: policy denied: measurement"
}

# --- AMD SEV-SNP -----------------------------------------------------------

@test "sev-snp: the report verifies now (VCEK valid to 2029) with its claims" {
	run snp --policy '.tee == "sev-snp" and .debug' "$SNP"
	assert_success
	echo "$output" | jq -e '.tee == "sev-snp" and .debug == true and
	    .bound == false and .policy.debug == true and
	    (.measurement | startswith("b07af9620f3b839b")) and
	    .report_data == "0102030405" + ("0" * 118) and
	    .reported_tcb.raw == "0200000000000544" and .vmpl == 0'
	# --format, and the ARK alone as root with the ASK as a certificate.
	awk '/BEGIN/{n++} n==2' "$AMD" >ark.pem
	run ti-attest verify --format sev-snp --trust ark.pem --certs "$VCEK" \
	    --certs "$AMD" --policy '.tee == "sev-snp" and .debug' "$SNP"
	assert_success
	# Without the ASK the chain does not reach the ARK.
	run ti-attest verify --trust ark.pem --certs "$VCEK" \
	    --policy '.tee == "sev-snp" and .debug' "$SNP"
	assert_failure 1
	assert_output --partial "certificate chain"
}

@test "sev-snp: a flipped byte, another root, times outside the VCEK, another measurement" {
	flip "$SNP" $((0x90)) r	# MEASUREMENT
	run snp --policy '.tee == "sev-snp" and .debug' r
	assert_failure 1
	assert_output "ti-attest: sev-snp: report signature does not verify"
	throwaway_root other
	run ti-attest verify --trust other.pem --certs "$VCEK" --certs "$AMD" \
	    --policy '.tee == "sev-snp" and .debug' "$SNP"
	assert_failure 1
	assert_output --partial "self-signed certificate in certificate chain"
	run snp --at 2030-01-01T00:00:00Z --policy '.tee == "sev-snp" and .debug' "$SNP"
	assert_failure 1
	assert_output --partial "certificate has expired"
	run snp --at 2022-01-01T00:00:00Z --policy '.tee == "sev-snp" and .debug' "$SNP"
	assert_failure 1
	assert_output --partial "not yet valid"
	run snp --policy "{\"debug\": \". == true\", \"measurement\": \". == \\\"$(printf '%096d' 0)\\\"\"}" "$SNP"
	assert_failure 1
	assert_output "ti-attest: policy denied: measurement"
	run ti-attest verify --trust "$AMD" --policy '.tee == "sev-snp" and .debug' "$SNP"
	assert_failure 1
	assert_output "ti-attest: sev-snp: no VCEK certificate given"
}

# --- common ----------------------------------------------------------------

@test "unbound evidence: a nonce cannot be checked, --max-age needs a signed time" {
	N=$(head -c 16 /dev/urandom | basenc --base64url | tr -d =)
	run sgx --at "$DCAP_AT" --nonce "$N" --policy '.tee == "sgx"' "$SGX"
	assert_failure 1
	assert_output "ti-attest: nonce mismatch: sgx evidence alone binds no ti nonce"
	run sgx --at "$DCAP_AT" --max-age 60 --policy '.tee == "sgx"' "$SGX"
	assert_failure 1
	assert_output --partial "evidence too old: sgx evidence carries no signed time"
	# Nitro documents carry one.
	at=$(nitro_at "$NITRO")
	run ti-attest verify --trust "$NITRO_ROOT" --at "$at" --max-age 60 \
	    --policy '.tee == "nitro"' "$NITRO"
	assert_success
	run ti-attest verify --trust "$NITRO_ROOT" --at 2024-09-07T15:00:00Z \
	    --max-age 60 --policy '.tee == "nitro"' "$NITRO"
	assert_failure 1
	assert_output "ti-attest: evidence too old (older than 60 seconds)"
}

@test "ear: trust tiers for hardware and sim evidence" {
	run tdx --ear --at "$DCAP_AT" --policy '.tee == "tdx"' "$TDX"
	assert_success
	echo "$output" | jq -e '.submods.tdx["ear.status"] == "affirming" and
	    .eat_profile == "tag:github.com,2023:veraison/ear" and
	    .submods.tdx["ear.veraison.annotated-evidence"].tcb_status == "UpToDate"'
	run sgx --ear --at "$DCAP_AT" --policy '.tee == "sgx"' "$SGX"
	assert_success
	echo "$output" | jq -e '.submods.sgx["ear.status"] == "warning" and
	    .submods.sgx["ear.trustworthiness-vector"].configuration == 32'
	run snp --ear --policy '.tee == "sev-snp" and .debug' "$SNP"
	assert_success
	echo "$output" | jq -e '.submods["sev-snp"]["ear.status"] == "contraindicated"'
	# sim evidence: a warning, never affirming.
	export TI_HOME=$T/plat
	ti-attest init 2>/dev/null
	printf '.\n' >p.jq
	ti-attest manifest p.jq --from any --plain-out >m.json
	ti-attest quote --manifest m.json --nonce AAAA >ev
	run ti-attest verify --ear --trust "$TI_HOME/root.pem" \
	    --policy '.tee == "sim"' ev
	assert_success
	echo "$output" | jq -e '.submods.sim["ear.status"] == "warning" and
	    .submods.sim["ear.veraison.annotated-evidence"].bound == true'
	# A denial with --ear prints nothing.
	run ti-attest verify --ear --trust "$TI_HOME/root.pem" \
	    --policy '{"tee": ". == \"sgx\""}' ev
	assert_failure 1
	assert_output "ti-attest: policy denied: tee"
}

@test "malformed evidence exits 3, usage 2, unreadable 4" {
	for n in 10 47 300 436 1000 4599; do
		head -c $n "$SGX" >q
		run ti-attest verify --trust "$INTEL_ROOT" --format sgx \
		    --policy true q
		assert_failure 3
	done
	head -c 1000 "$SNP" >r
	run snp --format sev-snp --policy true r
	assert_failure 3
	head -c 3000 "$NITRO_RAW" >d
	run ti-attest verify --trust "$NITRO_ROOT" --format nitro --policy true d
	assert_failure 3
	assert_output --partial "nitro: not a CBOR document"
	printf 'hello, world' >junk
	run ti-attest verify --trust "$INTEL_ROOT" --policy true junk
	assert_failure 3
	assert_output "ti-attest: malformed evidence: unknown format"
	run ti-attest verify --trust "$INTEL_ROOT" --format bogus --policy true "$SGX"
	assert_failure 2
	assert_output --partial "unknown evidence format bogus"
	run ti-attest verify --trust "$INTEL_ROOT" --at yesterday --policy true "$SGX"
	assert_failure 2
	run ti-attest verify --trust "$INTEL_ROOT" --collateral missing.json \
	    --policy true "$SGX"
	assert_failure 4
	run ti-attest verify --trust "$AMD" --certs missing.cer --policy true "$SNP"
	assert_failure 4
	run ti-attest show "$SGX"
	assert_success
	echo "$output" | jq -e '.format == "sgx" and .claims.quote_version == 3'
}

@test "init: hardware backends point verifiers at the vendor's root" {
	for b in tsm nitro sgx; do
		run ti-attest init --backend "$b" --dir "$T/$b"
		assert_success
		assert_output --partial "trust the vendor's root"
		refute_output --partial "trust $T/$b/root.pem"
		[ ! -e "$T/$b/root.pem" ]
	done
	run ti-attest init --dir "$T/sim"
	assert_success
	assert_output --partial "trust $T/sim/root.pem"
}

@test "policy: .debug is a claim, debug the builtin is still refused" {
	for p in '.tee == "sgx" and (debug | true)' \
	    '{"debug": "debug | true"}' '"\(debug)" == "x"'; do
		run ti-attest verify --trust "$INTEL_ROOT" --policy "$p" "$SGX"
		assert_failure 2
		assert_output --partial "debug is not allowed in a policy"
	done
	run ti-attest verify --trust "$INTEL_ROOT" --policy '..debug' "$SGX"
	assert_failure 2
	assert_output "ti-attest: policy: not a valid jq expression"
	run ti-attest verify --trust "$INTEL_ROOT" \
	    --policy '.tee == "sgx" and .debug == false' "$SGX"
	assert_success
	run ti-attest verify --trust "$INTEL_ROOT" \
	    --policy '{"debug": ". == false", "env": ". == null"}' "$SGX"
	assert_success
}
