#!/usr/bin/env bash
# Env values and deploy key secrets never show (SPEC sections 9 and 13):
# plan, plan --json, plan --format markdown --out (the saved plan), apply,
# apply --json, apply FILE, show (text and JSON) and the daemon (logs at debug, text and JSON)
# run with env values from the files, from {file:} and from {env:}, create
# deploy keys, change values, meet API errors that quote a value or a key's
# secret back; then every byte they wrote (stdout, stderr, /status,
# /metrics, the ledger, the audit trail, the whole state folder but the
# keys' own files) is searched for every secret string.
set -eu
. "$CP_SOURCE_DIR/tests/e2e/daemon_lib.sh"
dm_sim_start --seed 21

LIT1=leak-literal-value-5b1e
LIT2=leak-literal-value-2-8c0f
FILEV=leak-file-value-d41a
ENVV=leak-env-value-77e2
mkdir -m 700 "$CP_WORK/secret"
printf '%s\n' "$FILEV" >"$CP_WORK/secret/stripe"
export LEAK_TEST_DSN=$ENVV
LOGS=$CP_WORK/logs
mkdir "$LOGS"
keep() { cp "$CP_WORK/out" "$LOGS/$1.out"; cp "$CP_WORK/err" "$LOGS/$1.err"; }
route_knob() {
	curl -sS --max-time 20 -X POST --data-binary "{\"routes\":{\"$1\":$2}}" \
	    "$SIM_BASE/_sim/config" >/dev/null
}
# script_error ROUTE MESSAGE: the next answer of ROUTE is a 400 whose
# message is MESSAGE (an API echoing what it was sent).
script_error() {
	jq -n --arg r "$1" --arg m "$2" \
	    '{route: $r, responses: [{status: 400, body: ({code: "BadRequest", message: $m} | tojson)}]}' |
	    curl -sS --max-time 20 -X POST --data-binary @- "$SIM_BASE/_sim/script" >/dev/null
}

write_desired() {
	desired shop.yaml <<YAML
projects:
  - name: shop
    env:
      prod:
        API_TOKEN: $1
        STRIPE_KEY: {file: $CP_WORK/secret/stripe}
        SENTRY_DSN: {env: LEAK_TEST_DSN}
      dev:
        API_TOKEN: $1
    deployments:
      - reference: production
        type: prod
        domains:
          - {domain: api.shop.example.com, destination: convexCloud}
        deploy_keys: [$2]
YAML
}

# 1. plan and apply, text and JSON, at debug level.
write_desired "$LIT1" ci
cp_expect 2 plan --team 1 --log-level debug
keep plan
cp_expect 2 plan --team 1 --log-level debug --json --log-format json
keep plan-json
# The pull-request comment and the saved plan (searched with the rest),
# then the saved plan applied.
cp_expect 2 plan --team 1 --log-level debug --format markdown --out "$CP_WORK/saved.plan"
keep plan-markdown
cp_expect 0 apply --team 1 --log-level debug --json "$CP_WORK/saved.plan"
keep apply-json
KEY1=$(cat "$CP_STATE/keys/shop/production/ci")
[ -n "$KEY1" ] || e2e_fail "no key secret"

# 2. Changed values; an API that quotes a value back in its error; a
#    failing listing; then the change applied.
write_desired "$LIT2" ci
cp_expect 2 plan --team 1 --log-level debug
keep plan-changed
grep -q '(value changed)' "$LOGS/plan-changed.out" || e2e_fail "no value change shown"
script_error 'POST /projects/{id}/update_default_environment_variables' \
    "value $LIT2 of API_TOKEN rejected; also $FILEV and $ENVV"
cp_expect 1 apply --team 1 --log-level debug
keep apply-echo
grep -q 'BadRequest: value \*\*\* of API_TOKEN rejected; also \*\*\* and \*\*\*' "$LOGS/apply-echo.out" ||
    e2e_fail "the API error was not shown masked: $(cat "$LOGS/apply-echo.out")"
script_error 'POST /projects/{id}/update_default_environment_variables' "echo $LIT2"
cp_expect 1 apply --team 1 --log-level debug --json --log-format json
keep apply-echo-json
route_knob 'GET /deployments/{name}/custom_domains' '{"badJsonRate":1}'
cp_expect 1 plan --team 1 --log-level debug
keep plan-badjson
route_knob 'GET /deployments/{name}/custom_domains' null
cp_expect 0 apply --team 1 --log-level debug
keep apply
cp_expect 0 show --team 1 --log-level debug
keep show
cp_expect 0 show --team 1 --json
keep show-json

# 3. The daemon at debug level (text, then JSON logs): a second key, a
#    changed value picked up from the files, an error quoting the new key's
#    secret, /status and /metrics.
dm_start --log-level debug --interval 2s
wait_for 30 "a first reconcile" '[ "$(dm_reconciles)" -ge 1 ]'
write_desired "$LIT1" "ci, ci-daemon"
wait_for 30 "the daemon's key" '[ -f "$CP_STATE/keys/shop/production/ci-daemon" ]'
KEY2=$(cat "$CP_STATE/keys/shop/production/ci-daemon")
script_error 'GET /deployments/{name}/list_deploy_keys' "bad key $KEY2"
n=$(dm_reconciles)
dm_wait_reconciles $((n + 2))
dm_log_has 'BadRequest: bad key \*\*\*' || e2e_fail "the daemon did not log the scripted error masked"
wait_for 30 "an ok reconcile" '[ "$(dm_status .last_reconcile.result)" = ok ]'
dm_get /status >"$LOGS/status.json"
dm_get /metrics >"$LOGS/metrics.txt"
jq -e '.last_reconcile.managed.deploy_keys == 2 and .last_reconcile.managed.env_vars == 4' \
    "$LOGS/status.json" >/dev/null || e2e_fail "status: $(cat "$LOGS/status.json")"
jq -e '[.last_reconcile.pending_domains[].domain] == ["api.shop.example.com"]' "$LOGS/status.json" >/dev/null ||
    e2e_fail "pending domain not in /status: $(cat "$LOGS/status.json")"
grep -q '^convex_provisioner_managed_deploy_keys 2$' "$LOGS/metrics.txt" || e2e_fail "metrics: $(grep managed "$LOGS/metrics.txt")"
grep -q '^convex_provisioner_domains_pending_verification 1$' "$LOGS/metrics.txt" || e2e_fail "pending metric"
"$PROMCHECK" <"$LOGS/metrics.txt" >/dev/null || e2e_fail "the exposition does not check"
dm_stop 15
cp "$DM_ERR" "$LOGS/daemon-text.err"
dm_start --log-level debug --log-format json --interval 2s
write_desired "$LIT2" "ci, ci-daemon"
wait_for 30 "the daemon's change" '[ "$(sim_state | jq -r ".projects[0].env[] | select(.name == \"API_TOKEN\" and .deploymentType == \"prod\") | .value")" = "$LIT2" ]'
dm_get /status >"$LOGS/status2.json"
dm_stop 15
cp "$DM_ERR" "$LOGS/daemon-json.err"

# 4. The search. Each secret is where it belongs (the search can find it:
#    the desired file, the secret file, the keys' files) and nowhere else.
[ "$(wc -l <"$LOGS/daemon-text.err")" -ge 30 ] || e2e_fail "a debug log of only $(wc -l <"$LOGS/daemon-text.err") lines"
grep -q "$LIT1" "$CP_DESIRED/shop.yaml" || grep -q "$LIT2" "$CP_DESIRED/shop.yaml" || e2e_fail "the search finds nothing"
grep -q "$KEY2" "$CP_STATE/keys/shop/production/ci-daemon" || e2e_fail "the search does not find the key"
files=$(find "$CP_WORK" -type f ! -path "$CP_DESIRED/*" ! -path "$CP_WORK/secret/*" \
    ! -path "$CP_STATE/keys/shop/production/ci" ! -path "$CP_STATE/keys/shop/production/ci-daemon")
leaks=
for s in "$LIT1" "$LIT2" "$FILEV" "$ENVV" "$KEY1" "$KEY2" "${KEY1#*|}" "${KEY2#*|}"; do
	for f in $files; do
		if grep -a -q -F -e "$s" "$f"; then
			echo "--- ${s:0:12}... in $f" >&2
			grep -a -n -F -e "$s" "$f" | head -n 3 | cut -c1-200 >&2
			leaks="$leaks $f"
		fi
	done
done
[ -z "$leaks" ] || e2e_fail "secrets leaked into:$leaks"
ls "$CP_STATE/ledger.json" "$CP_STATE/actions.jsonl" >/dev/null
grep -q '"kind":"env"' "$CP_STATE/actions.jsonl" || e2e_fail "no env line in the audit trail"
echo "searched: $(echo "$files" | wc -w) files for 8 secrets"
echo "ok"
