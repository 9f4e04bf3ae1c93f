#!/usr/bin/env bats
# Quoting backends against fakes: configfs-tsm and Gramine's
# /dev/attestation as directories served by test/helpers/faketee (quotes
# signed by a throwaway "PCK" under a throwaway root), and the NSM device's
# absence. The evidence then goes through the DCAP verifier with that root.

load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

setup() {
	B=$TI_BUILD/test/helpers
	T=$BATS_TEST_TMPDIR
	cd "$T"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout root.key -out root.pem -subj /CN=fake-root -days 30 \
	    2>/dev/null
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout pck.key -out pck.csr -subj /CN=fake-pck 2>/dev/null
	openssl x509 -req -in pck.csr -CA root.pem -CAkey root.key \
	    -CAcreateserial -out pck.pem -days 30 2>/dev/null
	cat pck.pem root.pem >chain.pem
	NONCE=$(head -c 32 /dev/urandom | base64 -w0 | tr '+/' '-_' | tr -d =)
	M=sha256:$(printf 'manifest' | sha256sum | cut -c1-64)
	R=$(age-keygen 2>/dev/null | sed -n 's/^# public key: //p')
	K=ed25519:$(head -c 32 /dev/urandom | base64 -w0 | tr '+/' '-_' | tr -d =)
	BIND=(--nonce "$NONCE" --manifest-digest "$M" --recipient "$R" --sig-key "$K")
}

teardown() {
	[ -f "$T/fake.pid" ] && kill "$(cat "$T/fake.pid")" 2>/dev/null
	true
}

# fake KIND DIR: serve a fake TEE interface in DIR until teardown.
fake() {
	"$B/faketee" "$1" "$2" pck.key chain.pem </dev/null >/dev/null \
	    2>"$T/fake.err" 3>&- &
	echo $! >"$T/fake.pid"
	for _ in $(seq 100); do
		[ -e "$2/ready" ] && return 0
		sleep 0.05
	done
	return 1
}

@test "tsm: a quote through the fake configfs verifies with the fake's root" {
	fake tsm "$T/cfg"
	TI_TSM_ROOT=$T/cfg run "$B/hwquote" tsm --report-data 00112233
	assert_success
	TI_TSM_ROOT=$T/cfg "$B/hwquote" tsm --report-data 00112233 >q 2>err
	grep -qx 'hwquote: provider tdx_guest' err
	run "$B/hwverify" --trust root.pem q
	assert_success
	echo "$output" | jq -e '.tee == "tdx" and .tcb_status == "unknown" and
	    (.report_data | startswith("00112233000000")) and
	    .measurement == ("7d" * 48)'
	# Every entry was removed again.
	[ -z "$(ls -A "$T/cfg/report")" ]
}

@test "tsm: evidence bound to nonce, measurement and keys checks as bound" {
	fake tsm "$T/cfg"
	TI_TSM_ROOT=$T/cfg "$B/hwquote" tsm "${BIND[@]}" >q 2>/dev/null
	run "$B/hwverify" --trust root.pem "${BIND[@]}" q
	assert_success
	echo "$output" | jq -e '.bound == true'
	run "$B/hwverify" --trust root.pem q
	assert_success
	echo "$output" | jq -e '.bound == false'
	other=$(head -c 32 /dev/urandom | base64 -w0 | tr '+/' '-_' | tr -d =)
	run "$B/hwverify" --trust root.pem --nonce "$other" \
	    --manifest-digest "$M" --recipient "$R" --sig-key "$K" q
	assert_failure 1
	assert_output "hwverify: report_data does not bind the nonce, measurement and keys"
	run "$B/hwverify" --trust root.pem --nonce "$NONCE" \
	    --manifest-digest "sha256:$(printf '%064d' 0)" --recipient "$R" \
	    --sig-key "$K" q
	assert_failure 1
	assert_output --partial "does not bind"
}

@test "tsm: the fake's quotes do not verify under Intel's root" {
	fake tsm "$T/cfg"
	TI_TSM_ROOT=$T/cfg "$B/hwquote" tsm --report-data 01 >q 2>/dev/null
	run "$B/hwverify" --trust "$TI_SHARED/vectors/sgx-dcap/TrustedRootCA.der" q
	assert_failure 1
	assert_output --partial "certificate chain"
}

@test "tsm: without configfs the quote fails with an I/O error" {
	TI_TSM_ROOT=$T/none run "$B/hwquote" tsm --report-data 01
	assert_failure 4
	assert_output --partial "tsm: $T/none/report/ti-"
}

@test "sgx: a quote through the fake /dev/attestation verifies, bound" {
	fake gramine "$T/att"
	TI_GRAMINE_ROOT=$T/att "$B/hwquote" sgx "${BIND[@]}" >q
	run "$B/hwverify" --trust root.pem "${BIND[@]}" q
	assert_success
	echo "$output" | jq -e '.tee == "sgx" and .bound == true and
	    .measurement == ("5e" * 32) and .mrsigner == ("51" * 32) and
	    .debug == false'
}

@test "sgx: an attestation type other than dcap is refused" {
	mkdir att && echo none >att/attestation_type
	TI_GRAMINE_ROOT=$T/att run "$B/hwquote" sgx --report-data 01
	assert_failure 4
	assert_output 'hwquote: sgx: attestation type is "none", not dcap'
	TI_GRAMINE_ROOT=$T/missing run "$B/hwquote" sgx --report-data 01
	assert_failure 4
}

@test "nitro: without an NSM device the quote fails with an I/O error" {
	TI_NSM_DEV=$T/nsm run "$B/hwquote" nitro --report-data 01
	assert_failure 4
	assert_output "hwquote: nitro: $T/nsm: No such file or directory"
	run "$B/hwquote" bogus
	assert_failure 2
}

# The launcher's own path: ti-attest with a hardware backend.
pipeline() {	# pipeline BACKEND: platform, manifest and evidence in $T
	export TI_HOME=$T/home
	ti-attest init --backend "$1" 2>/dev/null
	printf '.\n' >p.jq
	ti-attest manifest p.jq --to "$R" --from any >m.json
	MEAS=$(ti-attest measure --manifest m.json)
}

@test "ti-attest --backend tsm: quote through the fake configfs, verify with its root" {
	fake tsm "$T/cfg"
	export TI_TSM_ROOT=$T/cfg
	pipeline tsm
	run ti-attest quote --manifest m.json --nonce "$NONCE"
	assert_success
	[[ "$output" == ti-hw1.tdx.* ]]
	echo "$output" >ev
	run ti-attest verify --trust root.pem --nonce "$NONCE" \
	    --policy ".tee == \"tdx\" and .measurement == \"$MEAS\" and .bound" ev
	assert_success
	echo "$output" | jq -e '.platform_measurement == ("7d" * 48) and
	    .tcb_status == "unknown" and (.recipient | startswith("age1"))'
	# The recipient it names is the platform's for this manifest.
	[ "$(echo "$output" | jq -r .recipient)" = \
	    "$(ti-attest keys --manifest m.json | head -1)" ]
	run ti-attest verify --trust root.pem --policy true \
	    --nonce "$(head -c 32 /dev/urandom | basenc --base64url | tr -d =)" ev
	assert_failure 1
	assert_output "ti-attest: nonce mismatch"
	run ti-attest verify --trust "$TI_SHARED/vectors/sgx-dcap/TrustedRootCA.der" \
	    --policy true ev
	assert_failure 1
	assert_output --partial "certificate chain"
}

@test "ti-attest --backend tsm: claims swapped in the line no longer bind" {
	fake tsm "$T/cfg"
	export TI_TSM_ROOT=$T/cfg
	pipeline tsm
	ti-attest quote --manifest m.json --nonce "$NONCE" >ev
	IFS=. read -r p tee claims rest <ev
	other=$(echo "$claims" | basenc -d --base64url 2>/dev/null |
	    jq -c --arg k "$K" '.sig_key = $k' | basenc --base64url -w0 | tr -d =)
	echo "$p.$tee.$other.$rest" >bad
	run ti-attest verify --trust root.pem --policy true bad
	assert_failure 1
	assert_output "ti-attest: report_data does not bind the evidence's claims"
}

@test "ti-attest --backend sgx: quote through the fake /dev/attestation" {
	fake gramine "$T/att"
	export TI_GRAMINE_ROOT=$T/att
	pipeline sgx
	ti-attest quote --manifest m.json --nonce "$NONCE" >ev
	run ti-attest verify --trust root.pem --nonce "$NONCE" \
	    --policy ".tee == \"sgx\" and .measurement == \"$MEAS\"" ev
	assert_success
	echo "$output" | jq -e '.mrenclave == ("5e" * 32) and .bound'
	run ti-attest init --backend sgx
	assert_failure 1
	assert_output --partial "platform already exists"
}

@test "evidence line: DCAP collateral travelling as aux is checked" {
	V=$TI_SHARED/vectors
	b64u() { basenc --base64url -w0 "$@" | tr -d =; }
	claims=$(printf '{"measurement":"sha256:%064d","recipient":"%s","sig_key":"%s","nonce":"%s"}' \
	    0 "$R" "$K" "$NONCE" | b64u)
	echo "ti-hw1.sgx.$claims.$(b64u "$V/sgx-dcap/sgx_quote").$(b64u "$V/sgx-dcap/sgx_quote_collateral.json")" >ev
	run ti-attest verify --trust "$V/sgx-dcap/TrustedRootCA.der" --policy true ev
	assert_failure 1
	assert_output --partial "expired"
	# Inside the collateral's validity it passes, up to the binding: the
	# genuine quote's report_data is "Hello, world!", not these claims.
	run ti-attest verify --trust "$V/sgx-dcap/TrustedRootCA.der" \
	    --at 2025-06-25T00:00:00Z --policy true ev
	assert_failure 1
	assert_output "ti-attest: report_data does not bind the evidence's claims"
}

@test "evidence line: an SNP certificate table travelling as aux is used" {
	V=$TI_SHARED/vectors
	b64u() { basenc --base64url -w0 "$@" | tr -d =; }
	awk '/BEGIN/{n++} n==1' "$V/sev-snp/ask_ark_milan.pem" |
	    openssl x509 -outform der -out ask.der
	awk '/BEGIN/{n++} n==2' "$V/sev-snp/ask_ark_milan.pem" >ark.pem
	python3 -c 'import struct, sys
certs = [open(f, "rb").read() for f in sys.argv[1:]]
off = 24 * (len(certs) + 1)
table = b""
for c in certs:
    table += b"\x63" * 16 + struct.pack("<II", off, len(c))
    off += len(c)
sys.stdout.buffer.write(table + bytes(24) + b"".join(certs))' \
	    "$V/sev-snp/vcek.testcer" ask.der >table
	claims=$(printf '{"measurement":"sha256:%064d","recipient":"%s","sig_key":"%s","nonce":"%s"}' \
	    0 "$R" "$K" "$NONCE" | b64u)
	echo "ti-hw1.sev-snp.$claims.$(b64u "$V/sev-snp/attestation.bin").$(b64u table)" >ev
	# The VCEK, ASK and signature check out; the binding cannot.
	run ti-attest verify --trust ark.pem --policy true ev
	assert_failure 1
	assert_output "ti-attest: report_data does not bind the evidence's claims"
	echo "ti-hw1.sev-snp.$claims.$(b64u "$V/sev-snp/attestation.bin")" >ev
	run ti-attest verify --trust ark.pem --policy true ev
	assert_failure 1
	assert_output "ti-attest: sev-snp: no VCEK certificate given"
}
