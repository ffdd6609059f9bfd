#!/usr/bin/env bash
# A change that lands while `run` starts (between the first load of the
# desired state and the end of its start: token, client, status endpoint,
# and before this change the file watch) is picked up at once, not at the
# next change or the next hour: the watch starts before the first load, and
# the first reconcile checks the files against their fingerprint at the
# load. The window is widened by the test hook CP_TEST_START_DELAY_MS (a
# pause right after the first load); --interval 1h leaves no timer to help.
# Run with follow watch and with follow poll (no watch at all).
set -eu
. "$CP_SOURCE_DIR/tests/e2e/daemon_lib.sh"
dm_sim_start --seed 21

m() { dm_metric "convex_provisioner_$1"; }

for mode in watch poll; do
	echo "== follow $mode"
	sim_reset
	rm -rf "$CP_DESIRED" "$CP_STATE"
	mkdir -p "$CP_DESIRED" "$CP_STATE"
	desired shop.yaml <<'YAML'
projects:
  - name: shop
YAML
	DM_ENV=(CP_TEST_START_DELAY_MS=3000)
	dm_spawn --interval 1h --follow "$mode"
	wait_for 20 "the first load" 'dm_log_has "desired state loaded from .*: 1 projects"'
	dm_log_has 'test hook CP_TEST_START_DELAY_MS=3000' || e2e_fail "the hook is not logged"
	# Inside the pause: a git pull finishing as the service starts.
	desired blog.yaml <<'YAML'
projects:
  - name: blog
YAML
	_dm_port_logged && e2e_fail "the start went on before the change (the window was missed)"
	wait_for 30 "the status endpoint" _dm_port_logged
	DM_URL=http://127.0.0.1:$DM_PORT
	wait_for 20 "blog in the simulator" '[ "$(live_projects_named blog)" = 1 ]'
	assert_eq "$(live_projects_named shop)" 1 "shop"
	assert_eq "$(dm_status .desired.projects)" 2 "desired projects in /status"
	assert_eq "$(dm_status .desired.follow)" "$mode" "follow in /status"
	# Found by the check of the first reconcile (a timer reconcile), and
	# only once: the watch event that follows finds nothing new.
	sleep 2
	assert_eq "$(m 'desired_reloads_total{trigger="timer"}')" 1 "reloads by the timer's check"
	assert_eq "$(m 'desired_reloads_total{trigger="watch"}')" 0 "reloads by the watch"
	[ "$(grep -c 'changed since they were loaded: reloading the desired state.*trigger=timer' "$DM_ERR")" = 1 ] ||
	    e2e_fail "the reload is not logged once with trigger=timer"
	dm_stop 15
done
echo "ok"
