#!/usr/bin/env bash
# `run` with its stderr on a pipe whose reader goes away (`2>&1 | logger`
# after logger exits, a log driver restarting): SIGPIPE is ignored and a
# failed log write is dropped, so the daemon goes on reconciling, answers
# its endpoint and stops cleanly (issue 18, class 5). The same for apply:
# its result still goes out and its exit code is not a signal's.
set -eu
. "$CP_SOURCE_DIR/tests/e2e/daemon_lib.sh"
dm_sim_start --seed 11

desired shop.yaml <<'YAML'
projects:
  - name: shop
YAML

# The reader takes lines until the one with the status port, then exits.
fifo=$CP_WORK/stderr.fifo
mkfifo "$fifo"
: >"$DM_ERR"
sed -n '/status endpoint on/{p;q}' <"$fifo" >"$CP_WORK/head.txt" &
reader=$!
env CONVEX_ACCESS_TOKEN="$SIM_TOKEN" "$CP_BIN" -c "$CP_WORK/config.yaml" \
    --api-url "$SIM_URL" --desired "$CP_DESIRED" --state-dir "$CP_STATE" \
    --listen 127.0.0.1:0 --interval 1s --log-level debug run >"$DM_OUT" 2>"$fifo" &
DM_PID=$!
wait "$reader"
DM_PORT=$(sed -n 's/.*(port \([0-9][0-9]*\)).*/\1/p' "$CP_WORK/head.txt")
[ -n "$DM_PORT" ] || e2e_fail "no port line: $(cat "$CP_WORK/head.txt")"
DM_URL=http://127.0.0.1:$DM_PORT

# Nobody reads stderr any more; every reconcile logs (debug). Five more
# reconciles, and a change picked up, prove the daemon lives on.
wait_for 30 "a reconcile" '[ "$(dm_reconciles 2>/dev/null || echo 0)" -ge 1 ]'
n=$(dm_reconciles)
dm_wait_reconciles $((n + 5)) 30
desired web.yaml <<'YAML'
projects:
  - name: web
YAML
wait_for 30 "the project web" '[ "$(live_projects_named web)" = 1 ]'
kill -0 "$DM_PID" || e2e_fail "the daemon died"
kill -TERM "$DM_PID"
dm_wait_exit 15
assert_eq "$DM_RC" 0 "exit code of run after SIGTERM"

# apply with both outputs on pipes whose readers have gone.
desired api.yaml <<'YAML'
projects:
  - name: api
YAML
(
	sleep 0.5       # `true` is gone before apply writes anything
	rc=0
	CONVEX_ACCESS_TOKEN="$SIM_TOKEN" "$CP_BIN" -c "$CP_WORK/config.yaml" \
	    --api-url "$SIM_URL" --desired "$CP_DESIRED" --state-dir "$CP_STATE" \
	    --log-level debug apply 2>&1 || rc=$?
	echo "rc=$rc" >"$CP_WORK/apply.rc"
) | true
grep -q 'rc=' "$CP_WORK/apply.rc" || e2e_fail "no exit code from apply"
rc=$(sed -n 's/rc=//p' "$CP_WORK/apply.rc")
# 1: it could not write its result, and says so (to nobody); never 141.
assert_eq "$rc" 1 "exit code of apply with its outputs on a closed pipe"
assert_eq "$(live_projects_named api)" 1 "apply created api"
echo "ok: SIGPIPE"
