#!/usr/bin/env bash
# Triggers during a reconcile coalesce: five POST /reconcile (and then a
# SIGHUP among more POSTs) while a slow reconcile runs give exactly one more
# reconcile, never an overlap, and then nothing until the timer.
set -eu
. "$CP_SOURCE_DIR/tests/e2e/daemon_lib.sh"
# Every /v1 answer waits 2 s: a reconcile (two listings at once) takes 2 s.
dm_sim_start --seed 11 --latency 2000
sim_seed 1 0 app >/dev/null

desired app.yaml <<'YAML'
projects:
  - name: app1
YAML
dm_start --interval 1h
dm_wait_reconciles 1 30

# idle_until_timer: nothing runs, nothing is queued, the next reconcile is
# the timer's, about an hour away.
idle_until_timer() {
	local s next
	s=$(dm_get /status)
	assert_eq "$(echo "$s" | jq .reconcile.running)" false "running"
	assert_eq "$(echo "$s" | jq .reconcile.pending)" false "pending"
	next=$(date -d "$(echo "$s" | jq -r .reconcile.next)" +%s)
	[ "$next" -ge $(($(date +%s) + 1800)) ] || e2e_fail "next reconcile at $next, want the timer's"
}

round() {
	local what=$1 posts=$2 hup=$3 before listings i
	before=$(dm_reconciles)
	listings=$(sim_listings)
	assert_eq "$(dm_code POST /reconcile)" 202 "the first POST"
	wait_for 10 "the reconcile to run" '[ "$(dm_status .reconcile.running)" = true ]'
	for i in $(seq 1 "$posts"); do
		assert_eq "$(dm_code POST /reconcile)" 202 "POST $i during the reconcile"
		[ "$i" = 2 ] && [ "$hup" = 1 ] && kill -HUP "$DM_PID"
	done
	# Still the first one: the listings have not answered yet (2 s each).
	[ "$(dm_reconciles)" = "$before" ] || e2e_fail "$what: the reconcile ended before the triggers were sent"
	assert_eq "$(dm_status .reconcile.pending)" true "$what: pending"
	dm_wait_reconciles $((before + 2)) 30
	wait_for 10 "$what: the end" '[ "$(dm_status .reconcile.running)" = false ]'
	idle_until_timer
	assert_eq "$(dm_reconciles)" $((before + 2)) "$what: reconciles"
	assert_eq "$(sim_listings)" $((listings + 2)) "$what: project listings"
	# Never two at once: each reconcile has one listing of each kind in
	# flight at most.
	[ "$(sim_stats | jq .max_in_flight)" -le 2 ] || e2e_fail "$what: $(sim_stats | jq .max_in_flight) requests at once"
}

round "5 POSTs" 5 0
round "POSTs and a SIGHUP" 4 1
dm_stop 15
echo "ok"
