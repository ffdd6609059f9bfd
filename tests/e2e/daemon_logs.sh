#!/usr/bin/env bash
# The daemon's logs. --log-format json: every stderr line is one JSON object
# with time, level and message (and fields such as project, reference,
# route, status), through creates, drift, API requests, an invalid desired
# state, a SIGHUP with a broken settings file and the stop. Under journald
# (JOURNAL_STREAM naming the stderr file): every line starts with its <N>
# syslog priority and carries no timestamp; a JOURNAL_STREAM that names
# another file changes nothing.
set -eu
. "$CP_SOURCE_DIR/tests/e2e/daemon_lib.sh"
dm_sim_start --seed 9

desired shop.yaml <<'YAML'
projects:
  - name: shop
    deployments:
      - reference: production
        type: prod
        class: s16
YAML

# exercise: a reconcile that creates, a drift, an invalid desired state and
# its repair, a SIGHUP with a broken settings file and one that is fixed,
# POST /reconcile, SIGTERM. The same for both formats.
exercise() {
	wait_for 30 "the first reconcile" '[ "$(dm_status .last_reconcile.result)" = ok ]'
	local name
	name=$(sim_state | jq -r '.deployments[] | select(.reference == "production") | .name')
	sim_patch "/deployments/$name" '{"deploymentType":"dev"}' >/dev/null
	printf 'projects:\n  - name: shop\n    colour: blue\n' >"$CP_DESIRED/bad.yaml"
	echo 'interval: banana' >"$CP_WORK/config.yaml"
	kill -HUP "$DM_PID"
	wait_for 20 "the settings error" dm_log_has 'settings file is invalid'
	wait_for 20 "the desired-state error" '[ "$(dm_status ".desired.errors | length")" -ge 1 ]'
	rm "$CP_DESIRED/bad.yaml"
	: >"$CP_WORK/config.yaml"
	wait_for 20 "the repair" '[ "$(dm_status ".desired.errors | length")" = 0 ]'
	local n
	n=$(dm_reconciles)
	assert_eq "$(dm_code POST /reconcile)" 202 "POST /reconcile"
	dm_wait_reconciles $((n + 1)) 20
	dm_stop 15
}

# 1. JSON lines, at debug level.
dm_start --interval 1h --log-format json --log-level debug
exercise
[ -s "$DM_OUT" ] && e2e_fail "run wrote on stdout: $(head -n 3 "$DM_OUT")"
lines=$(wc -l <"$DM_ERR")
[ "$lines" -ge 10 ] || e2e_fail "only $lines log lines"
# Each line on its own (-R): one that is not such an object is printed.
bad=$(jq -R -r '. as $line | try (fromjson |
    if type == "object" and
       (.time | type == "string" and test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?Z$")) and
       (.level | IN("error", "warn", "info", "debug")) and
       (.message | type == "string" and length > 0)
    then empty else $line end) catch $line' "$DM_ERR" | head -n 3)
[ -z "$bad" ] || e2e_fail "not a JSON log line with time, level and message: $bad"
# One JSON object per line: as many objects as lines.
assert_eq "$(jq -s length "$DM_ERR")" "$lines" "objects"
# Fields, not text: the create, the drift, the API requests.
jsel() { jq -c "select($1)" "$DM_ERR" | head -n 1; }
[ -n "$(jsel '.message == "create deployment ok" and .project == "shop" and .reference == "production" and .result == "ok"')" ] ||
    e2e_fail "no create line with project and reference fields"
[ -n "$(jsel '.level == "info" and .project == "shop" and .reference == "production" and .field == "type" and (.message | test("type is dev, the files say prod [(]not changed: "))')" ] ||
    e2e_fail "no drift line with fields"
[ -n "$(jsel '.level == "debug" and .route == "GET /teams/{team}/projects" and .status == "200"')" ] ||
    e2e_fail "no debug line for an API request with route and status"
[ -n "$(jsel '.level == "error" and (.message | test("bad.yaml:3:5: error: unknown key"))')" ] ||
    e2e_fail "no error line for the desired state"
[ -n "$(jsel '.level == "error" and (.message | test("config.yaml:1:[0-9]+: error: interval"))')" ] ||
    e2e_fail "no error line for the settings file"
[ -n "$(jsel '.level == "warn" and (.message | test("keeping the last valid one"))')" ] ||
    e2e_fail "no warning that the last valid state is kept"

# 2. Under journald: JOURNAL_STREAM is the device and inode of stderr. The
#    file exists first, so its inode is known; the redirection keeps it.
: >"$DM_ERR"
DM_ENV=("JOURNAL_STREAM=$(stat -c '%d:%i' "$DM_ERR")")
sim_reset
dm_start --interval 1h --log-level debug
exercise
lines=$(wc -l <"$DM_ERR")
[ "$lines" -ge 10 ] || e2e_fail "only $lines log lines under journald"
bad=$(grep -v -E '^<[0-7]>' "$DM_ERR" | head -n 3 || true)
[ -z "$bad" ] || e2e_fail "lines without a priority prefix: $bad"
bad=$(grep -E '^<[0-7]>[0-9]{4}-[0-9]{2}-[0-9]{2}T' "$DM_ERR" | head -n 3 || true)
[ -z "$bad" ] || e2e_fail "lines with a timestamp: $bad"
# The priority matches the level: 3 error, 4 warning, 6 info, 7 debug.
grep -q '^<6>desired state loaded from ' "$DM_ERR" || e2e_fail "no <6> info line"
grep -q '^<7>api request in ' "$DM_ERR" || e2e_fail "no <7> debug line"
grep -q '^<4>the desired state is invalid' "$DM_ERR" || e2e_fail "no <4> warning line"
grep -q '^<3>.*bad.yaml:3:5: error: unknown key' "$DM_ERR" || e2e_fail "no <3> error line"
grep -q '^<3>.*config.yaml:1:[0-9]*: error: interval' "$DM_ERR" || e2e_fail "no <3> line for the settings file"

# 3. A JOURNAL_STREAM that is not our stderr (inherited from a parent) is
#    ignored: timestamped text lines.
DM_ENV=("JOURNAL_STREAM=1:1")
sim_reset
dm_start --interval 1h
wait_for 30 "the first reconcile" '[ "$(dm_status .last_reconcile.result)" = ok ]'
dm_stop 15
grep -E -q '^<[0-7]>' "$DM_ERR" && e2e_fail "a priority prefix with a foreign JOURNAL_STREAM"
bad=$(grep -v -E '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z (error|warn|info|debug): ' "$DM_ERR" | head -n 3 || true)
[ -z "$bad" ] || e2e_fail "text lines without time and level: $bad"
echo "ok"
