#!/usr/bin/env bash
# plan and apply interrupted by SIGTERM or SIGINT (what a CI system sends
# when it cancels a job), against a slow simulator: nothing new starts, the
# creates in flight finish and every project the simulator made is in the
# ledger and the audit trail; the exit code is 1 and a line says it was
# interrupted (issue 18, class 4).
set -eu
. "$CP_SOURCE_DIR/tests/e2e/lib.sh"
. "$CP_SOURCE_DIR/tests/e2e/cp.sh"
sim_start --seed 13 --latency 700

for i in $(seq 1 24); do
	printf -- '- name: job-%02d\n' "$i"
done | { echo 'projects:'; cat; } >"$CP_DESIRED/jobs.yaml"

creates() { sim_stats | jq .creates.project; }

# interrupted SIGNAL CMD ARGS...: runs CMD in the background, sends SIGNAL
# once the simulator has made a project more (apply: the creates are under
# way) or after 0.3 s (plan), and expects exit 1 within 15 s (the grace
# period is 10 s; the simulator answers in 0.7 s).
interrupted() {
	local sig=$1 pid rc=0 i base
	shift
	base=$(creates)
	CONVEX_ACCESS_TOKEN=$SIM_TOKEN "$CP_BIN" -c "$CP_WORK/config.yaml" \
	    --api-url "$SIM_URL" --team 1 --desired "$CP_DESIRED" \
	    --state-dir "$CP_STATE" --concurrency 3 "$@" \
	    >"$CP_WORK/out" 2>"$CP_WORK/err" &
	pid=$!
	if [ "$1" = apply ]; then
		for i in $(seq 1 200); do
			[ "$(creates)" -gt "$base" ] && break
			sleep 0.05
		done
		[ "$(creates)" -gt "$base" ] || e2e_fail "no create began within 10 s"
	else
		sleep 0.3
	fi
	kill "-$sig" "$pid"
	for i in $(seq 1 300); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	kill -0 "$pid" 2>/dev/null && e2e_fail "$* still runs 15 s after $sig"
	wait "$pid" || rc=$?
	CP_OUT=$(cat "$CP_WORK/out")
	CP_ERR=$(cat "$CP_WORK/err")
	if [ "$rc" != 1 ]; then
		echo "$CP_ERR" >&2
		e2e_fail "$* after $sig: exit $rc, want 1"
	fi
	echo "$CP_ERR" | grep -q "interrupted by SIG$sig" ||
		e2e_fail "$* after $sig: no 'interrupted' line: $CP_ERR"
}

# plan: stops at once, nothing to record.
interrupted TERM plan
interrupted INT plan --json
echo "$CP_OUT" | jq -e '.interrupted == "SIGINT"' >/dev/null || e2e_fail "plan --json: no interrupted field"
assert_eq "$(creates)" 0 "creates by plan"

# apply: the creates in flight finish and are recorded.
check_recorded() {
	local ids id
	ids=$(sim_state | jq -r '.projects[].id')
	[ -n "$ids" ] || e2e_fail "nothing was created before the signal"
	for id in $ids; do
		jq -e --argjson id "$id" '.projects[] | select(.id == $id and .created)' \
		    "$CP_STATE/ledger.json" >/dev/null ||
			e2e_fail "project $id was created but is not in the ledger"
		grep -q "\"op\":\"create\",\"kind\":\"project\".*\"projectId\":$id,.*\"result\":\"ok\"" \
		    "$CP_STATE/actions.jsonl" ||
			e2e_fail "project $id was created but is not in the audit trail"
	done
}
interrupted TERM apply
check_recorded
made=$(live_projects)
[ "$made" -lt 24 ] || e2e_fail "all 24 were created: the signal came too late to test anything"
echo "ok: SIGTERM left $made of 24 created, all recorded"

interrupted INT apply --json
check_recorded
echo "$CP_OUT" | jq -e '.interrupted == "SIGINT" and (.summary.skipped > 0)' >/dev/null ||
	e2e_fail "apply --json: no interrupted field or nothing skipped: $CP_OUT"

# What was left is done by the next apply, once, with no duplicate.
cp_expect 0 apply --team 1
assert_eq "$(live_projects)" 24 "projects after the last apply"
assert_eq "$(duplicate_names)" 0 "duplicates"
echo "ok: interrupted apply"
