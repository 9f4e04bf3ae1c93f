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
