#!/usr/bin/env bash
# launcher.sh: one run of the store/taxi integration, as an operator runs
# it from cron or a systemd timer:
#
#   ti-fetch (the Store's customers, sealed to the process)
#     | ti-run (eligible.jq inside a compartment; output sealed to the Taxi)
#     | ti-post (delivered to the Taxi, spooled until acknowledged)
#
# Configuration comes from the environment, or from KEY=VALUE lines in the
# file given as the only argument (systemd's EnvironmentFile format; the
# file is read, never executed):
#   TI_MANIFEST      the process's manifest (required)
#   STORE_URL        the Store resource(s) to read, space-separated (required)
#   LAUNCHER_SLURP   further named inputs, "NAME=URL ...": each is fetched
#                    (sealed) and given to ti-run as --slurpfile NAME
#   TAXI_URL         where bookings go (required)
#   TI_HOME          the platform directory (ti-attest init)
#   LAUNCHER_LOCK    lock file (default $TI_HOME/launcher.lock)
#   LAUNCHER_WAIT    seconds to wait for a previous run (default 0: skip)
#   LAUNCHER_LOG     append log lines here (default: stderr)
#   LAUNCHER_SPOOL   ti-post's spool directory (default: ti-post's own)
#   LAUNCHER_TEE     keep copies of the (sealed) streams between the tools
#                    in this directory, for audit
#   FETCH_OPTS, RUN_OPTS, POST_OPTS   further options for each tool
#
# Logs hold times, exit codes and the tools' one-line diagnostics, which
# never quote data. Exit status: 0 when every booking was delivered; 1 when
# a previous run still holds the lock; 2 for a configuration error;
# otherwise the status of the first tool that failed (ti-fetch, then
# ti-run, then ti-post; see their man pages: 8 means some bookings wait in
# the spool for the next run).
set -u -o pipefail
umask 077

log() {
	printf '%s launcher[%d]: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" $$ \
	    "$*" >&2
}

usage() { sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
if [ "${1:-}" = -h ] || [ "${1:-}" = --help ]; then
	usage
	exit 0
fi
if [ $# -gt 1 ]; then
	usage >&2
	exit 2
fi
if [ $# -eq 1 ]; then
	[ -r "$1" ] || { log "cannot read configuration $1"; exit 2; }
	while IFS= read -r line || [ -n "$line" ]; do
		case $line in ''|'#'*) continue ;; esac
		key=${line%%=*} val=${line#*=}
		case $key in
		TI_MANIFEST|STORE_URL|TAXI_URL|TI_HOME|LAUNCHER_LOCK|LAUNCHER_SLURP|\
		LAUNCHER_WAIT|LAUNCHER_LOG|LAUNCHER_SPOOL|LAUNCHER_TEE|\
		FETCH_OPTS|RUN_OPTS|POST_OPTS|PATH)
			val=${val#\"} val=${val%\"}
			export "$key=$val" ;;
		*) log "$1: unknown setting $key"; exit 2 ;;
		esac
	done <"$1"
fi
for v in TI_MANIFEST STORE_URL TAXI_URL; do
	[ -n "${!v:-}" ] || { log "$v is not set"; exit 2; }
done
[ -r "$TI_MANIFEST" ] || { log "cannot read $TI_MANIFEST"; exit 2; }
# A manifest names its program by the path it was measured with: run
# from the manifest's directory so that relative paths resolve.
mdir=$(cd "$(dirname "$TI_MANIFEST")" && pwd) || exit 2
TI_MANIFEST=$mdir/$(basename "$TI_MANIFEST")
for v in LAUNCHER_LOCK LAUNCHER_LOG LAUNCHER_SPOOL LAUNCHER_TEE TI_HOME; do
	case ${!v:-} in ''|/*) ;; *) export "$v=$PWD/${!v}" ;; esac
done
home=${TI_HOME:-${HOME:-/nonexistent}/.local/share/ti}
if [ -n "${LAUNCHER_LOG:-}" ]; then
	exec 2>>"$LAUNCHER_LOG" || exit 4
fi

lock=${LAUNCHER_LOCK:-$home/launcher.lock}
exec 9>>"$lock" || { log "cannot open lock $lock"; exit 4; }
if ! flock -w "${LAUNCHER_WAIT:-0}" 9; then
	log "skipped: a previous run still holds $lock"
	exit 1
fi

post_opts=()
[ -n "${LAUNCHER_SPOOL:-}" ] && post_opts+=(--spool "$LAUNCHER_SPOOL")
read -r -a fetch_extra <<<"${FETCH_OPTS:-}"
read -r -a run_extra <<<"${RUN_OPTS:-}"
read -r -a post_extra <<<"${POST_OPTS:-}"
read -r -a urls <<<"$STORE_URL"

# cap NAME: pass a stream on, keeping a copy when LAUNCHER_TEE is set.
cap() {
	if [ -n "${LAUNCHER_TEE:-}" ]; then
		tee "$LAUNCHER_TEE/$1"
	else
		cat
	fi
}

cd "$mdir" || exit 4
start=$(date +%s)
log "start: $(basename "$TI_MANIFEST"), ${#urls[@]} source(s)"

# Named inputs are fetched first, into a private directory; they are as
# sealed there as on the wire.
slurp_opts=()
if [ -n "${LAUNCHER_SLURP:-}" ]; then
	sdir=$(mktemp -d "${TMPDIR:-/tmp}/ti-launcher.XXXXXX") || exit 4
	trap 'rm -rf "$sdir"' EXIT
	for kv in $LAUNCHER_SLURP; do
		name=${kv%%=*} url=${kv#*=}
		rc=0
		ti-fetch --manifest "$TI_MANIFEST" "${fetch_extra[@]}" \
		    -o "$sdir/$name" "$url" || rc=$?
		if [ "$rc" -ne 0 ]; then
			log "done: fetch($name)=$rc exit=$rc"
			exit "$rc"
		fi
		[ -n "${LAUNCHER_TEE:-}" ] && cp "$sdir/$name" "$LAUNCHER_TEE/$name.ndjson"
		slurp_opts+=(--slurpfile "$name" "$sdir/$name")
	done
fi
# One ti-fetch per source, so that ti-run works on the first while the
# next is fetched (a ti-fetch of several URLs writes nothing until it has
# them all). ti-run releases nothing unless all of its input authenticates:
# when a fetch fails, a line that is no message makes sure it fails too.
fetch_all() {
	local u rc
	for u in "${urls[@]}"; do
		rc=0
		ti-fetch --manifest "$TI_MANIFEST" "${fetch_extra[@]}" "$u" ||
		    rc=$?
		if [ "$rc" -ne 0 ]; then
			echo "fetch failed"
			return "$rc"
		fi
	done
}

fetch_all |
    cap fetch.ndjson |
    ti-run --manifest "$TI_MANIFEST" "${slurp_opts[@]}" "${run_extra[@]}" |
    cap run.ndjson |
    ti-post --manifest "$TI_MANIFEST" "${post_opts[@]}" "${post_extra[@]}" \
        "$TAXI_URL"
st=("${PIPESTATUS[@]}")
rc=0
for i in 0 2 4; do
	if [ "${st[$i]}" -ne 0 ]; then
		rc=${st[$i]}
		break
	fi
done
log "done: fetch=${st[0]} run=${st[2]} post=${st[4]} exit=$rc" \
    "seconds=$(($(date +%s) - start))"
exit "$rc"
