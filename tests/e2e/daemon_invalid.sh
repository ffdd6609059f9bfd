#!/usr/bin/env bash
# An invalid desired state after the start never stops `run` and never
# deletes anything, even with --prune all: the last valid state stays in
# use, the errors are logged with file:line:col and shown on /status and in
# desired_state_errors, and fixing the files recovers without a signal. An
# invalid settings file on SIGHUP keeps the current settings.
set -eu
. "$CP_SOURCE_DIR/tests/e2e/daemon_lib.sh"
dm_sim_start --seed 5

desired shop.yaml <<'YAML'
projects:
  - name: shop
YAML
fixture blog.yaml blog/blog.yaml
dm_start --interval 2s --prune all
wait_for 30 "shop and blog" '[ "$(live_projects)" = 2 ] && [ "$(live_refs live)" = 1 ]'
assert_eq "$(dm_metric convex_provisioner_desired_state_errors)" 0 "errors at start"

# errors_seen: /status lists errors and the metric counts them.
errors_seen() {
	[ "$(dm_status '.desired.errors | length')" -ge 1 ] &&
	    [ "$(dm_metric convex_provisioner_desired_state_errors)" -ge 1 ]
}
# still_all_there: both projects and the deployment live, no delete ever.
still_all_there() {
	assert_eq "$(live_projects_named shop)" 1 "shop"
	assert_eq "$(live_projects_named blog)" 1 "blog"
	assert_eq "$(live_refs live)" 1 "blog's deployment"
	assert_eq "$(sim_stats | jq '.deletes.project + .deletes.deployment')" 0 "deletes"
}

# 1. A YAML syntax error, then SIGHUP.
printf 'projects:\n  - name: blog\n    deployments: [\n' >"$CP_DESIRED/blog/blog.yaml"
kill -HUP "$DM_PID"
wait_for 15 "the error on /status" errors_seen
dm_log_has 'blog/blog\.yaml:[0-9]+:[0-9]+: error' || e2e_fail "no file:line:col in the log"
dm_log_has 'keeping the last valid one' || e2e_fail "no warning that the last state is kept"
dm_status '.desired.errors[0]' | grep -E -q 'blog/blog\.yaml:[0-9]+:[0-9]+: error: ' ||
    e2e_fail "/status error: $(dm_status '.desired.errors[0]')"
# Reconciles go on (interval 2 s) with the last valid state.
n=$(dm_reconciles)
dm_wait_reconciles $((n + 1)) 20
assert_eq "$(dm_status .desired.projects)" 2 "projects of the state in use"
assert_eq "$(dm_code GET /readyz)" 200 "/readyz with an invalid file"
still_all_there

# 2. A misspelt key: the file parses, the loader refuses it, blog is not
#    taken for undeclared (that would prune it).
desired blog/blog.yaml <<'YAML'
projects:
  - nmae: blog
    deployments:
      - reference: live
        type: prod
YAML
kill -HUP "$DM_PID"
wait_for 15 "the misspelt key on /status" \
    '[ "$(dm_status "[.desired.errors[] | select(test(\"blog/blog.yaml:2:5: error: .*nmae\"))] | length")" = 1 ]'
dm_log_has 'blog/blog\.yaml:2:5: error: .*nmae' || e2e_fail "no file:line:col for the misspelt key"
n=$(dm_reconciles)
dm_wait_reconciles $((n + 1)) 20
still_all_there
kill -0 "$DM_PID" || e2e_fail "the daemon stopped"

# 3. Fixed, with no signal: the watch reloads and the errors clear.
fixture blog.yaml blog/blog.yaml
wait_for 15 "the errors to clear" \
    '[ "$(dm_status ".desired.errors | length")" = 0 ] && [ "$(dm_metric convex_provisioner_desired_state_errors)" = 0 ]'
dm_log_has 'the desired state is valid again' || e2e_fail "no recovery line in the log"
still_all_there

# 4. A settings file that does not parse on SIGHUP: logged, the daemon goes
#    on with what it has.
echo 'interval: banana' >"$CP_WORK/config.yaml"
kill -HUP "$DM_PID"
wait_for 15 "the settings error in the log" dm_log_has 'settings file is invalid: keeping the current settings'
n=$(dm_reconciles)
dm_wait_reconciles $((n + 1)) 20
: >"$CP_WORK/config.yaml"
still_all_there

dm_stop 15
echo "ok"
