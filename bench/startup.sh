#!/bin/sh
# Start-up cost of a compartment: /bin/true run inside the linux
# compartment beside bubblewrap doing the same (`bwrap --unshare-all
# --ro-bind / / true`), in the same hyperfine run. Rows: the library
# alone (build/test/helpers/compartment-run, one compartment), and
# `ti-run --plain-in --plain-out --exec /bin/true` when ti-run is built
# (three compartments: opener, program, sealer). Prints a markdown table
# fragment with medians and ratios to bwrap. RUNS (default 50) sets the
# number of timed runs per command.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
RUNS=${RUNS:-50}
for t in hyperfine bwrap jq; do
	command -v "$t" >/dev/null || { echo "startup.sh: needs $t" >&2; exit 4; }
done
tirun=$top/$BUILD/bin/ti-run
driver=$top/$BUILD/test/helpers/compartment-run
bw="bwrap --unshare-all --ro-bind / / true"
set -- "$bw"
labels="bwrap --unshare-all --ro-bind / / true"
if [ -x "$driver" ]; then
	set -- "$@" "$driver /bin/true"
	labels="$labels|libti compartment: /bin/true"
fi
if [ -x "$tirun" ] && "$tirun" --plain-in --plain-out --exec /bin/true \
    </dev/null >/dev/null 2>&1; then
	set -- "$@" "$tirun --plain-in --plain-out --exec /bin/true"
	labels="$labels|ti-run --plain-in --plain-out --exec /bin/true"
fi
if [ $# -eq 1 ]; then
	echo "startup.sh: build first (make check builds $driver)" >&2
	exit 4
fi
json=$(mktemp)
trap 'rm -f "$json"' EXIT
hyperfine -N -w 10 -r "$RUNS" --export-json "$json" "$@" \
    </dev/null >/dev/null 2>&1
echo "| start-up (median of $RUNS runs) | ms | vs bwrap |"
echo "|---|---:|---:|"
echo "$labels" | tr '|' '\n' | {
	i=0
	while IFS= read -r label; do
		jq -r --argjson i "$i" --arg l "$label" '
		    (.results[0].median) as $b | .results[$i].median as $m |
		    "| \($l) | \($m * 100000 | round / 100) | \($m / $b * 100 | round / 100)x |"' "$json"
		i=$((i + 1))
	done
}
echo "| load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores | | |"
