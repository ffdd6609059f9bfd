#!/usr/bin/env bash
# The number of API requests for a plan on a converged team of P projects
# and D deployments is exactly ceil(P/100) + ceil(D/100), plus one
# GET /token_details when no team is configured (an empty listing still
# costs one page).
set -eu
. "$CP_SOURCE_DIR/tests/e2e/lib.sh"
. "$CP_SOURCE_DIR/tests/e2e/cp.sh"
sim_start --seed 8

check() {
	local p=$1 per=$2 team_flag=$3 extra=$4 d want got
	d=$((p * per))
	sim_reset
	[ "$p" -gt 0 ] && sim_seed "$p" "$per"
	sim_reset_stats=$(sim_stats | jq .total)
	cp_expect 0 plan $team_flag
	got=$(( $(sim_stats | jq .total) - sim_reset_stats ))
	# An empty listing still costs its one (empty) page.
	pp=$(( (p + 99) / 100 )); [ $pp -eq 0 ] && pp=1
	dp=$(( (d + 99) / 100 )); [ $dp -eq 0 ] && dp=1
	want=$(( pp + dp + extra ))
	assert_eq "$got" "$want" "requests for P=$p D=$d ($team_flag)"
	echo "P=$p D=$d: $got requests"
}

check 0 0 "--team 1" 0
check 1 1 "--team 1" 0
check 100 1 "--team 1" 0
check 101 2 "--team 1" 0
check 250 2 "--team 1" 0
check 250 2 "" 1
echo "all reconcile_requests checks passed"
