#!/usr/bin/env bash
# The token never shows: plan, apply and the daemon run at debug level with
# a distinctive token (from the environment, a token file and a systemd
# credential), through creates, failing requests (5xx, and 401 with a wrong
# token that contains the canary), SIGHUPs and a stop; then every byte they
# wrote (stdout, stderr, the state folder, /status, /metrics, the notify
# datagrams) is searched for it, and so is the daemon's command line.
set -eu
. "$CP_SOURCE_DIR/tests/e2e/daemon_lib.sh"
CANARY=leak-canary-7f3a9c
dm_sim_start --seed 10 --token "$CANARY"
assert_eq "$SIM_TOKEN" "$CANARY" "simulator token"
set_sim() {
	curl -sS --max-time 20 -X POST --data-binary "$1" "$SIM_BASE/_sim/config" >/dev/null
}

mkdir -m 700 "$CP_WORK/secret" "$CP_WORK/creds"
(umask 077 && printf '%s\n' "$CANARY" >"$CP_WORK/secret/token" &&
    printf '  %s  \n' "$CANARY" >"$CP_WORK/creds/convex-token")
LOGS=$CP_WORK/logs
mkdir "$LOGS"

fixture shop-blog.yaml shop.yaml

# 1. plan and apply at debug level: token from the environment (cp_run),
#    then from a file; text and JSON output; a failing apply (every request
#    5xx); a wrong token that contains the canary (401).
keep() { cp "$CP_WORK/out" "$LOGS/$1.out"; cp "$CP_WORK/err" "$LOGS/$1.err"; }
cp_expect 2 plan --log-level debug
keep plan-env
cp_expect 2 plan --log-level debug --json --log-format json --token-file "$CP_WORK/secret/token"
keep plan-file
set_sim '{"errorRate":1}'
cp_expect 1 apply --log-level debug --team 1
keep apply-5xx
set_sim '{"errorRate":0}'
printf '%s-wrong\n' "$CANARY" >"$CP_WORK/wrong-token"
chmod 600 "$CP_WORK/wrong-token"
cp_expect 1 plan --log-level debug --token-file "$CP_WORK/wrong-token"
keep plan-401
grep -q '401' "$LOGS/plan-401.err" || e2e_fail "no 401 shown: $(cat "$LOGS/plan-401.err")"
cp_expect 0 apply --log-level debug --json --token-file "$CP_WORK/secret/token"
keep apply
assert_eq "$(live_projects)" 2 "projects after apply (the token worked)"

# 2. The daemon, token from a systemd credential, at debug level, with a
#    notify socket; extra reconciles, 5xx answers, a SIGHUP with a rotated
#    wrong token (401s), a SIGHUP back, SIGTERM.
nl_start
DM_ENV+=("CREDENTIALS_DIRECTORY=$CP_WORK/creds")
# No CONVEX_ACCESS_TOKEN for the daemon: the credential must be used (and
# lib.sh exports the simulator's token as SIM_TOKEN: not for the daemon).
dm_spawn_creds() {
	env -u SIM_TOKEN -u CONVEX_ACCESS_TOKEN "${DM_ENV[@]}" "$CP_BIN" -c "$CP_WORK/config.yaml" --api-url "$SIM_URL" \
	    ${SIM_CA_FILE:+--ca-file "$SIM_CA_FILE"} --desired "$CP_DESIRED" --state-dir "$CP_STATE" --listen 127.0.0.1:0 \
	    run --log-level debug --interval 2s >"$DM_OUT" 2>"$DM_ERR" &
	DM_PID=$!
}
dm_spawn_creds
wait_for 30 "the status port" _dm_port_logged
DM_URL=http://127.0.0.1:$DM_PORT
dm_log_has 'token from credential ' || e2e_fail "the credential was not used: $(head -n 5 "$DM_ERR")"
# Nothing in argv: the command line is only flags and paths.
tr '\0' ' ' <"/proc/$DM_PID/cmdline" >"$LOGS/cmdline"
grep -q -- '--desired' "$LOGS/cmdline" || e2e_fail "cmdline not read: $(cat "$LOGS/cmdline")"
grep -q "$CANARY" "/proc/$DM_PID/environ" && e2e_fail "the token is in the daemon's environment"

sim_patch "/deployments/$(sim_state | jq -r '.deployments[0].name')" '{"class":"d1024"}' >/dev/null
sim_post /teams/1/create_project '{"projectName":"stray"}' >/dev/null
n=$(dm_reconciles)
assert_eq "$(dm_code POST /reconcile)" 202 "POST /reconcile"
dm_wait_reconciles $((n + 1))
set_sim '{"errorRate":1}'
n=$(dm_reconciles)
dm_wait_reconciles $((n + 1))
wait_for 20 "a failed reconcile" '[ "$(dm_status .last_reconcile.result)" = error ]'
set_sim '{"errorRate":0}'
printf '%s-rotated\n' "$CANARY" >"$CP_WORK/creds/convex-token"
kill -HUP "$DM_PID"
n401() { sim_stats | jq '[.requests[] | .["401"] // 0] | add // 0'; }
# shellcheck disable=SC2034 # read by the condition wait_for evaluates
before=$(n401)
wait_for 20 "a 401" '[ "$(n401)" -gt "$before" ]'
printf '%s\n' "$CANARY" >"$CP_WORK/creds/convex-token"
kill -HUP "$DM_PID"
wait_for 20 "a successful reconcile with the restored token" \
    '[ "$(dm_status .last_reconcile.result)" = ok ]'
dm_get /status >"$LOGS/status.json"
dm_get /metrics >"$LOGS/metrics.txt"
dm_get /readyz >"$LOGS/readyz.txt"
tr '\0' ' ' <"/proc/$DM_PID/cmdline" >"$LOGS/cmdline-late"
dm_stop 15
kill -TERM "$NL_PID"
wait "$NL_PID" || true
NL_PID=
[ "$(wc -l <"$DM_ERR")" -ge 50 ] || e2e_fail "a debug log of only $(wc -l <"$DM_ERR") lines"
grep -q 'HTTP 5' "$DM_ERR" || e2e_fail "the 5xx errors were not logged"
grep -q '401' "$DM_ERR" || e2e_fail "the 401 errors were not logged"
grep -q '^[0-9]* STATUS=' "$NL_OUT" || e2e_fail "no STATUS datagram"

# 3. The search. The canary is in the secret files (which shows the search
#    can find it) and nowhere else under the work folder.
grep -r -q "$CANARY" "$CP_WORK/secret" || e2e_fail "the search does not find the canary"
found=$(grep -r -a -l "$CANARY" "$CP_WORK" --exclude-dir=secret --exclude-dir=creds \
    --exclude=wrong-token || true)
if [ -n "$found" ]; then
	for f in $found; do
		echo "--- $f" >&2
		grep -a -n "$CANARY" "$f" | head -n 5 >&2
	done
	e2e_fail "the token leaked into: $found"
fi
ls "$CP_STATE/ledger.json" "$CP_STATE/actions.jsonl" "$LOGS/plan-env.err" >/dev/null
echo "searched: $(find "$CP_WORK" -type f | wc -l) files"
echo "ok"
