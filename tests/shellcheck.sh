#!/usr/bin/env bash
# Runs shellcheck (warnings and errors) over every shell script of
# the tests, scripts/ and bench/; any finding fails. The info-level notes
# are left out on purpose: SC2317 takes the functions a script calls through
# wait_for or a trap for dead code, SC2016 the jq programs and wait_for
# conditions written in single quotes so that they expand later.
set -u

src=${CP_SOURCE_DIR:-$(cd "$(dirname "$0")/.." && pwd)}
if ! command -v shellcheck >/dev/null 2>&1; then
	echo "shellcheck: SKIPPED: shellcheck is not installed (scripts/deps.sh installs it)"
	exit 77
fi
cd "$src" || exit 1
files=(tests/*.sh tests/*/*.sh scripts/*.sh bench/*.sh)
if ! shellcheck -S warning -x "${files[@]}"; then
	echo "shellcheck: FAILED"
	exit 1
fi
echo "shellcheck: ${#files[@]} scripts clean"
