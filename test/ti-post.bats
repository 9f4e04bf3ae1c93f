#!/usr/bin/env bats
load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'
load "$TI_TOP/test/helpers/net.bash"

setup() { net_setup; }
teardown() { net_teardown; }

gen() { "$TISERVER" gen "$TI_HOME" "$@"; }

# nonce URL: the nonce of a fresh challenge.
nonce() {
	curl -s -D - -o /dev/null "$1" |
	    sed -n 's/^WWW-Authenticate: TI-Attest nonce="\([^"]*\)".*/\1/p'
}

# hdr NAME: the value of response header NAME in the file hdrs.
hdr() { sed -n "s/^$1: \\(.*\\)\\r\$/\\1/p" hdrs; }

@test "ti-post: --help, --version and usage errors" {
	run ti-post --help
	assert_success
	assert_output --partial "ti-post --resume [DIR] URL"
	run ti-post --version
	assert_output "ti-post 0.1.0"
	run ti-post http://127.0.0.1:1/
	assert_failure 2
	run ti-post --manifest m.json
	assert_failure 2
	run ti-post --manifest m.json --parallel 0 http://127.0.0.1:1/
	assert_failure 2
}

@test "ti-post: delivers, one attestation, then repeats are already present" {
	srv A
	gen m.json 50 >msgs
	run ti-post --manifest m.json --spool sp "http://127.0.0.1:$A_PORT/bookings" <msgs
	assert_success
	assert_output "ti-post: delivered 50, already present 0, spooled 0"
	[ "$(stored A)" -eq 50 ]
	[ "$(grep -c 'auth=attest' A.log)" -eq 1 ]
	[ -z "$(ls sp)" ]
	run ti-post --manifest m.json --spool sp "http://127.0.0.1:$A_PORT/bookings" <msgs
	assert_success
	assert_output "ti-post: delivered 0, already present 50, spooled 0"
	[ "$(stored A)" -eq 50 ]
}

@test "ti-post: the default spool is under \$TI_HOME/spool/HOST-PORT" {
	gen m.json 3 >msgs
	run ti-post --manifest m.json --retry 0 "http://127.0.0.1:1/b" <msgs
	assert_failure 8
	assert_output --partial "spooled 3"
	[ "$(ls "$TI_HOME/spool/127.0.0.1-1" | wc -l)" -eq 3 ]
	cat "$TI_HOME/spool/127.0.0.1-1/.measurement" | grep -q '^sha256:'
}

@test "ti-post: nothing is lost while the service is down; --resume delivers" {
	gen m.json 20 >msgs
	run ti-post --manifest m.json --spool sp --retry 1 "http://127.0.0.1:1/b" <msgs
	assert_failure 8
	assert_output --partial "delivered 0, already present 0, spooled 20"
	[ "$(ls sp | wc -l)" -eq 20 ]
	# Each spooled file is the message line as given.
	first=$(head -1 msgs | jq -r '"\(.run).\(.seq)"')
	cmp <(head -1 msgs | tr -d '\n') "sp/$first"
	srv A
	run ti-post --resume sp "http://127.0.0.1:$A_PORT/b"
	assert_success
	assert_output "ti-post: delivered 20, already present 0, spooled 0"
	[ "$(stored A)" -eq 20 ]
}

@test "ti-post: a message whose signature does not verify stays spooled (400)" {
	srv A
	gen m.json 10 3 >msgs
	run ti-post --manifest m.json --spool sp "http://127.0.0.1:$A_PORT/b" <msgs
	assert_failure 8
	assert_output --partial "delivered 9, already present 0, spooled 1"
	assert_output --partial "400"
	assert_output --partial "bad-signature"
	[ "$(ls sp | wc -l)" -eq 1 ]
	[ "$(stored A)" -eq 9 ]
}

@test "ti-post: messages signed for another measurement are refused (403)" {
	srv A
	gen other.json 4 >msgs
	run ti-post --manifest m.json --spool sp "http://127.0.0.1:$A_PORT/b" <msgs
	assert_failure 8
	assert_output --partial "signer-mismatch"
	assert_output --partial "spooled 4"
	[ "$(stored A)" -eq 0 ]
}

@test "ti-post: a denied attestation is exit 7, everything stays spooled" {
	srv A --policy '.tee == "nitro"'
	gen m.json 5 >msgs
	run ti-post --manifest m.json --spool sp "http://127.0.0.1:$A_PORT/b" <msgs
	assert_failure 7
	assert_output --partial "policy denied"
	assert_output --partial "spooled 5"
	[ "$(ls sp | wc -l)" -eq 5 ]
}

@test "ti-post: malformed input is exit 3, stops delivery, keeps what came before" {
	srv A
	{ gen m.json 2; echo '{"v":1,"run":"x"}'; gen m.json 2; } >msgs
	run ti-post --manifest m.json --spool sp "http://127.0.0.1:$A_PORT/b" <msgs
	assert_failure 3
	assert_output --partial "line 3"
	assert_output --partial "spooled 2"
	[ ! -s A.log ]
	[ "$(ls sp | wc -l)" -eq 2 ]
	run ti-post --resume sp "http://127.0.0.1:$A_PORT/b"
	assert_success
	[ "$(stored A)" -eq 2 ]
}

@test "ti-post: a spool of another manifest is not mixed in" {
	gen m.json 2 >msgs
	run ti-post --manifest m.json --spool sp --retry 0 "http://127.0.0.1:1/b" <msgs
	assert_failure 8
	run ti-post --manifest other.json --spool sp "http://127.0.0.1:1/b" </dev/null
	assert_failure 2
	assert_output --partial "another manifest"
}

@test "ti-post: retries 503 and 429 with Retry-After, and dropped connections" {
	srv A --status 503 --status-count 5 --retry-after 1
	gen m.json 30 >msgs
	start=$(date +%s)
	run ti-post --manifest m.json --spool sp --parallel 4 "http://127.0.0.1:$A_PORT/b" <msgs
	assert_success
	assert_output --partial "delivered 30"
	[ $(($(date +%s) - start)) -ge 1 ]
	srv B --drop-rate 0.3 --drop-after-rate 0.2
	gen m.json 40 >msgs2
	run ti-post --manifest m.json --spool sp2 --retry 30 "http://127.0.0.1:$B_PORT/b" <msgs2
	assert_success
	[ "$(stored B)" -eq 40 ]
}

@test "ti-post: a stale session is answered by attesting again" {
	# 60 requests of 100 ms, two at a time: 3 s, sessions of 1 s.
	srv A --session-ttl 1 --delay-ms 100
	gen m.json 60 >msgs
	run ti-post --manifest m.json --spool sp --parallel 2 "http://127.0.0.1:$A_PORT/b" <msgs
	assert_success
	assert_output --partial "delivered 60"
	[ "$(grep -c 'auth=attest' A.log)" -ge 2 ]
	[ "$(stored A)" -eq 60 ]
}

@test "ti-post: TLS and mutual TLS" {
	mkcerts
	srv A --cert srv.pem --key srv.key --client-ca ca.pem
	gen m.json 5 >msgs
	run ti-post --manifest m.json --spool sp --cacert ca.pem "https://127.0.0.1:$A_PORT/b" <msgs
	assert_failure 7
	assert_output --partial "spooled 5"
	assert_output --partial "client certificate required"
	run ti-post --resume sp --cacert ca.pem --cert cli.pem --key cli.key "https://127.0.0.1:$A_PORT/b"
	assert_success
	assert_output --partial "delivered 5"
}

@test "protocol: no evidence is a 401 challenge with a one-line reason" {
	srv A
	run curl -s -D hdrs -X POST "http://127.0.0.1:$A_PORT/b"
	assert_output "attestation required"
	head -1 hdrs | grep -q ' 401 '
	[ "$(hdr TI-Error)" = no-credentials ]
	hdr WWW-Authenticate | grep -Eq '^TI-Attest nonce="[A-Za-z0-9_-]{43}"$'
	run curl -s -D hdrs -H 'Authorization: Basic eDp5' "http://127.0.0.1:$A_PORT/b"
	assert_output "malformed Authorization"
	[ "$(hdr TI-Error)" = bad-credentials ]
}

@test "protocol: bad evidence, a replayed nonce and an expired nonce" {
	srv A --nonce-ttl 1
	u="http://127.0.0.1:$A_PORT/x"
	n=$(nonce "$u")
	run curl -s -D hdrs -H "Authorization: TI-Attest eyJhbGciOiJFZERTQSJ9.e30.AAAA" -H "TI-Nonce: $n" "$u"
	[ "$(hdr TI-Error)" = bad-evidence ]
	n=$(nonce "$u")
	ev=$("$TISERVER" quote "$TI_HOME" m.json "$n")
	run curl -s -D hdrs -H "Authorization: TI-Attest $ev" -H "TI-Nonce: $n" "$u"
	head -1 hdrs | grep -q ' 200 '
	[ -n "$(hdr TI-Session)" ]
	run curl -s -D hdrs -H "Authorization: TI-Attest $ev" -H "TI-Nonce: $n" "$u"
	assert_output "nonce-replayed"
	head -1 hdrs | grep -q ' 401 '
	[ "$(hdr TI-Error)" = nonce-replayed ]
	n=$(nonce "$u")
	ev=$("$TISERVER" quote "$TI_HOME" m.json "$n")
	sleep 2.2
	run curl -s -D hdrs -H "Authorization: TI-Attest $ev" -H "TI-Nonce: $n" "$u"
	[ "$(hdr TI-Error)" = nonce-expired ]
	run curl -s -D hdrs -H "Authorization: TI-Attest $ev" "$u"
	[ "$(hdr TI-Error)" = bad-credentials ]
}

@test "protocol: an expired session is a fresh challenge" {
	srv A --session-ttl 1
	u="http://127.0.0.1:$A_PORT/x"
	n=$(nonce "$u")
	ev=$("$TISERVER" quote "$TI_HOME" m.json "$n")
	curl -s -D hdrs -o /dev/null -H "Authorization: TI-Attest $ev" -H "TI-Nonce: $n" "$u"
	tok=$(hdr TI-Session)
	run curl -s -D hdrs -H "Authorization: TI-Session $tok" "$u"
	head -1 hdrs | grep -q ' 200 '
	sleep 2.2
	run curl -s -D hdrs -H "Authorization: TI-Session $tok" "$u"
	[ "$(hdr TI-Error)" = session-expired ]
	hdr WWW-Authenticate | grep -q '^TI-Attest nonce='
	run curl -s -D hdrs -H "Authorization: TI-Session ${tok%?}A" "$u"
	[ "$(hdr TI-Error)" = session-expired ]
}

@test "protocol: POST statuses: 201, 200, 409, 400, 415, 413" {
	head -c 32 /dev/urandom >A.skey
	srv A --max-body 2000
	tok=$("$TISERVER" mint "$TI_HOME" m.json A.skey)
	u="http://127.0.0.1:$A_PORT/b"
	gen m.json 2 >msgs
	head -1 msgs >one
	key=$(jq -r '"\(.run).\(.seq)"' one)
	post() { curl -s -D hdrs -H "Authorization: TI-Session $tok" "$@" "$u"; }
	ct='Content-Type: application/vnd.ti.message+json'
	run post -H "$ct" -H "Idempotency-Key: ${key%.*}.1" --data-binary @one
	assert_output --partial "Idempotency-Key differs"
	head -1 hdrs | grep -q ' 409 '
	run post -H "$ct" -H "Idempotency-Key: nope" --data-binary @one
	head -1 hdrs | grep -q ' 400 '
	[ "$(hdr TI-Error)" = bad-idempotency-key ]
	run post -H "Content-Type: application/json" --data-binary @one
	head -1 hdrs | grep -q ' 415 '
	run post -H "$ct" -H "Idempotency-Key: $key" --data-binary @one
	assert_output stored
	head -1 hdrs | grep -q ' 201 '
	run post -H "$ct" -H "Idempotency-Key: $key" --data-binary @one
	assert_output exists
	head -1 hdrs | grep -q ' 200 '
	run post -H "$ct" --data-binary '{"v":1}'
	[ "$(hdr TI-Error)" = bad-message ]
	head -c 3000 /dev/zero | tr '\0' a >big
	run post -H "$ct" --data-binary @big
	head -1 hdrs | grep -q ' 413 '
	[ "$(stored A)" -eq 1 ]
}

# missing: input messages neither spooled nor stored (not yet accepted).
missing() {
	comm -23 <(jq -r '"\(.run).\(.seq)"' msgs | sort) \
	    <({ ls "$sp"; sqlite3 A.db "SELECT run || '.' || seq FROM msg"; } | sort -u) |
	    wc -l
}

@test "ti-post: faults: random 500s, drops, receiver and sender killed; each message once" {
	gen m.json 10000 >msgs
	# Killing a process loses nothing in the page cache, so the spool may
	# sit on tmpfs here: this tests the protocol, not the disk.
	sp=$BATS_TEST_TMPDIR/sp
	[ -d /dev/shm ] && sp=$(mktemp -d /dev/shm/ti-post-fault.XXXXXX)
	faults=(--fail-rate 0.02 --drop-rate 0.02 --drop-after-rate 0.02)
	srv A "${faults[@]}"
	port=$A_PORT
	u="http://127.0.0.1:$port/b"
	# The receiver is killed and restarted (with a new session key).
	(
		for i in 1 2 3 4 5; do
			sleep "$((RANDOM % 2)).$((RANDOM % 9 + 1))"
			old=$(cat A.pid 2>/dev/null || echo "$A_PID")
			kill -9 "$old" 2>/dev/null || true
			# Until it is gone, it holds the port and the store.
			while kill -0 "$old" 2>/dev/null; do sleep 0.05; done
			sleep 0.2
			rm -f A.skey
			"$TISERVER" serve --trust trust.pem --port "$port" --log A.log \
			    --store A.db --service-key A.seed --session-key A.skey \
			    "${faults[@]}" 2>>A.err 3>&- &
			echo $! >A.pid
		done
	) 3>&- &
	killer=$!
	: >counts
	# The sender is killed at random. While some input was not yet
	# accepted (neither spooled nor stored), it is fed again, as a
	# pipeline would be re-run; otherwise the spool is resumed.
	for i in 1 2 3 4 5; do
		if [ "$(missing)" -gt 0 ]; then
			ti-post --manifest m.json --spool "$sp" --retry 100 "$u" <msgs 2>>counts 3>&- &
		else
			ti-post --resume "$sp" --retry 100 "$u" 2>>counts 3>&- &
		fi
		p=$!
		sleep "$((RANDOM % 3)).$((RANDOM % 9 + 1))"
		kill -9 "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	wait "$killer"
	SERVERS+=("$(cat A.pid)")
	# The last receiver is up (a failed restart must fail the test, not hang it).
	for _ in $(seq 100); do
		curl -s "$u" -o /dev/null && break
		sleep 0.1
	done
	curl -s -o /dev/null "http://127.0.0.1:$port/_stats"
	if [ "$(missing)" -gt 0 ]; then
		run timeout 120 ti-post --manifest m.json --spool "$sp" --retry 100 "$u" <msgs
	else
		run timeout 120 ti-post --resume "$sp" --retry 100 "$u"
	fi
	echo "$output" >>counts
	left=$(ls "$sp" | wc -l)
	[ "${sp#/dev/shm/}" = "$sp" ] || rm -rf "$sp"
	assert_success
	assert_output --regexp "spooled 0$"
	[ "$left" -eq 0 ]
	# Exactly once: the receiver holds every (run, seq) of the input, once.
	[ "$(stored A)" -eq 10000 ]
	cmp <(jq -r '"\(.run).\(.seq)"' msgs | sort) \
	    <(sqlite3 A.db "SELECT run || '.' || seq FROM msg" | sort)
	# The counts agree: runs that finished reported no more new
	# deliveries than the receiver stored.
	d=$(awk '/delivered/ { sub(",", "", $3); n += $3 } END { print n + 0 }' counts)
	[ "$d" -le 10000 ]
}
