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

# SPEC section 9: one listing per resource that declares env, domains or
# keys, none for the others. 120 projects x 2 deployments, 2 env vars each
# (prod and dev), converged: + 120 env listings; declaring `domains: []`
# and `deploy_keys: []` on production adds 2 x 120 more; the same team
# declaring none of it costs only the two chains.
check_extras() {
	local what=$1 want=$2 t0 got
	sim_reset
	curl -sS --max-time 120 -X POST --data-binary \
	    '{"projects":120,"deploymentsPerProject":2,"prefix":"p","envPerProject":2}' \
	    "$SIM_BASE/_sim/seed" >/dev/null
	awk -v what="$what" 'BEGIN {
		print "projects:"
		for (i = 1; i <= 120; i++) {
			printf "  - name: p%d\n", i
			if (what != "none")
				printf "    env:\n      prod: {SEED_VAR_1: seed-value-1, SEED_VAR_2: seed-value-2}\n      dev: {SEED_VAR_1: seed-value-1, SEED_VAR_2: seed-value-2}\n"
			printf "    deployments:\n      - reference: production\n        type: prod\n"
			if (what == "all")
				printf "        domains: []\n        deploy_keys: []\n"
			printf "      - reference: development\n        type: dev\n"
		}
	}' | desired team.yaml
	t0=$(sim_stats | jq .total)
	cp_expect 0 plan --team 1
	got=$(( $(sim_stats | jq .total) - t0 ))
	assert_eq "$got" "$want" "requests with $what declared"
	echo "P=120 D=240, $what declared: $got requests"
}
check_extras none 5
check_extras env 125
check_extras all 365
echo "all reconcile_requests checks passed"
