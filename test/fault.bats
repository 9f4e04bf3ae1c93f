#!/usr/bin/env bats
# Fault injection on the write path: ti-post and the receiver that
# persists messages (the protocol test server) are killed with SIGKILL at
# random points, over and over, while the same input is delivered; then
# the spool is resumed. The receiver must end with every message of the
# input exactly once, each byte for byte as sent, and the spool empty.
load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'
load "$TI_TOP/test/helpers/net.bash"

setup() {
	net_setup
	SP=$BATS_TEST_TMPDIR/sp
	# SIGKILL loses nothing in the page cache, so the spool may sit on
	# tmpfs: this tests the protocol and the spool, not the disk.
	[ -d /dev/shm ] && SP=$(mktemp -d /dev/shm/ti-fault.XXXXXX)
}

teardown() {
	[ -n "${POST:-}" ] && kill -9 "$POST" 2>/dev/null
	net_teardown
	[ "${SP#/dev/shm/}" = "$SP" ] || rm -rf "$SP"
	return 0
}

gen() { "$TISERVER" gen "$TI_HOME" "$@"; }

# The receiver, restarted on the same port and store after a kill.
recv_start() {
	"$TISERVER" serve --trust trust.pem --port "$PORT" --log A.log \
	    --store A.db --service-key A.seed --session-key A.skey \
	    2>>A.err 3>&- &
	RECV=$!
	echo "$RECV" >A.pid
}

# Random delay in [0, $1) tenths of a second, as a sleep argument.
pause() { printf '%d.%d' $((RANDOM % $1 / 10)) $((RANDOM % 10)); }

# Wait up to $2 seconds for pid $1 to end; 0 if it did.
waitfor() {
	local i
	for i in $(seq $(($2 * 20))); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.05
	done
	return 1
}

@test "fault: 50 runs of the same input, ti-post and receiver killed at random; each message exactly once" {
	n=${TI_FAULT_MESSAGES:-200}
	# The sanitizer stage of CI repeats it fewer times (the plain stage
	# runs all 50).
	runs=${TI_FAULT_RUNS:-50}
	[ "${TI_SANITIZE:-0}" = 1 ] && runs=${TI_FAULT_RUNS:-15}
	gen m.json "$n" >msgs
	srv A
	PORT=$A_PORT RECV=$A_PID
	u="http://127.0.0.1:$PORT/b"
	: >kills
	for r in $(seq "$runs"); do
		victim=$((RANDOM % 3))	# 0: ti-post, 1: receiver, 2: both
		ti-post --manifest m.json --spool "$SP" --retry 1000 -s "$u" \
		    <msgs >>post.out 2>&1 3>&- &
		POST=$!
		sleep "$(pause 5)"
		if [ "$victim" -ne 1 ]; then
			kill -9 "$POST" 2>/dev/null && echo "$r ti-post" >>kills
		fi
		if [ "$victim" -ne 0 ]; then
			kill -9 "$RECV" 2>/dev/null && echo "$r receiver" >>kills
			wait "$RECV" 2>/dev/null || true
			sleep "$(pause 3)"
			recv_start
		fi
		# A sender left running meets the restarted receiver and
		# retries; one that takes too long is killed too.
		if ! waitfor "$POST" 15; then
			kill -9 "$POST" 2>/dev/null && echo "$r ti-post late" >>kills
		fi
		wait "$POST" 2>/dev/null || true
		POST=
	done
	SERVERS+=("$RECV")
	# Both kinds of kill happened (a third of the runs each, on average).
	grep -q ti-post kills
	grep -q receiver kills
	# Resume what the spool holds, then deliver the input once more.
	run ti-post --resume "$SP" --retry 1000 "$u"
	assert_success
	run ti-post --manifest m.json --spool "$SP" --retry 1000 "$u" <msgs
	assert_success
	assert_output --regexp "^ti-post: delivered [0-9]+, already present [0-9]+, spooled 0$"
	[ -z "$(ls "$SP")" ]
	# Exactly once: every (run, seq) of the input, no other, no repeat.
	[ "$(stored A)" -eq "$n" ]
	cmp <(jq -r '"\(.run).\(.seq)"' msgs | sort) \
	    <(sqlite3 A.db "SELECT run || '.' || seq FROM msg" | sort)
	# Each stored body is the line that was sent, byte for byte.
	cmp <(sort msgs) \
	    <(sqlite3 A.db "SELECT CAST(body AS TEXT) FROM msg" | sort)
	echo "kills: $(wc -l <kills)" >&3
}

@test "fault: a receiver that lost its session key rejects the old session; ti-post attests again" {
	gen m.json 20 >msgs
	srv A
	PORT=$A_PORT RECV=$A_PID
	u="http://127.0.0.1:$PORT/b"
	run ti-post --manifest m.json --spool "$SP" "$u" <<<"$(head -10 msgs)"
	assert_success
	kill -9 "$RECV"
	wait "$RECV" 2>/dev/null || true
	rm -f A.skey
	recv_start
	SERVERS+=("$RECV")
	run ti-post --manifest m.json --spool "$SP" --retry 50 "$u" <msgs
	assert_success
	assert_output "ti-post: delivered 10, already present 10, spooled 0"
	[ "$(stored A)" -eq 20 ]
}
