#!/usr/bin/env bash
# The status endpoint of `run`: /healthz, /readyz (503 until the first
# complete observation), /status (last reconcile: time, result, summary,
# drift, blocked guards; desired-state errors), /metrics (well-formed text
# format 0.0.4 with every metric of SPEC section 6, HELP and TYPE lines,
# values that match what happened) and POST /reconcile (202, and a reconcile
# follows).
set -eu
. "$CP_SOURCE_DIR/tests/e2e/daemon_lib.sh"
# Slow answers at first, so the time before the first observation shows.
dm_sim_start --seed 8 --latency 1500
sim_seed 2 0 stray >/dev/null
set_latency() {
	curl -sS --max-time 20 -X POST --data-binary "{\"latencyMs\":$1}" "$SIM_BASE/_sim/config" >/dev/null
}

fixture shop-blog.yaml shop.yaml
# Two undeclared projects to prune, one delete allowed: max_deletes holds.
# (In the settings file, so a SIGHUP can raise it; a flag would win.)
echo 'max_deletes: 1' >"$CP_WORK/config.yaml"
dm_start --interval 1h --prune all

# 1. Before the first observation: alive, not ready.
assert_eq "$(dm_code GET /healthz)" 200 "/healthz"
assert_eq "$(dm_get /healthz)" ok "/healthz body"
assert_eq "$(dm_code GET /readyz)" 503 "/readyz before the first observation"
dm_get /readyz | grep -q 'not ready: no complete observation yet' || e2e_fail "/readyz reason: $(dm_get /readyz)"
assert_eq "$(dm_status .ready)" false "/status ready before"
assert_eq "$(dm_status .last_reconcile.result)" null "last result before"

# 2. After it.
wait_for 30 "the first reconcile" '[ "$(dm_status .last_reconcile.result)" != null ]'
assert_eq "$(dm_code GET /readyz)" 200 "/readyz after the first observation"
set_latency 0

# 3. Drift by hand (a type: never changed, only reported), then POST
#    /reconcile: 202, and one more observation.
name=$(sim_state | jq -r '.deployments[] | select(.reference == "production") | .name')
sim_patch "/deployments/$name" '{"deploymentType":"dev"}' >/dev/null
listings=$(sim_listings)
assert_eq "$(dm_code POST /reconcile)" 202 "POST /reconcile"
wait_for 20 "the reconcile POST /reconcile asked for" '[ "$(sim_listings)" -ge $((listings + 1)) ]'
wait_for 20 "its end" '[ "$(dm_status .reconcile.running)" = false ] && [ "$(dm_reconciles)" -ge 2 ]'
assert_eq "$(sim_listings)" $((listings + 1)) "observations after one POST"

# 4. /status.
dm_get /status >"$CP_WORK/status.json"
jq -e . "$CP_WORK/status.json" >/dev/null || e2e_fail "/status is not JSON"
st() { jq -r "$1" "$CP_WORK/status.json"; }
assert_eq "$(st .ready)" true "ready"
assert_eq "$(st .version)" "$("$CP_BIN" --version | awk '{ print $2 }')" "version"
st .last_reconcile.time | grep -E -q '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$' ||
    e2e_fail "last reconcile time: $(st .last_reconcile.time)"
assert_eq "$(st .last_reconcile.result)" blocked "result"
assert_eq "$(st .last_reconcile.error)" null "error"
assert_eq "$(st '.last_reconcile.summary | [.create, .delete, .failed, .drift, .blocked] | map(tostring) | join(" ")')" \
    "0 0 0 1 1" "summary (create delete failed drift blocked; blocked deletes are not planned)"
assert_eq "$(st '.last_reconcile.summary.update')" 0 "summary.update"
assert_eq "$(st '.last_reconcile.drift[0] | [.kind, .project, .reference, .field, .want, .have] | join(" ")')" \
    "deployment shop production type prod dev" "drift"
assert_eq "$(st '.last_reconcile.blocked[0].guard')" max_deletes "blocked guard"
st '.last_reconcile.blocked[0].message' | grep -q '2 deletes planned, at most 1 allowed' ||
    e2e_fail "blocked message: $(st '.last_reconcile.blocked[0].message')"
assert_eq "$(st '.desired.errors | length')" 0 "desired-state errors"
assert_eq "$(st .desired.projects)" 2 "desired projects"
assert_eq "$(st .desired.follow)" watch "follow"
st .desired.fingerprint | grep -E -q '^[0-9a-f]{16}$' || e2e_fail "fingerprint: $(st .desired.fingerprint)"
[ "$(st .desired.files)" -ge 1 ] || e2e_fail "files: $(st .desired.files)"
assert_eq "$(date -u -d "@$(st .desired.loaded_unix)" '+%Y-%m-%dT%H:%M:%SZ')" "$(st .desired.loaded)" \
    "desired.loaded_unix is desired.loaded"
[ "$(st .last_success)" = null ] || e2e_fail "last_success set, though no reconcile converged"
[ "$(st .last_observation)" != null ] || e2e_fail "no last_observation"
assert_eq "$(live_projects_named stray1)" 1 "stray1 kept by the guard"

# 5. /metrics: well formed, every metric of SPEC section 6 with its type.
curl -sS --max-time 20 -D "$CP_WORK/metrics.head" "$DM_URL/metrics" >"$CP_WORK/metrics.txt"
grep -i -q '^content-type: text/plain; version=0.0.4' "$CP_WORK/metrics.head" ||
    e2e_fail "content type: $(grep -i content-type "$CP_WORK/metrics.head")"
P=convex_provisioner_
families=()
for f in reconcile_total:counter reconcile_duration_seconds:histogram \
    actions_total:counter api_requests_total:counter \
    api_request_duration_seconds:histogram drift_resources:gauge \
    desired_projects:gauge observed_projects:gauge guard_blocked_total:counter \
    desired_state_errors:gauge last_success_timestamp_seconds:gauge \
    desired_reloads_total:counter watch_failures_total:counter; do
	families+=(-f "$P$f")
done
"$PROMCHECK" "${families[@]}" "$CP_WORK/metrics.txt" || e2e_fail "/metrics does not pass the checker"
m() { "$PROMCHECK" -v "$P$1" "$CP_WORK/metrics.txt"; }
assert_eq "$(m 'reconcile_total{result="blocked"}')" 2 "blocked reconciles"
assert_eq "$(m 'reconcile_total{result="ok"}')" 0 "ok reconciles"
assert_eq "$(m reconcile_duration_seconds_count)" 2 "reconcile durations"
assert_eq "$(m 'reconcile_duration_seconds_bucket{le="+Inf"}')" 2 "+Inf bucket"
assert_eq "$(m 'actions_total{op="create",kind="project",result="ok"}')" 2 "project creates"
assert_eq "$(m 'actions_total{op="create",kind="deployment",result="ok"}')" 1 "deployment creates"
assert_eq "$(m 'api_requests_total{route="POST /teams/{team}/create_project",code="200"}')" 2 "create_project requests"
assert_eq "$(m 'api_requests_total{route="GET /teams/{team}/projects",code="200"}')" "$(sim_listings)" "listing requests"
[ "$(m api_request_duration_seconds_count)" -ge 5 ] || e2e_fail "api request durations: $(m api_request_duration_seconds_count)"
assert_eq "$(m drift_resources)" 1 "drift_resources"
assert_eq "$(m desired_projects)" 2 "desired_projects"
assert_eq "$(m observed_projects)" 4 "observed_projects"
assert_eq "$(m 'guard_blocked_total{guard="max_deletes"}')" 2 "max_deletes blocks"
assert_eq "$(m desired_state_errors)" 0 "desired_state_errors"
assert_eq "$(m last_success_timestamp_seconds)" 0 "last success (none)"
for t in watch timer sighup api; do
	assert_eq "$(m "desired_reloads_total{trigger=\"$t\"}")" 0 "reloads ($t)"
done
for r in overflow limit error; do
	assert_eq "$(m "watch_failures_total{reason=\"$r\"}")" 0 "watch failures ($r)"
done
# No route carries an id: the label is a template.
grep -E -q 'route="[^"]*/[0-9]' "$CP_WORK/metrics.txt" && e2e_fail "a concrete id in a route label"

# Converged: max_deletes raised through a settings file and SIGHUP; the
# next reconcile deletes both strays and sets the success time.
echo 'max_deletes: 5' >"$CP_WORK/config.yaml"
t0=$(date +%s)
kill -HUP "$DM_PID"
wait_for 20 "the strays to go" '[ "$(live_projects)" = 2 ]'
wait_for 20 "a successful reconcile" '[ "$(dm_metric "${P}reconcile_total{result=\"ok\"}")" -ge 1 ]'
last=$(dm_metric "${P}last_success_timestamp_seconds")
[ "${last%.*}" -ge "$t0" ] && [ "${last%.*}" -le $(($(date +%s) + 1)) ] ||
    e2e_fail "last_success_timestamp_seconds $last, started $t0"
assert_eq "$(dm_metric "${P}"'actions_total{op="delete",kind="project",result="ok"}')" 2 "project deletes"
assert_eq "$(dm_metric "${P}"'desired_reloads_total{trigger="sighup"}')" 1 "reloads by SIGHUP"
[ "$(dm_status .last_success)" != null ] || e2e_fail "no last_success on /status"

# 6. Methods, unknown paths, sizes.
assert_eq "$(dm_code GET /reconcile)" 405 "GET /reconcile"
assert_eq "$(dm_code POST /status)" 405 "POST /status"
assert_eq "$(dm_code GET /nope)" 404 "unknown path"
assert_eq "$(curl -sS --max-time 20 -o /dev/null -w '%{http_code}' -I "$DM_URL/healthz")" 200 "HEAD /healthz"
big=$(head -c 9000 /dev/zero | tr '\0' 'a')
code=$(curl -sS --max-time 20 -o /dev/null -w '%{http_code}' -H "X-Big: $big" "$DM_URL/status" || true)
case $code in 4[0-9][0-9]) ;; *) e2e_fail "a 9000-byte header answered $code" ;; esac
assert_eq "$(dm_code GET /healthz)" 200 "/healthz after the big request"

dm_stop 15
echo "ok"
