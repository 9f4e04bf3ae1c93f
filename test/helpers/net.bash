# Shared by test/ti-fetch.bats and test/ti-post.bats: a sim platform, a
# manifest, and tiserver instances on 127.0.0.1 (random free ports),
# started by the tests and stopped in teardown.

TISERVER=$TI_BUILD/test/helpers/tiserver

net_setup() {
	export TI_HOME=$BATS_TEST_TMPDIR/home
	mkdir -p "$TI_HOME"
	cd "$BATS_TEST_TMPDIR" || return 1
	ti-attest init 2>/dev/null || return 1
	cp "$TI_HOME/root.pem" trust.pem
	echo . >p.jq
	echo .a >other.jq
	ti-attest manifest p.jq --from any --to age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p >m.json || return 1
	ti-attest manifest other.jq --from any --to age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p >other.json || return 1
	SERVERS=()
}

net_teardown() {
	local p
	for p in "${SERVERS[@]}"; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	# A server restarted by a test records its pid in NAME.pid.
	for p in *.pid; do
		[ -f "$p" ] && kill "$(cat "$p")" 2>/dev/null
	done
	return 0
}

# srv NAME [tiserver serve options]: start a server; sets NAME_PORT and
# NAME_PID, logs requests to NAME.log, stores to NAME.db.
srv() {
	local name=$1 i
	shift
	rm -f "$name.port"
	"$TISERVER" serve --trust trust.pem --port-file "$name.port" \
	    --log "$name.log" --store "$name.db" --service-key "$name.seed" \
	    --service-pub "$name.pub" --session-key "$name.skey" "$@" \
	    2>>"$name.err" 3>&- &
	local pid=$!
	SERVERS+=("$pid")
	for i in $(seq 100); do
		[ -s "$name.port" ] && break
		sleep 0.05
	done
	[ -s "$name.port" ] || { cat "$name.err" >&2; return 1; }
	printf -v "${name}_PORT" %s "$(cat "$name.port")"
	printf -v "${name}_PID" %s "$pid"
}

# stats NAME: how many messages the server NAME stored.
stored() {
	sqlite3 "$1.db" 'SELECT count(*) FROM msg'
}

# A test CA, a server certificate for 127.0.0.1 and a client certificate.
mkcerts() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
	    -nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=ti-test-ca \
	    2>/dev/null || return 1
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout srv.key -out srv.csr -subj /CN=127.0.0.1 2>/dev/null
	printf 'subjectAltName=IP:127.0.0.1\n' >srv.ext
	openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key \
	    -CAcreateserial -out srv.pem -days 2 -extfile srv.ext 2>/dev/null
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout cli.key -out cli.csr -subj /CN=ti-client 2>/dev/null
	openssl x509 -req -in cli.csr -CA ca.pem -CAkey ca.key \
	    -CAcreateserial -out cli.pem -days 2 2>/dev/null
	chmod 600 srv.key cli.key ca.key
}
