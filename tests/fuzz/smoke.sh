#!/usr/bin/env bash
# tests/fuzz/smoke.sh: ctest's fuzz_smoke: every libFuzzer target for 10
# seconds (FUZZ_SMOKE_SECONDS). A gcc test build has no fuzz targets, so
# they are built with clang in CP_BUILD_DIR/fuzz-clang first (kept between
# runs, so later builds are incremental).
set -eu
: "${CP_SOURCE_DIR:?}" "${CP_BUILD_DIR:?}"
seconds=${FUZZ_SMOKE_SECONDS:-10}
if [ -x "$CP_BUILD_DIR/fuzz/fuzz_desired" ]; then
	fb=$CP_BUILD_DIR          # this is a CP_FUZZ build already
else
	fb=$CP_BUILD_DIR/fuzz-clang
	cc=${CP_CLANG:-clang}
	log=$CP_BUILD_DIR/fuzz-clang.log
	if ! { cmake -S "$CP_SOURCE_DIR" -B "$fb" -DCMAKE_C_COMPILER="$cc" \
	    -DCMAKE_BUILD_TYPE=Debug -DCP_FUZZ=ON &&
	    cmake --build "$fb" --target fuzz_all -j 2; } >"$log" 2>&1; then
		tail -n 40 "$log" >&2
		echo "FAIL: could not build the fuzz targets with $cc (log: $log)" >&2
		exit 1
	fi
fi
exec bash "$CP_SOURCE_DIR/tests/fuzz/run.sh" "$fb" "$seconds"
