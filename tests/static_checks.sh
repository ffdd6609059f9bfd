#!/usr/bin/env bash
# static_checks.sh: cppcheck and clang-tidy (.clang-tidy at the root) over the
# daemon, the simulator and the test support code; fails, printing what they
# report, on any finding. Needs CP_BUILD_DIR with a compile_commands.json.
set -u

src=${CP_SOURCE_DIR:-$(cd "$(dirname "$0")/.." && pwd)}
build=${CP_BUILD_DIR:-}
jobs=$(nproc 2>/dev/null || echo 2)

# A machine without the tools reports the test as skipped (exit 77, ctest's
# SKIP_RETURN_CODE), never as passed. scripts/deps.sh installs both, so
# `make test` and CI always have them.
for tool in cppcheck clang-tidy; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "static_checks: SKIPPED: $tool is not installed" \
		    "(scripts/deps.sh installs it)"
		exit 77
	fi
done

if [ -z "$build" ] || [ ! -f "$build/compile_commands.json" ]; then
	echo "static_checks: no compile_commands.json in CP_BUILD_DIR" \
	    "('${build}'); configure it with cmake first" >&2
	exit 1
fi

cd "$src" || exit 1
# Every area folder of daemon/ is an include directory (daemon/CMakeLists.txt).
incs=()
for d in daemon/*/ daemon/api/internal/; do
	incs+=(-I "${d%/}")
done
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
start=$SECONDS
fail=0

# cppcheck: quiet means any output at all is a finding.
if ! cppcheck --quiet --error-exitcode=1 -j "$jobs" --inline-suppr \
    --enable=warning,portability,performance --std=c11 \
    -D_GNU_SOURCE -DCP_VERSION='"x"' \
    --include=/usr/include/x86_64-linux-gnu/sys/queue.h \
    --suppress=missingIncludeSystem "${incs[@]}" \
    daemon sim tests/support >"$out/cppcheck" 2>&1 ||
    [ -s "$out/cppcheck" ]; then
	echo "static_checks: cppcheck reports:"
	cat "$out/cppcheck"
	fail=1
fi

# clang-tidy: one file per process, as many processes as CPUs. Every
# finding is an error (WarningsAsErrors), so any failed run fails the test;
# a warning line without a failed run (a changed config) fails it too.
files=(daemon/*.c daemon/*/*.c sim/*.c)
printf '%s\0' "${files[@]}" |
    xargs -0 -P "$jobs" -n 1 clang-tidy -p "$build" --quiet \
    >"$out/tidy" 2>"$out/tidy.err"
tidy_rc=$?
if [ "$tidy_rc" -ne 0 ] ||
    grep -Eq ': (warning|error): ' "$out/tidy" "$out/tidy.err"; then
	echo "static_checks: clang-tidy reports (exit $tidy_rc):"
	cat "$out/tidy"
	# "N warnings generated." says nothing the lines above do not.
	grep -Ev '^[0-9]+ warnings? (and [0-9]+ errors? )?generated\.$' \
	    "$out/tidy.err"
	fail=1
fi

echo "static_checks: cppcheck and clang-tidy over ${#files[@]} files," \
    "$((SECONDS - start)) s"
if [ "$fail" -ne 0 ]; then
	echo "static_checks: FAILED"
	exit 1
fi
echo "static_checks: clean"
