#!/usr/bin/env bash
# tests/fuzz/run.sh: runs the libFuzzer targets of a CP_FUZZ build for a
# given time each and prints their figures (executions, speed, coverage,
# corpus, peak RSS); exits 1 if any target found a crash, a leak, a hang
# or a broken property.
#
#   run.sh BUILD_DIR SECONDS [TARGET...]     (targets: desired settings
#                                             api_decode ledger intents
#                                             saved_plan; all by default)
# Environment: FUZZ_JOBS (targets run at once, default 1), FUZZ_RSS_MB
# (default 2048), FUZZ_TIMEOUT (seconds one input may take, default 25).
#
# New inputs go to BUILD_DIR/fuzz/corpus/TARGET (the committed seeds in
# tests/fuzz/corpus/TARGET are read, never written); a failing input is
# saved as BUILD_DIR/fuzz/artifacts/TARGET-crash-... with the command that
# replays it.
set -u
here=$(cd "$(dirname "$0")" && pwd)
build=${1:?usage: run.sh BUILD_DIR SECONDS [TARGET...]}
seconds=${2:?usage: run.sh BUILD_DIR SECONDS [TARGET...]}
shift 2
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(desired settings api_decode ledger intents saved_plan)
jobs=${FUZZ_JOBS:-1}
rss=${FUZZ_RSS_MB:-2048}
timeout=${FUZZ_TIMEOUT:-25}
build=$(cd "$build" && pwd)
out=$build/fuzz

dict_of() {
	case $1 in
	desired) echo "$here/desired.dict" ;;
	settings) echo "$here/settings.dict" ;;
	*) echo "$here/json.dict" ;;
	esac
}

run_one() {
	local t=$1 bin=$out/fuzz_$1 rc=0
	mkdir -p "$out/corpus/$t" "$out/artifacts" "$out/logs"
	"$bin" "$out/corpus/$t" "$here/corpus/$t" -dict="$(dict_of "$t")" \
	    -max_total_time="$seconds" -rss_limit_mb="$rss" -timeout="$timeout" \
	    -artifact_prefix="$out/artifacts/$t-" -print_final_stats=1 \
	    >"$out/logs/$t.log" 2>&1 || rc=$?
	echo "$rc" >"$out/logs/$t.rc"
}

for t in "${targets[@]}"; do
	[ -x "$out/fuzz_$t" ] || { echo "run.sh: no target $out/fuzz_$t (configure with -DCP_FUZZ=ON and build fuzz_all)" >&2; exit 2; }
done

echo "fuzzing ${targets[*]} for ${seconds}s each, $jobs at a time"
running=0
for t in "${targets[@]}"; do
	if [ "$running" -ge "$jobs" ]; then
		wait -n
		running=$((running - 1))
	fi
	run_one "$t" &
	running=$((running + 1))
done
wait

stat() { sed -n "s/^stat::$2: *//p" "$out/logs/$1.log" | tail -n 1; }
failed=0
printf '%-11s %6s %12s %9s %6s %6s %7s %7s  %s\n' target status executions "exec/s" cov ft corpus "rss MB" notes
for t in "${targets[@]}"; do
	rc=$(cat "$out/logs/$t.rc")
	log=$out/logs/$t.log
	last=$(grep -E '^#[0-9]+' "$log" | tail -n 1)
	cov=$(echo "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
	ft=$(echo "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
	corp=$(echo "$last" | sed -n 's/.* corp: \([0-9]*\).*/\1/p')
	status=ok notes=
	if [ "$rc" != 0 ]; then
		status=FAIL
		failed=1
		notes=$(grep -m1 -E 'ERROR: |runtime error|property failed|SUMMARY: ' "$log" | cut -c1-100)
	fi
	printf '%-11s %6s %12s %9s %6s %6s %7s %7s  %s\n' "$t" "$status" \
	    "$(stat "$t" number_of_executed_units)" "$(stat "$t" average_exec_per_sec)" \
	    "${cov:-?}" "${ft:-?}" "${corp:-?}" "$(stat "$t" peak_rss_mb)" "$notes"
done
if [ "$failed" -ne 0 ]; then
	for t in "${targets[@]}"; do
		[ "$(cat "$out/logs/$t.rc")" = 0 ] && continue
		echo "---- $t (log $out/logs/$t.log)"
		grep -E -A25 'ERROR: |runtime error|property failed' "$out/logs/$t.log" | head -n 40
		a=$(grep -o "Test unit written to [^ ]*" "$out/logs/$t.log" | tail -n 1 | sed 's/Test unit written to //')
		[ -n "$a" ] && echo "replay: $out/fuzz_$t $a"
	done
	exit 1
fi
