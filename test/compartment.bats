#!/usr/bin/env bats
# The linux compartment and the exfiltration battery: every hostile
# program in test/exfil/ tries one way out; each must be blocked and
# reported, and the listeners and host files must show nothing got out.

load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

setup_file() {
	export L=$BATS_FILE_TMPDIR/listen
	mkdir -p "$L"
	python3 "$TI_TOP/test/exfil/listen.py" "$L" 3>&- &
	echo $! >"$BATS_FILE_TMPDIR/listen.pid"
	for _ in $(seq 50); do [ -e "$L/ready" ] && break; sleep 0.1; done
	[ -e "$L/ready" ]
}

teardown_file() {
	kill "$(cat "$BATS_FILE_TMPDIR/listen.pid")" 2>/dev/null || true
}

setup() {
	CR=$TI_BUILD/test/helpers/compartment-run
	X=$TI_BUILD/test/exfil
	L=$BATS_FILE_TMPDIR/listen
	read -r TCP UDP ABSTRACT DNS <<<"$(sed 's/[a-z]*=//g' "$L/ready")"
	: >"$L/log"
}

# Run a hostile program in a compartment with the battery's limits.
box() {
	run "$CR" --timeout 5000 --memory 268435456 "$X/$1" "${@:2}"
}

# Nothing reached a listener and the program did not claim success.
nothing_out() {
	refute_output --partial ESCAPED
	refute_output --partial TI-EXFIL-SECRET
	[ ! -s "$L/log" ] || { cat "$L/log"; false; }
}

violation() {
	assert_failure 6
	assert_output --partial "compartment violation: $1"
	nothing_out
}

# --- things that must work ---

@test "an executable runs and its output comes out" {
	run "$CR" /bin/echo hello world
	assert_success
	assert_output "hello world"
}

@test "a dynamic executable with libraries (jq) runs on stdin" {
	run bash -c "echo '{\"a\":[1,2]}' | '$CR' /usr/bin/jq -c '.a|add'"
	assert_success
	assert_output "3"
}

@test "threads and a child process run within the process limit" {
	run "$CR" "$TI_BUILD/test/helpers/static-threads"
	assert_success
	assert_output "20"
	run "$CR" --procs 3 "$TI_BUILD/test/helpers/static-threads"
	assert_failure 10
	assert_output --partial "resource limit: processes"
}

@test "an executable under /tmp runs although /tmp is hidden" {
	d=$(mktemp -d /tmp/ti-compartment-XXXXXX)
	chmod 0755 "$d"
	cp /bin/echo "$d/echo"
	run "$CR" "$d/echo" from tmp
	rm -rf "$d"
	assert_success
	assert_output "from tmp"
}

@test "an executable the unprivileged compartment cannot reach does not start" {
	[ "$(id -u)" = 0 ] || skip "needs a directory only root can search"
	mkdir -m 0700 "$BATS_TEST_TMPDIR/private"
	cp /bin/echo "$BATS_TEST_TMPDIR/private/echo"
	run "$CR" "$BATS_TEST_TMPDIR/private/echo" hi
	assert_failure 4
	assert_output --partial "Permission denied"
	refute_output --partial "hi"
}

@test "a dynamic executable reads its own libraries, not their neighbours" {
	lib=$(realpath /usr/lib/x86_64-linux-gnu/libonig.so.5) || skip "no libonig"
	other=$(realpath /usr/lib/x86_64-linux-gnu/libz.so.1) || skip "no libz"
	run bash -c "'$CR' /usr/bin/jq -n --rawfile x '$lib' '\$x|length' | cat"
	assert_success
	assert_output --regexp '^[0-9]+$'
	run bash -c "'$CR' /usr/bin/jq -n --rawfile x '$other' '\$x|length' | cat"
	assert_output --partial "Permission denied"
	assert_output --partial "program exited with status 2"
}

@test "a function runs in the compartment" {
	run "$CR" --fn hello
	assert_success
	assert_output "hello from a function"
}

@test "a function runs libjq in the compartment" {
	run bash -c "echo '{\"a\":[1,2,3]}' | '$CR' --fn jq '[.a[]|.*2]'"
	assert_success
	assert_output "[2,4,6]"
}

@test "given fds are placed in order; /dev/null for -1" {
	echo three >"$BATS_TEST_TMPDIR/3"
	echo four >"$BATS_TEST_TMPDIR/4"
	run "$CR" --fd 6 --fd 5 --fn catfd 3 5<"$BATS_TEST_TMPDIR/3" \
	    6<"$BATS_TEST_TMPDIR/4"
	assert_success
	assert_output "four"
	run "$CR" --fd 6 --fd 5 --fn catfd 4 5<"$BATS_TEST_TMPDIR/3" \
	    6<"$BATS_TEST_TMPDIR/4"
	assert_output "three"
	run "$CR" --fd -1 --fn catfd 3
	assert_success
	assert_output ""
	run "$CR" --fn catfd 5 5<"$BATS_TEST_TMPDIR/3"
	assert_failure 9
	refute_output --partial three
}

@test "the sealer profile runs a function on its fds" {
	run "$CR" --profile sealer --fn write sealed
	assert_success
	assert_output "sealed"
}

@test "jq in a function sees no environment and no hostile ~/.jq" {
	mkdir -p "$BATS_TEST_TMPDIR/home"
	echo 'def map(f): "TI-EXFIL-SECRET";' >"$BATS_TEST_TMPDIR/home/.jq"
	run env HOME="$BATS_TEST_TMPDIR/home" TOKEN=TI-EXFIL-SECRET \
	    bash -c "echo '[1]' | '$CR' --fn jq '[\$ENV, map(.+1)]'"
	assert_success
	assert_output '[{},[2]]'
}

@test "jq tries: env, import, include, input_filename, unbounded loops" {
	jqbox() {
		run bash -c "echo '\"a\"' | '$CR' --timeout 1000 --memory 268435456 --fn jq '$1'"
	}
	jqbox 'env'
	assert_success
	assert_output '{}'
	jqbox 'input_filename'
	assert_output 'null'
	# Sanitize builds allow readlink (ASan's runtime): there the module
	# search gets further and fails to find the module instead.
	jqbox 'import "evil" as e; .'
	if [ "${TI_SANITIZE:-0}" = 0 ]; then
		assert_failure 6
		assert_output --partial "compartment violation: readlink"
	else
		assert_failure 9
	fi
	jqbox 'include "evil"; .'
	assert_failure
	jqbox 'last(repeat(1))'
	assert_failure 10
	assert_output --partial "resource limit: wall time"
	[ "${TI_SANITIZE:-0}" = 0 ] || return 0
	jqbox 'def f: [f]; f'
	assert_failure 10
	assert_output --partial "resource limit: memory"
}

@test "time zone functions work and see UTC, not the host's zone" {
	run bash -c "echo 1425599507 | TZ=Asia/Tokyo '$CR' --fn jq '[todate, strflocaltime(\"%H:%M %Z\"), (todate|fromdate)]'"
	assert_success
	assert_output '["2015-03-05T23:51:47Z","23:51 UTC",1425599507]'
	run env TZ=Asia/Tokyo "$CR" /bin/date -d @0 +%H:%Z
	assert_success
	assert_output "00:UTC"
}

@test "a root caller's compartment runs under an unprivileged host uid" {
	[ "$(id -u)" = 0 ] || skip "not root"
	"$CR" --timeout 3000 "$X/spin" &
	pid=$!
	sleep 0.5
	run ps -eo uid=,args=
	kill "$pid" 2>/dev/null || true
	wait "$pid" || true
	assert_output --regexp "2147483646 +$X/spin"
	refute_output --regexp " 0 +$X/spin"
}

@test "an unprivileged caller gets the same compartment" {
	[ "$(id -u)" = 0 ] || skip "not root (this run is the unprivileged one)"
	command -v setpriv >/dev/null || skip "no setpriv"
	run setpriv --reuid=65534 --regid=65534 --clear-groups "$CR" /bin/echo ok
	assert_success
	assert_output "ok"
	run setpriv --reuid=65534 --regid=65534 --clear-groups "$CR" "$X/tcp" "$TCP"
	violation "socket(AF_INET)"
	run setpriv --reuid=65534 --regid=65534 --clear-groups \
	    "$CR" --timeout 5000 "$X/forkbomb"
	assert_failure 10
	assert_output --partial "resource limit: processes"
}

# --- network ---

@test "exfil: TCP to a loopback listener" {
	box tcp "$TCP"
	violation "socket(AF_INET)"
}

@test "exfil: UDP to a loopback listener" {
	box udp "$UDP"
	violation "socket(AF_INET)"
}

@test "exfil: DNS query to port 53" {
	box dns
	violation "socket(AF_INET)"
	[ "$DNS" = 1 ] || skip "blocked; no listener on port 53 to prove it"
}

@test "exfil: unix socket at a host path" {
	box unix-path "$L/sock"
	violation "socket(AF_UNIX)"
}

@test "exfil: abstract unix socket" {
	box unix-abstract "$ABSTRACT"
	violation "socket(AF_UNIX)"
}

@test "exfil: netlink" {
	box netlink
	violation "socket(AF_NETLINK)"
}

@test "exfil: vsock to the host" {
	box vsock
	violation "socket(AF_VSOCK)"
}

@test "the listeners do record a connection made outside a compartment" {
	run "$X/tcp" "$TCP"
	assert_success
	sleep 0.2
	grep -q TI-EXFIL-SECRET "$L/log"
}

@test "unconfined, the hostile programs do get out (the checks can fail)" {
	run "$X/udp" "$UDP"
	assert_output --partial ESCAPED
	run "$X/unix-path" "$L/sock"
	assert_output --partial ESCAPED
	run "$X/unix-abstract" "$ABSTRACT"
	assert_output --partial ESCAPED
	sleep 0.3
	[ "$(grep -c TI-EXFIL-SECRET "$L/log")" = 3 ]
	run "$X/write-file" "$BATS_TEST_TMPDIR/w"
	assert_output --partial ESCAPED
	[ -s "$BATS_TEST_TMPDIR/w" ]
	echo TI-EXFIL-SECRET >"$BATS_TEST_TMPDIR/leak"
	run "$X/inherited-fd" 5<"$BATS_TEST_TMPDIR/leak"
	assert_output --partial ESCAPED
	run env TI_TOKEN=x "$X/environ"
	assert_output --partial ESCAPED
	run "$X/read-file" /etc/passwd
	assert_output --partial ESCAPED
}

# --- file system ---

@test "exfil: write a file in /tmp" {
	f=/tmp/ti-exfil-$$-$BATS_TEST_NUMBER
	box write-file "$f"
	violation "open($f)"
	[ ! -e "$f" ]
}

@test "exfil: write a file in /dev/shm" {
	f=/dev/shm/ti-exfil-$$
	box write-file "$f"
	violation "open($f)"
	[ ! -e "$f" ]
}

@test "exfil: write a file and a directory in a 0777 directory" {
	d=$BATS_TEST_TMPDIR/open
	mkdir -m 0777 "$d"
	chmod 0777 "$d"
	box write-file "$d/x"
	violation "open($d/x)"
	box mkdir "$d/y"
	violation "mkdir"
	[ -z "$(ls -A "$d")" ]
}

@test "exfil: rename a host file" {
	echo data >"$BATS_TEST_TMPDIR/a"
	box rename "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/b"
	violation "rename"
	[ -e "$BATS_TEST_TMPDIR/a" ] && [ ! -e "$BATS_TEST_TMPDIR/b" ]
}

@test "exfil: write into a host FIFO" {
	mkfifo "$BATS_TEST_TMPDIR/fifo"
	timeout 10 cat "$BATS_TEST_TMPDIR/fifo" >"$BATS_TEST_TMPDIR/got" &
	box fifo "$BATS_TEST_TMPDIR/fifo"
	violation "open($BATS_TEST_TMPDIR/fifo)"
	echo end >"$BATS_TEST_TMPDIR/fifo"
	wait
	[ "$(cat "$BATS_TEST_TMPDIR/got")" = end ]
}

@test "exfil: read /etc/passwd" {
	box read-file /etc/passwd
	violation "open(/etc/passwd)"
	refute_output --partial "root:"
}

@test "exfil: read a 0600 secret file" {
	echo TI-EXFIL-SECRET >"$BATS_TEST_TMPDIR/secret"
	chmod 0600 "$BATS_TEST_TMPDIR/secret"
	box read-file "$BATS_TEST_TMPDIR/secret"
	violation "open($BATS_TEST_TMPDIR/secret)"
}

@test "exfil: flock on an inherited host file" {
	echo data >"$BATS_TEST_TMPDIR/f"
	box flock <"$BATS_TEST_TMPDIR/f"
	violation "flock"
	flock -n -x "$BATS_TEST_TMPDIR/f" true
}

@test "exfil: fcntl record lock on an inherited host file" {
	echo data >"$BATS_TEST_TMPDIR/f"
	box fcntl-lock <"$BATS_TEST_TMPDIR/f"
	violation "fcntl(F_SETLK)"
}

@test "exfil: xattr on an inherited host file" {
	echo data >"$BATS_TEST_TMPDIR/f"
	box xattr <"$BATS_TEST_TMPDIR/f"
	violation "fsetxattr"
	run python3 -c 'import os, sys; print(os.listxattr(sys.argv[1]))' \
	    "$BATS_TEST_TMPDIR/f"
	assert_success
	refute_output --partial user.ti
}

# --- exec ---

@test "exfil: exec /bin/sh" {
	box exec-sh
	violation "execve(/bin/sh)"
}

@test "exfil: memfd_create and fexecve" {
	box memfd-exec
	violation "memfd_create"
}

# --- other processes ---

@test "exfil: ptrace the reaper" {
	box ptrace
	violation "ptrace"
}

@test "exfil: ptrace a host process" {
	box ptrace $$
	violation "ptrace"
}

@test "exfil: /proc of a host process (environ, mem)" {
	box proc-mem $$
	violation "open(/proc/$$/environ)"
}

@test "exfil: process_vm_readv of a host process" {
	box process-vm $$
	violation "process_vm_readv"
}

@test "exfil: signals to every process and to a host pid" {
	sleep 30 &
	pid=$!
	box kill "$pid"
	violation "kill(-1)"
	kill -0 "$pid"
	kill "$pid"
}

@test "exfil: an fd left open by the launcher" {
	echo TI-EXFIL-SECRET >"$BATS_TEST_TMPDIR/leak"
	run "$CR" --leak-fd "$BATS_TEST_TMPDIR/leak" "$X/inherited-fd"
	assert_failure 9
	assert_output --partial "program exited with status 1"
	nothing_out
}

@test "exfil: secrets in the environment" {
	run env TI_TOKEN=TI-EXFIL-SECRET "$CR" "$X/environ"
	assert_failure 9
	nothing_out
}

# --- limits ---

@test "exfil: fork bomb" {
	box forkbomb
	assert_failure 10
	assert_output --partial "resource limit: processes"
}

@test "exfil: memory bomb" {
	box membomb
	assert_failure 10
	assert_output --partial "resource limit: memory"
}

@test "exfil: busy loop ends at the wall-clock timeout" {
	run "$CR" --timeout 300 "$X/spin"
	assert_failure 10
	assert_output --partial "resource limit: wall time"
}

@test "exfil: busy loop ends at the CPU limit" {
	run "$CR" --timeout 10000 --cpu 1 "$X/spin"
	assert_failure 10
	assert_output --partial "resource limit: cpu"
}

# --- kernel interfaces ---

@test "exfil: io_uring" {
	box io-uring
	violation "io_uring_setup"
}

@test "exfil: userfaultfd" {
	box userfaultfd
	violation "userfaultfd"
}

@test "exfil: mount" {
	box mount
	violation "mount"
}

@test "exfil: unshare a user namespace" {
	box unshare
	violation "unshare"
}

@test "exfil: clone into new namespaces" {
	box clone-ns
	violation "clone(new namespaces)"
}

@test "exfil: setns" {
	box setns
	violation "setns"
}

@test "exfil: keyctl (kernel keyring)" {
	box keyctl
	violation "add_key"
}

@test "exfil: bpf" {
	box bpf
	violation "bpf"
}

@test "exfil: perf_event_open" {
	box perf
	violation "perf_event_open"
}

@test "exfil: SysV shared memory" {
	box sysv-shm
	violation "shmget"
}

@test "exfil: SysV message queue" {
	box sysv-msg
	violation "msgget"
}

@test "exfil: POSIX message queue" {
	box posix-mq
	violation "mq_open"
}

@test "exfil: TIOCSTI into the terminal" {
	box tiocsti
	violation "ioctl(TIOCSTI)"
}

@test "exfil: i386 system calls from an x86-64 program" {
	[ "$(uname -m)" = x86_64 ] || skip "x86-64 only"
	box abi32
	violation "system call from another ABI"
}

@test "exfil: x32 system call numbers" {
	[ "$(uname -m)" = x86_64 ] || skip "x86-64 only"
	box x32
	violation "system call from another ABI"
}

# --- functions (in-process programs) try too ---

@test "fn: a socket is a violation" {
	run "$CR" --fn socket
	violation "socket(AF_INET)"
}

@test "fn: opening any file is a violation" {
	run "$CR" --fn open /etc/passwd
	violation "open(/etc/passwd)"
}

@test "fn: exec is a violation" {
	run "$CR" --fn exec
	violation "execve(/bin/sh)"
}

@test "fn: fork is a violation" {
	run "$CR" --profile sealer --fn fork
	violation "fork"
}

@test "fn: a memory bomb hits the memory limit" {
	[ "${TI_SANITIZE:-0}" = 0 ] || skip "sanitize builds set no memory rlimit on functions"
	run "$CR" --memory 134217728 --fn malloc
	assert_failure 10
	assert_output --partial "resource limit: memory"
}

@test "fn: a busy loop hits the wall-clock limit" {
	run "$CR" --timeout 200 --fn spin
	assert_failure 10
	assert_output --partial "resource limit: wall time"
}

@test "writing to an inherited regular file is a file size limit" {
	"$CR" --fn hello >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" ||
	    rc=$?
	[ "${rc:-0}" = 10 ]
	grep -q "resource limit: file size" "$BATS_TEST_TMPDIR/err"
	[ ! -s "$BATS_TEST_TMPDIR/out" ]
	"$CR" --fsize 1000 --fn hello >"$BATS_TEST_TMPDIR/out"
	grep -q hello "$BATS_TEST_TMPDIR/out"
}

# --- usage and errors ---

@test "a program that fails is reported with its status" {
	run "$CR" /bin/false
	assert_failure 9
	assert_output --partial "program exited with status 1"
}

@test "an unknown backend is a usage error; morello is not built here" {
	run "$CR" --backend nope /bin/true
	assert_failure 2
	assert_output --partial "unknown compartment backend"
	run "$CR" --backend morello /bin/true
	assert_failure 2
	assert_output --partial "only built on CheriBSD"
}

@test "without Landlock the compartment refuses to run" {
	# valgrind does not know the Landlock system calls: to the program
	# under it, the kernel has no Landlock.
	command -v valgrind >/dev/null || skip "no valgrind"
	[ "${TI_SANITIZE:-0}" = 0 ] || skip "valgrind cannot run sanitized programs"
	run valgrind -q "$CR" "$X/tcp" "$TCP"
	assert_failure 4
	assert_output --partial "Landlock is not available in this kernel: refusing to run without it"
	nothing_out
}

@test "a missing executable cannot start" {
	run "$CR" "$BATS_TEST_TMPDIR/nonexistent"
	assert_failure 2
	assert_output --partial "nonexistent"
}

@test "a script is refused: only ELF executables run" {
	printf '#!/bin/sh\necho ESCAPED\n' >"$BATS_TEST_TMPDIR/s"
	chmod +x "$BATS_TEST_TMPDIR/s"
	run "$CR" "$BATS_TEST_TMPDIR/s"
	assert_failure 2
	nothing_out
}
