#!/bin/sh
# Install the Debian packages ti needs that are missing: as root with
# apt-get, otherwise print the exact command to run.
set -eu
PKGS="gcc make pkg-config libssl-dev libjq-dev libonig-dev
libcurl4-openssl-dev libseccomp-dev libmicrohttpd-dev libsqlite3-dev
libcbor-dev bats bats-assert bats-support age jq scdoc bubblewrap curl
sqlite3 python3 python3-jwt openssl procps util-linux iproute2 valgrind
clang libclang-rt-14-dev zlib1g-dev gnuplot-nox time"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null |
	    grep -qx installed || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -eq 0 ]; then
	echo "deps: installing:$missing" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q >/dev/null
	# shellcheck disable=SC2086
	apt-get install -y -q --no-install-recommends $missing >/dev/null
else
	echo "deps: missing packages; run as root:" >&2
	echo "apt-get install -y$missing" >&2
	exit 1
fi
