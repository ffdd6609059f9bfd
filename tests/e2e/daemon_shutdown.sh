#!/usr/bin/env bash
# SIGTERM during a slow reconcile: nothing new starts, the creates in flight
# finish, the ledger names every project the daemon created, exit 0 within
# 12 s. With requests that never answer, the 10 s grace cancels them and the
# exit still comes within 12 s.
set -eu
. "$CP_SOURCE_DIR/tests/e2e/daemon_lib.sh"
# Every /v1 answer waits 3 s.
dm_sim_start --seed 6 --latency 3000

{
	echo "projects:"
	for i in $(seq 1 10); do
		printf '  - name: app-%02d\n    deployments:\n      - reference: staging\n        type: dev\n' "$i"
	done
} | desired apps.yaml

# creates_in_flight: the listings are done and requests are being served,
# so these are project creates: 4 of the 10 (concurrency 4), the other 6
# wait in the executor.
creates_in_flight() {
	local s
	s=$(sim_stats)
	[ "$(echo "$s" | jq '.requests["GET /teams/{team}/projects"]["200"] // 0')" -ge 1 ] &&
	    [ "$(echo "$s" | jq '.in_flight')" -ge 2 ]
}

dm_start --interval 1h --concurrency 4
wait_for 30 "creates in flight" creates_in_flight
start=$(now_ms)
kill -TERM "$DM_PID"
dm_wait_exit 12
echo "exit $DM_RC $(($(now_ms) - start)) ms after SIGTERM"
assert_eq "$DM_RC" 0 "exit code after SIGTERM"
dm_log_has 'SIGTERM: stopping' || e2e_fail "no stop line"

# The creates in flight were let finish; nothing started after SIGTERM:
# the 6 creates over the limit were never sent, and the deployments wait
# for their project, so none of them was sent either.
created=$(sim_stats | jq '.creates.project')
assert_eq "$created" 4 "project creates let finish"
dm_log_has 'not started: shutting down' || e2e_fail "no skipped action in the log"
assert_eq "$(sim_stats | jq '.creates.deployment')" 0 "deployment creates after SIGTERM"
assert_eq "$(sim_stats | jq '.in_flight')" 0 "requests in flight after the exit"

# The ledger parses and names every project that exists (they are all ours).
ledger=$CP_STATE/ledger.json
[ -f "$ledger" ] || e2e_fail "no ledger"
jq -e . "$ledger" >/dev/null || e2e_fail "the ledger is not JSON: $(cat "$ledger")"
live=$(sim_state | jq -c '[.projects[] | {id, name}] | sort_by(.id)')
mine=$(jq -c '[.projects[] | select(.created) | {id, name}] | sort_by(.id)' "$ledger")
assert_eq "$mine" "$live" "projects in the ledger"
assert_eq "$(echo "$live" | jq length)" "$created" "live projects"
# The audit trail has one ok line per create.
assert_eq "$(jq -s '[.[] | select(.op == "create" and .result == "ok")] | length' "$CP_STATE/actions.jsonl")" "$created" "audit lines"

# A second start finishes the job from the ledger and the observation: no
# duplicate, everything created.
curl -sS --max-time 20 -X POST --data-binary '{"latencyMs":0}' "$SIM_BASE/_sim/config" >/dev/null
dm_start --interval 1h
wait_for 30 "ten projects" '[ "$(live_projects)" = 10 ] && [ "$(live_deployments)" = 10 ]'
assert_eq "$(duplicate_names)" 0 "duplicate projects"

# Requests that never answer (a 60 s stall): the grace period of 10 s
# cancels them, and the exit is still clean and within 12 s.
wait_for 20 "the reconcile to finish" '[ "$(dm_status .reconcile.running)" = false ]'
curl -sS --max-time 20 -X POST --data-binary '{"stallRate":1,"stallMs":60000}' "$SIM_BASE/_sim/config" >/dev/null
stalled() { [ "$(sim_stats | jq '.in_flight')" -ge 1 ]; }
curl -sS --max-time 20 -X POST "$DM_URL/reconcile" >/dev/null
wait_for 20 "a stalled request" stalled
start=$(now_ms)
kill -TERM "$DM_PID"
dm_wait_exit 12
echo "exit $DM_RC $(($(now_ms) - start)) ms after SIGTERM with a stalled request"
assert_eq "$DM_RC" 0 "exit code after SIGTERM with a stalled request"
dm_log_has 'still in flight after 10 s: cancelling' || e2e_fail "no cancel line"
jq -e . "$ledger" >/dev/null || e2e_fail "the ledger is not JSON after a cancel"
assert_eq "$(jq '[.projects[] | select(.created)] | length' "$ledger")" 10 "ledger projects"
echo "ok"
