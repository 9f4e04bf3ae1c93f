#!/bin/sh
# Start-up cost of a compartment: /bin/true run inside the linux
# compartment beside bubblewrap doing the same (`bwrap --unshare-all
# --ro-bind / / true`), in the same hyperfine run. Prints a markdown table
# fragment with medians and the ratio. Uses `ti-run --exec` when ti-run
# can run /bin/true with plaintext in and out, else the test driver that
# calls the same library (build/test/helpers/compartment-run).
# RUNS (default 50) sets the number of timed runs per command.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
RUNS=${RUNS:-50}
for t in hyperfine bwrap jq; do
	command -v "$t" >/dev/null || { echo "startup.sh: needs $t" >&2; exit 4; }
done
tirun=$top/$BUILD/bin/ti-run
driver=$top/$BUILD/test/helpers/compartment-run
if [ -x "$tirun" ] &&
    "$tirun" --plain-in --plain-out --exec /bin/true </dev/null >/dev/null 2>&1; then
	ti="$tirun --plain-in --plain-out --exec /bin/true"
	label="ti-run --exec /bin/true"
elif [ -x "$driver" ]; then
	ti="$driver /bin/true"
	label="compartment-run /bin/true (libti compartment)"
else
	echo "startup.sh: build first (make check builds $driver)" >&2
	exit 4
fi
bw="bwrap --unshare-all --ro-bind / / true"
json=$(mktemp)
trap 'rm -f "$json"' EXIT
hyperfine -N -w 10 -r "$RUNS" --export-json "$json" \
    "$ti" "$bw" </dev/null >/dev/null 2>&1
ms() { jq -r --argjson i "$1" '.results[$i].median * 1000 | . * 100 | round / 100' "$json"; }
a=$(ms 0) b=$(ms 1)
ratio=$(jq -rn --argjson a "$a" --argjson b "$b" '$a / $b | . * 100 | round / 100')
echo "| start-up (median of $RUNS) | ms | vs bwrap |"
echo "|---|---:|---:|"
echo "| $label | $a | ${ratio}x |"
echo "| bwrap --unshare-all --ro-bind / / true | $b | 1.00x |"
echo "| load average while measuring: $(cut -d' ' -f1-3 /proc/loadavg) | | |"
