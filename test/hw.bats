#!/usr/bin/env bats
# Hardware evidence verification on the genuine samples of ../shared/vectors
# (Nitro, SGX and TDX DCAP, SEV-SNP), through the verifiers of lib/ as the
# hwverify test helper drives them.

load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

setup() {
	V=$TI_SHARED/vectors
	HV=$TI_BUILD/test/helpers/hwverify
	NITRO_ROOT=$V/nitro/aws_nitro_root_g1.pem
	INTEL_ROOT=$V/sgx-dcap/TrustedRootCA.der
	SGX=$V/sgx-dcap/sgx_quote
	SGX_COL=$V/sgx-dcap/sgx_quote_collateral.json
	TDX=$V/tdx/phala_tdx_quote
	TDX_COL=$V/tdx/phala_tdx_quote_collateral.json
	SNP=$V/sev-snp/attestation.bin
	VCEK=$V/sev-snp/vcek.testcer
	ASKARK=$V/sev-snp/ask_ark_milan.pem
	# Inside the DCAP collateral's validity (2025-06-19 .. 2025-07-19).
	DCAP_AT=2025-06-25T00:00:00Z
	T=$BATS_TEST_TMPDIR
	# The ARK alone (the second certificate of the bundle) is the SNP root.
	awk '/BEGIN/{n++} n==2' "$ASKARK" >"$T/ark.pem"
}

# flip FILE OFFSET OUT: OUT is FILE with one bit of byte OFFSET flipped.
flip() {
	python3 -c 'import sys
d = bytearray(open(sys.argv[1], "rb").read())
d[int(sys.argv[2])] ^= 1
open(sys.argv[3], "wb").write(d)' "$@"
}

# offset FILE HEX: the offset of the bytes HEX in FILE.
offset() {
	python3 -c 'import sys
print(open(sys.argv[1], "rb").read().index(bytes.fromhex(sys.argv[2])))' "$@"
}

# throwaway_root NAME: a self-signed P-384 root in $T/NAME.pem.
throwaway_root() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-384 -nodes \
	    -keyout "$T/$1.key" -out "$T/$1.pem" -subj "/CN=$1" -days 3650 \
	    2>/dev/null
}

# The timestamp of a Nitro document (ms) as RFC 3339, inside its leaf's
# three-hour validity.
nitro_at() {
	local ms
	ms=$("$HV" --parse "$1" | jq -r .timestamp)
	date -u -d "@$((ms / 1000))" +%Y-%m-%dT%H:%M:%SZ
}

# --- AWS Nitro ---------------------------------------------------------

@test "nitro: the blocky document verifies at its time, with its PCRs" {
	at=$(nitro_at "$V/nitro/blocky_nitro_attestation.b64")
	[ "$at" = 2024-09-07T14:37:39Z ]
	run "$HV" --trust "$NITRO_ROOT" --at "$at" \
	    "$V/nitro/blocky_nitro_attestation.b64"
	assert_success
	echo "$output" | jq -e '.tee == "nitro" and .debug == false and
	    .measurement == .pcrs["0"] and
	    (.measurement | startswith("e72a46ca80a260fb")) and
	    (.pcrs | length) == 16 and .tcb_status == "unknown" and
	    .bound == false and (.user_data | length) > 0 and
	    .module_id == "i-0a22e5c5f24d22174-enc0191cceb4289903f"'
}

@test "nitro: the leaf certificate's validity is read from the document" {
	# The time comes from the certificate itself: openssl agrees.
	python3 -c 'import sys, base64
sys.stdout.buffer.write(base64.b64decode(open(sys.argv[1]).read()))' \
	    "$V/nitro/blocky_nitro_attestation.b64" >"$T/doc"
	run "$HV" --trust "$NITRO_ROOT" --at 2024-09-07T17:40:00Z "$T/doc"
	assert_failure 1
	assert_output --partial "certificate has expired"
	run "$HV" --trust "$NITRO_ROOT" --at 2024-09-07T14:00:00Z "$T/doc"
	assert_failure 1
	assert_output --partial "certificate is not yet valid"
}

@test "nitro: the evervault raw document verifies at its time" {
	at=$(nitro_at "$V/nitro/evervault_valid-attestation-doc-bytes")
	run "$HV" --trust "$NITRO_ROOT" --at "$at" \
	    "$V/nitro/evervault_valid-attestation-doc-bytes"
	assert_success
	echo "$output" | jq -e '.tee == "nitro" and .user_data == null and
	    (.nonce | length) == 512 and
	    (.measurement | startswith("f4d48b81a460c991"))'
}

@test "nitro: now, the documents fail as expired" {
	for f in blocky_nitro_attestation.b64 \
	    evervault_valid-attestation-doc-bytes; do
		run "$HV" --trust "$NITRO_ROOT" "$V/nitro/$f"
		assert_failure 1
		assert_output --partial "certificate has expired"
	done
}

@test "nitro: one flipped byte of the signed payload fails the signature" {
	f=$V/nitro/evervault_valid-attestation-doc-bytes
	at=$(nitro_at "$f")
	pcr0=$("$HV" --parse "$f" | jq -r .measurement)
	flip "$f" "$(offset "$f" "$pcr0")" "$T/bad"
	run "$HV" --trust "$NITRO_ROOT" --at "$at" "$T/bad"
	assert_failure 1
	assert_output "hwverify: nitro: document signature does not verify"
}

@test "nitro: a chain that ends at another root fails" {
	throwaway_root other
	run "$HV" --trust "$T/other.pem" \
	    --at "$(nitro_at "$V/nitro/blocky_nitro_attestation.b64")" \
	    "$V/nitro/blocky_nitro_attestation.b64"
	assert_failure 1
	assert_output --partial "self-signed certificate in certificate chain"
}

@test "nitro: a policy demanding another measurement denies" {
	f=$V/nitro/blocky_nitro_attestation.b64
	run "$HV" --trust "$NITRO_ROOT" --at "$(nitro_at "$f")" \
	    --expect-measurement "$(printf '%096d' 0)" "$f"
	assert_failure 1
	assert_output "hwverify: policy denied: measurement"
}

@test "nitro: a debug document is refused unless the policy allows it" {
	f=$V/nitro/blocky_nitro_attestation_debug.b64
	run "$HV" --trust "$NITRO_ROOT" --at "$(nitro_at "$f")" "$f"
	assert_failure 1
	assert_output "hwverify: policy denied: debug"
	run "$HV" --allow-debug --trust "$NITRO_ROOT" --at "$(nitro_at "$f")" "$f"
	assert_success
	echo "$output" | jq -e '.debug == true and
	    .pcrs["0"] == .pcrs["1"] and .measurement == "'"$(printf '%096d' 0)"'"'
}

@test "nitro: truncated and non-CBOR documents are malformed (exit 3)" {
	head -c 3000 "$V/nitro/evervault_valid-attestation-doc-bytes" >"$T/short"
	run "$HV" --trust "$NITRO_ROOT" --format nitro "$T/short"
	assert_failure 3
	assert_output --partial "nitro: not a CBOR document"
	printf '\x84\x43\xa1\x01\x26\xa0\x40\x40' >"$T/empty"
	run "$HV" --trust "$NITRO_ROOT" "$T/empty"
	assert_failure 1
	assert_output --partial "does not name ES384"
}

# --- Intel SGX (DCAP quote v3) -----------------------------------------

@test "sgx: the quote verifies with its collateral: TCB status and advisories" {
	run "$HV" --trust "$INTEL_ROOT" --collateral "$SGX_COL" --at "$DCAP_AT" "$SGX"
	assert_success
	echo "$output" | jq -e '.tee == "sgx" and
	    .tcb_status == "ConfigurationAndSWHardeningNeeded" and
	    .advisories == ["INTEL-SA-00289", "INTEL-SA-00615"] and
	    .measurement == .mrenclave and .debug == false and
	    .measurement == "33d8736db756ed4997e04ba358d27833188f1932ff7b1d156904d3f560452fbb" and
	    .mrsigner == "815f42f11cf64430c30bab7816ba596a1da0130c3b028b673133a66cf9a3e0e6" and
	    .fmspc == "00a067110000" and .isvprodid == 0 and
	    (.report_data | startswith("48656c6c6f2c20776f726c6421000000"))'
}

@test "sgx: without collateral the quote verifies with tcb_status unknown" {
	run "$HV" --trust "$INTEL_ROOT" "$SGX"
	assert_success
	echo "$output" | jq -e '.tcb_status == "unknown" and .advisories == []'
}

@test "sgx: now, with its collateral, the quote fails as expired" {
	run "$HV" --trust "$INTEL_ROOT" --collateral "$SGX_COL" "$SGX"
	assert_failure 1
	assert_output --partial "expired"
}

@test "sgx: collateral outside its window fails even where CRLs still hold" {
	run "$HV" --trust "$INTEL_ROOT" --collateral "$SGX_COL" \
	    --at 2025-07-19T11:00:00Z "$SGX"
	assert_failure 1
	assert_output --partial "expired"
	run "$HV" --trust "$INTEL_ROOT" --collateral "$SGX_COL" \
	    --at 2025-06-19T10:00:00Z "$SGX"
	assert_failure 1
	assert_output --partial "not yet valid"
}

@test "sgx: one flipped byte of the enclave report fails the quote signature" {
	flip "$SGX" 112 "$T/q"	# MRENCLAVE
	run "$HV" --trust "$INTEL_ROOT" --collateral "$SGX_COL" --at "$DCAP_AT" "$T/q"
	assert_failure 1
	assert_output "hwverify: dcap: quote signature does not verify"
}

@test "sgx: one flipped byte of the QE report fails its PCK signature" {
	flip "$SGX" $((436 + 128 + 64)) "$T/q"	# the QE's MRENCLAVE
	run "$HV" --trust "$INTEL_ROOT" "$T/q"
	assert_failure 1
	assert_output "hwverify: dcap: QE report signature does not verify"
}

@test "sgx: a flipped attestation key is no longer bound by the QE report" {
	flip "$SGX" $((436 + 64)) "$T/q"
	run "$HV" --trust "$INTEL_ROOT" "$T/q"
	assert_failure 1
	assert_output "hwverify: dcap: QE report does not bind the attestation key"
}

@test "sgx: tampered TCB info fails its signature" {
	jq '.tcb_info |= sub("\"tcbEvaluationDataNumber\":17"; "\"tcbEvaluationDataNumber\":18")' \
	    "$SGX_COL" >"$T/col.json"
	! cmp -s "$SGX_COL" "$T/col.json"
	run "$HV" --trust "$INTEL_ROOT" --collateral "$T/col.json" --at "$DCAP_AT" "$SGX"
	assert_failure 1
	assert_output "hwverify: dcap: tcb_info signature does not verify"
}

@test "sgx: a chain that ends at another root fails" {
	throwaway_root other
	run "$HV" --trust "$T/other.pem" "$SGX"
	assert_failure 1
	assert_output --partial "dcap: PCK: certificate chain: self-signed certificate in certificate chain"
}

@test "sgx: a policy demanding another MRENCLAVE denies" {
	run "$HV" --trust "$INTEL_ROOT" --expect-measurement "$(printf '%064d' 0)" "$SGX"
	assert_failure 1
	assert_output "hwverify: policy denied: measurement"
}

@test "sgx: the quote is detected from its base64 text too" {
	base64 -w 76 "$SGX" >"$T/q.b64"
	run "$HV" --trust "$INTEL_ROOT" "$T/q.b64"
	assert_success
	echo "$output" | jq -e '.tee == "sgx"'
	run "$HV" --trust "$INTEL_ROOT" --format tdx "$SGX"
	assert_failure 1
	assert_output "hwverify: evidence is not a tdx quote"
}

@test "sgx: truncated quotes are malformed (exit 3)" {
	for n in 10 47 300 436 1000 4599; do
		head -c $n "$SGX" >"$T/q"
		run "$HV" --trust "$INTEL_ROOT" --format sgx "$T/q"
		assert_failure 3
	done
}

# --- Intel TDX (DCAP quote v4) -----------------------------------------

@test "tdx: the quote verifies with its collateral: UpToDate, MRTD and RTMRs" {
	run "$HV" --trust "$INTEL_ROOT" --collateral "$TDX_COL" --at "$DCAP_AT" "$TDX"
	assert_success
	echo "$output" | jq -e '.tee == "tdx" and .tcb_status == "UpToDate" and
	    .advisories == [] and .measurement == .mrtd and .debug == false and
	    (.mrtd | startswith("91eb2b44d141d4ec")) and (.rtmrs | length) == 4 and
	    (.rtmrs[0] | startswith("44c0197b39157fdd")) and
	    .tee_tcb_svn == "06010300000000000000000000000000" and
	    .fmspc == "b0c06f000000" and
	    (.report_data | startswith("9a9d48e7f6799642"))'
}

@test "tdx: now, with its collateral, the quote fails as expired" {
	run "$HV" --trust "$INTEL_ROOT" --collateral "$TDX_COL" "$TDX"
	assert_failure 1
	assert_output --partial "expired"
}

@test "tdx: one flipped byte of the TD report fails the quote signature" {
	flip "$TDX" 184 "$T/q"	# MRTD
	run "$HV" --trust "$INTEL_ROOT" --collateral "$TDX_COL" --at "$DCAP_AT" "$T/q"
	assert_failure 1
	assert_output "hwverify: dcap: quote signature does not verify"
}

@test "tdx: a chain that ends at another root fails, a policy on MRTD denies" {
	throwaway_root other
	run "$HV" --trust "$T/other.pem" --collateral "$TDX_COL" --at "$DCAP_AT" "$TDX"
	assert_failure 1
	assert_output --partial "certificate chain: self-signed certificate in certificate chain"
	run "$HV" --trust "$INTEL_ROOT" --expect-measurement "$(printf '%096d' 0)" "$TDX"
	assert_failure 1
	assert_output "hwverify: policy denied: measurement"
}

@test "tdx: SGX collateral does not pass for a TDX quote" {
	run "$HV" --trust "$INTEL_ROOT" --collateral "$SGX_COL" --at "$DCAP_AT" "$TDX"
	assert_failure 1
	assert_output --regexp "TCB info is for SGX, not TDX|certificate chain"
}

# --- AMD SEV-SNP ---------------------------------------------------------

snp() {
	"$HV" --trust "$T/ark.pem" --certs "$VCEK" --certs "$ASKARK" "$@"
}

@test "sev-snp: the report verifies now (VCEK valid to 2029), a debug guest" {
	run snp --allow-debug "$SNP"
	assert_success
	echo "$output" | jq -e '.tee == "sev-snp" and .debug == true and
	    .policy.debug == true and .policy.smt == true and
	    (.measurement | startswith("b07af9620f3b839b")) and
	    .report_data == "0102030405" + ("0" * 118) and
	    .reported_tcb == {"bootloader":2,"tee":0,"snp":5,"microcode":68,"raw":"0200000000000544"} and
	    .current_tcb.raw == "0200000000000544" and .vmpl == 0'
}

@test "sev-snp: the debug policy bit is refused unless the policy allows it" {
	run snp "$SNP"
	assert_failure 1
	assert_output "hwverify: policy denied: debug"
}

@test "sev-snp: one flipped byte of the report fails the signature" {
	flip "$SNP" $((0x90)) "$T/r"	# MEASUREMENT
	run snp --allow-debug "$T/r"
	assert_failure 1
	assert_output "hwverify: sev-snp: report signature does not verify"
}

@test "sev-snp: a flipped reported TCB no longer matches the VCEK" {
	flip "$SNP" $((0x180)) "$T/r"
	run snp --allow-debug "$T/r"
	assert_failure 1
	assert_output --partial "does not match the reported TCB"
}

@test "sev-snp: another root, or times outside the VCEK's validity, fail" {
	throwaway_root other
	run "$HV" --trust "$T/other.pem" --certs "$VCEK" --certs "$ASKARK" \
	    --allow-debug "$SNP"
	assert_failure 1
	assert_output --partial "self-signed certificate in certificate chain"
	run snp --allow-debug --at 2030-01-01T00:00:00Z "$SNP"
	assert_failure 1
	assert_output --partial "certificate has expired"
	run snp --allow-debug --at 2022-01-01T00:00:00Z "$SNP"
	assert_failure 1
	assert_output --partial "not yet valid"
}

@test "sev-snp: no VCEK, another measurement, a truncated report" {
	run "$HV" --trust "$T/ark.pem" --certs "$ASKARK" --allow-debug "$SNP"
	assert_failure 1
	assert_output "hwverify: sev-snp: no VCEK certificate given"
	run snp --allow-debug --expect-measurement "$(printf '%096d' 0)" "$SNP"
	assert_failure 1
	assert_output "hwverify: policy denied: measurement"
	head -c 1000 "$SNP" >"$T/r"
	run snp --format sev-snp "$T/r"
	assert_failure 3
}

# --- common ---------------------------------------------------------------

@test "ear: trust tiers from tcb_status and debug" {
	run "$HV" --ear --trust "$INTEL_ROOT" --collateral "$TDX_COL" --at "$DCAP_AT" "$TDX"
	assert_success
	echo "$output" | jq -e '.submods.tdx["ear.status"] == "affirming" and
	    .eat_profile == "tag:github.com,2023:veraison/ear" and
	    .submods.tdx["ear.veraison.annotated-evidence"].tee == "tdx"'
	run "$HV" --ear --trust "$INTEL_ROOT" --collateral "$SGX_COL" --at "$DCAP_AT" "$SGX"
	echo "$output" | jq -e '.submods.sgx["ear.status"] == "warning" and
	    .submods.sgx["ear.trustworthiness-vector"].configuration == 32'
	run snp --ear --allow-debug "$SNP"
	echo "$output" | jq -e '.submods["sev-snp"]["ear.status"] == "contraindicated"'
}

@test "revocation: a revoked certificate on a synthetic chain is refused" {
	cd "$T"
	mkdir -p ca/newcerts && : >ca/index.txt && echo 1000 >ca/serial
	echo 1000 >ca/crlnumber
	cat >ca.cnf <<-EOF
	[ca]
	default_ca = d
	[d]
	dir = ca
	database = ca/index.txt
	new_certs_dir = ca/newcerts
	serial = ca/serial
	crlnumber = ca/crlnumber
	default_md = sha256
	default_days = 30
	default_crl_days = 30
	policy = p
	unique_subject = no
	[p]
	commonName = supplied
	[leaf]
	basicConstraints = CA:false
	EOF
	throwaway_root root
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout leaf.key -out leaf.csr -subj /CN=leaf 2>/dev/null
	openssl ca -batch -config ca.cnf -cert root.pem -keyfile root.key \
	    -extensions leaf -in leaf.csr -out leaf.pem 2>/dev/null
	openssl ca -config ca.cnf -cert root.pem -keyfile root.key -gencrl \
	    -out good.crl 2>/dev/null
	run "$HV" --check-chain leaf.pem --crl good.crl --trust root.pem
	assert_success
	openssl ca -config ca.cnf -cert root.pem -keyfile root.key \
	    -revoke leaf.pem 2>/dev/null
	openssl ca -config ca.cnf -cert root.pem -keyfile root.key -gencrl \
	    -out revoked.crl 2>/dev/null
	run "$HV" --check-chain leaf.pem --crl revoked.crl --trust root.pem
	assert_failure 1
	assert_output "hwverify: chain: certificate chain: certificate revoked"
	run "$HV" --check-chain leaf.pem --crl good.crl --trust root.pem \
	    --at 2099-01-01T00:00:00Z
	assert_failure 1
	assert_output --partial "has expired"
}

@test "usage errors exit 2, unreadable files 4, unknown evidence 3" {
	run "$HV" --format bogus "$SGX"
	assert_failure 2
	run "$HV" --at yesterday "$SGX"
	assert_failure 2
	run "$HV" --trust "$INTEL_ROOT" "$T/missing"
	assert_failure 4
	printf 'hello, world' >"$T/junk"
	run "$HV" --trust "$INTEL_ROOT" "$T/junk"
	assert_failure 3
	assert_output --partial "evidence"
	run "$HV" --help
	assert_success
	assert_output --partial usage
}
