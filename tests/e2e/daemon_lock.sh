#!/usr/bin/env bash
# One daemon per state_dir: a second `run` on the same --state-dir exits 1
# at once, naming the first one's pid, and leaves the first one alone; once
# the first has stopped, the lock is free again.
set -eu
. "$CP_SOURCE_DIR/tests/e2e/daemon_lib.sh"
dm_sim_start --seed 7

desired shop.yaml <<'YAML'
projects:
  - name: shop
YAML
dm_start --interval 1h
first=$DM_PID
first_url=$DM_URL
wait_for 30 "the first reconcile" '[ "$(dm_status .last_reconcile.result)" = ok ]'
assert_eq "$(tr -d '\n' <"$CP_STATE/lock")" "$first" "pid in the lock file"

# The second instance, same state folder, its own log.
rc=0
CONVEX_ACCESS_TOKEN=$SIM_TOKEN timeout 30 "$CP_BIN" -c "$CP_WORK/config.yaml" \
    --api-url "$SIM_URL" --desired "$CP_DESIRED" --state-dir "$CP_STATE" \
    --listen 127.0.0.1:0 run >"$CP_WORK/second.out" 2>"$CP_WORK/second.err" || rc=$?
assert_eq "$rc" 1 "exit code of the second instance"
grep -q "another convex-provisioner (pid $first) holds $CP_STATE/lock" "$CP_WORK/second.err" ||
    e2e_fail "the second instance does not name pid $first: $(cat "$CP_WORK/second.err")"
grep -q -e 'Sanitizer' -e 'runtime error:' "$CP_WORK/second.err" &&
    e2e_fail "sanitizer report: $(cat "$CP_WORK/second.err")"
# It did nothing: no endpoint, no API request, the first one still serves.
grep -q 'status endpoint on' "$CP_WORK/second.err" && e2e_fail "the second instance listened"
assert_eq "$(sim_stats | jq '.requests["GET /token_details"]["200"]')" 1 "token_details requests"
kill -0 "$first" || e2e_fail "the first instance died"
assert_eq "$(curl -sS --max-time 20 -o /dev/null -w '%{http_code}' "$first_url/healthz")" 200 "first /healthz"
assert_eq "$(tr -d '\n' <"$CP_STATE/lock")" "$first" "pid in the lock file after the refusal"

# After a clean stop the lock is free: a new instance starts and reconciles.
dm_stop 15
dm_start --interval 1h
[ "$DM_PID" != "$first" ] || e2e_fail "same pid"
wait_for 30 "the new instance's reconcile" '[ "$(dm_status .last_reconcile.result)" = ok ]'
assert_eq "$(tr -d '\n' <"$CP_STATE/lock")" "$DM_PID" "pid of the new holder"
dm_stop 15
echo "ok"
