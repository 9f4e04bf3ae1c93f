#!/usr/bin/env bash
# Run bats files with every ti tool under valgrind memcheck: wrappers on
# PATH run the real binary with --error-exitcode=99, so a leak or memory
# error fails the test that caused it. Usage: valgrind-bats.sh FILE.bats...
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 4
make -s all || exit 4
wrap=$(mktemp -d)
trap 'rm -rf "$wrap"' EXIT
for b in build/bin/*; do
	cat >"$wrap/$(basename "$b")" <<EOW
#!/bin/sh
exec valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --suppressions=$top/test/valgrind.supp --trace-children=no "$top/$b" "\$@"
EOW
	chmod +x "$wrap/$(basename "$b")"
done
export TI_WRAP=$wrap TI_VALGRIND=1
BUILD=build scripts/runtests.sh "$@"
