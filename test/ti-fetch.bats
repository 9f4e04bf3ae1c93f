#!/usr/bin/env bats
load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'
load "$TI_TOP/test/helpers/net.bash"

setup() { net_setup; }
teardown() { net_teardown; }

# The fields of the one message on stdin, for assertions.
field() { jq -r ".$1" <<<"$2"; }

@test "ti-fetch: --help, --version and usage errors" {
	run ti-fetch --help
	assert_success
	assert_output --partial "usage: ti-fetch --manifest FILE"
	run ti-fetch --version
	assert_output "ti-fetch 0.1.0"
	run ti-fetch http://127.0.0.1:1/
	assert_failure 2
	run ti-fetch --manifest m.json
	assert_failure 2
	run ti-fetch --manifest m.json --retry x http://127.0.0.1:1/
	assert_failure 2
	# --insecure exists only spelled out.
	run ti-fetch --manifest m.json -k http://127.0.0.1:1/
	assert_failure 2
}

@test "ti-fetch: challenge, evidence, a signed message sealed to the process" {
	srv A
	run ti-fetch --manifest m.json --sender A.pub "http://127.0.0.1:$A_PORT/customers"
	assert_success
	[ "${#lines[@]}" -eq 1 ]
	[ "$(field seq "$output")" = 0 ]
	[ "$(field last "$output")" = true ]
	[ "$(field signer "$output")" = "$(cat A.pub)" ]
	field sealed "$output" | base64 -d | head -1 | grep -qx 'age-encryption.org/v1'
	# run is the nonce the service issued in its challenge.
	[ "$(field run "$output" | wc -c)" -eq 44 ]
	# Only the attested process's identity opens it.
	msg=$output
	[ "$("$TISERVER" open "$TI_HOME" m.json <<<"$msg")" = '{"hello":"world"}' ]
	run "$TISERVER" open "$TI_HOME" other.json <<<"$msg"
	assert_failure
	run cat A.log
	assert_line --index 0 "GET /customers auth=none"
	assert_line --index 1 "GET /customers auth=attest"
}

@test "ti-fetch: one attestation per session across URLs of an origin" {
	srv A
	run ti-fetch --manifest m.json -o out.ndjson "http://127.0.0.1:$A_PORT/a" \
	    "http://127.0.0.1:$A_PORT/b" "http://127.0.0.1:$A_PORT/c"
	assert_success
	[ "$(wc -l <out.ndjson)" -eq 3 ]
	[ "$(grep -c attest A.log)" -eq 1 ]
	[ "$(grep -c session A.log)" -eq 2 ]
	# Every message has its own fresh run.
	[ "$(jq -r .run out.ndjson | sort -u | wc -l)" -eq 3 ]
}

@test "ti-fetch: a message from another signer than --sender is refused" {
	srv A
	srv B
	run ti-fetch --manifest m.json --sender B.pub -o out "http://127.0.0.1:$A_PORT/x"
	assert_failure 7
	assert_output --partial "unexpected signer"
	[ ! -e out ]
}

@test "ti-fetch: plaintext from a service is refused, nothing written" {
	srv A --plaintext
	run ti-fetch --manifest m.json -o out "http://127.0.0.1:$A_PORT/x"
	assert_failure 7
	assert_output --partial "not a sealed message"
	[ ! -e out ]
	run ti-fetch --manifest m.json "http://127.0.0.1:$A_PORT/x"
	assert_failure 7
	refute_output --partial hello
}

@test "ti-fetch: a tampered message signature is refused" {
	srv A --bad-sig
	run ti-fetch --manifest m.json "http://127.0.0.1:$A_PORT/x"
	assert_failure 7
	assert_output --partial "signature does not verify"
}

@test "ti-fetch: wrong measurement is denied by policy (403)" {
	srv A --policy '.tee == "sim" and .measurement == "sha256:0000000000000000000000000000000000000000000000000000000000000000"'
	run ti-fetch --manifest m.json "http://127.0.0.1:$A_PORT/x"
	assert_failure 7
	assert_output --partial "403"
	assert_output --partial "policy denied"
}

@test "ti-fetch: evidence from an untrusted platform is refused (401 bad-evidence)" {
	srv A
	export TI_HOME=$BATS_TEST_TMPDIR/home2
	ti-attest init 2>/dev/null
	run ti-fetch --manifest m.json "http://127.0.0.1:$A_PORT/x"
	assert_failure 7
	assert_output --partial "401"
	[ "$(grep -c attest A.log)" -eq 1 ]
}

@test "ti-fetch: several URLs, one refused: nothing written" {
	srv A
	srv B --plaintext
	run bash -c "ti-fetch --manifest m.json http://127.0.0.1:$A_PORT/x http://127.0.0.1:$B_PORT/y >out"
	assert_failure 7
	[ ! -s out ]
}

@test "ti-fetch: TLS with a test CA; without it the connection fails" {
	mkcerts
	srv A --cert srv.pem --key srv.key
	run ti-fetch --manifest m.json --cacert ca.pem "https://127.0.0.1:$A_PORT/x"
	assert_success
	[ "$(field seq "$output")" = 0 ]
	run ti-fetch --manifest m.json "https://127.0.0.1:$A_PORT/x"
	assert_failure 5
	run ti-fetch --manifest m.json --insecure "https://127.0.0.1:$A_PORT/x"
	assert_success
}

@test "ti-fetch: mutual TLS" {
	mkcerts
	srv A --cert srv.pem --key srv.key --client-ca ca.pem
	run ti-fetch --manifest m.json --cacert ca.pem "https://127.0.0.1:$A_PORT/x"
	assert_failure 7
	assert_output --partial "client certificate required"
	run ti-fetch --manifest m.json --cacert ca.pem --cert cli.pem --key cli.key \
	    "https://127.0.0.1:$A_PORT/x"
	assert_success
}

@test "ti-fetch: retries 503 with --retry; without, the reason and exit 7" {
	srv A --status 503 --status-count 2 --retry-after 0
	run ti-fetch --manifest m.json --retry 3 "http://127.0.0.1:$A_PORT/x"
	assert_success
	srv B --status 503 --status-count 1
	run ti-fetch --manifest m.json "http://127.0.0.1:$B_PORT/x"
	assert_failure 7
	assert_output --partial "503 injected status"
}

@test "ti-fetch: Retry-After is obeyed" {
	srv A --status 429 --status-count 1 --retry-after 2
	start=$(date +%s%N)
	run ti-fetch --manifest m.json --retry 1 "http://127.0.0.1:$A_PORT/x"
	end=$(date +%s%N)
	assert_success
	[ $(((end - start) / 1000000)) -ge 2000 ]
}

@test "ti-fetch: dropped connections are retried; a closed port is exit 5" {
	srv A --drop-count 2
	run ti-fetch --manifest m.json --retry 3 -s "http://127.0.0.1:$A_PORT/x"
	assert_success
	srv B --drop-count 1
	run ti-fetch --manifest m.json "http://127.0.0.1:$B_PORT/x"
	assert_failure 5
	run ti-fetch --manifest m.json --connect-timeout 2 "http://127.0.0.1:1/x"
	assert_failure 5
}

@test "ti-fetch: -m limits a slow service (exit 5)" {
	srv A --delay-ms 3000
	start=$(date +%s)
	run ti-fetch --manifest m.json -m 1 "http://127.0.0.1:$A_PORT/x"
	assert_failure 5
	assert_output --partial "imed out"
	[ $(($(date +%s) - start)) -lt 3 ]
}

@test "ti-fetch: -L follows to another origin without the first's credentials" {
	srv B
	srv A --redirect-to "http://127.0.0.1:$B_PORT/data"
	run ti-fetch --manifest m.json "http://127.0.0.1:$A_PORT/x" "http://127.0.0.1:$A_PORT/redirect"
	assert_failure 7
	assert_output --partial "302"
	run ti-fetch --manifest m.json -L "http://127.0.0.1:$A_PORT/x" "http://127.0.0.1:$A_PORT/redirect"
	assert_success
	[ "${#lines[@]}" -eq 2 ]
	# A's session went to A only; B saw no credentials until it challenged.
	grep -q "GET /redirect auth=session" A.log
	run cat B.log
	assert_line --index 0 "GET /data auth=none"
	assert_line --index 1 "GET /data auth=attest"
	# A user's Authorization header stays with the first origin too.
	: >A.log
	: >B.log
	run ti-fetch --manifest m.json -L -H "Authorization: TI-Session bogus" \
	    "http://127.0.0.1:$A_PORT/redirect"
	assert_success
	run cat B.log
	assert_line --index 0 "GET /data auth=none"
}

@test "ti-fetch: -v shows headers with evidence and tokens elided" {
	srv A
	run ti-fetch --manifest m.json -v "http://127.0.0.1:$A_PORT/x" "http://127.0.0.1:$A_PORT/y"
	assert_success
	assert_output --partial "> Authorization: TI-Attest <"
	assert_output --partial "> Authorization: TI-Session <"
	assert_output --partial "< TI-Session: <"
	assert_output --partial "WWW-Authenticate: TI-Attest nonce="
	refute_output --partial "TI-Attest eyJ"
	refute_output --regexp "TI-Session: [A-Za-z0-9_-]{40}"
}

@test "ti-fetch: the service's reason on a POST with -d @file and -X" {
	srv A
	echo hi >body
	run ti-fetch --manifest m.json -d @body "http://127.0.0.1:$A_PORT/x"
	assert_failure 7
	assert_output --partial "415"
	run ti-fetch --manifest m.json -X DELETE "http://127.0.0.1:$A_PORT/x"
	assert_failure 7
	assert_output --partial "405 method not allowed"
}

@test "ti-fetch: a closed stdout is exit 4" {
	srv A
	run bash -c "ti-fetch --manifest m.json http://127.0.0.1:$A_PORT/x | true; exit \${PIPESTATUS[0]}"
	assert_failure 4
}

@test "ti-fetch: a missing manifest is an error" {
	run ti-fetch --manifest nope.json "http://127.0.0.1:1/x"
	assert_failure
	assert_output --partial "nope.json"
}
