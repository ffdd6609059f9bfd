#!/usr/bin/env bash
# End to end under faults: a failing listing acts on nothing; a 10% error
# rate with 429s and dropped connections converges within a few applies;
# ambiguous creates (errors after the create took effect) never duplicate.
set -eu
. "$CP_SOURCE_DIR/tests/e2e/lib.sh"
. "$CP_SOURCE_DIR/tests/e2e/cp.sh"

write_desired() {
	local n=$1 i
	{
		echo "projects:"
		for i in $(seq 1 "$n"); do
			printf '  - name: app-%02d\n    deployments:\n      - reference: staging\n        type: dev\n' "$i"
		done
	} | desired apps.yaml
}

# 1. Every request fails: apply exits 1, sends no create, writes no ledger.
sim_start --seed 4 --error-rate 1
write_desired 3
cp_expect 1 apply --team 1
echo "$CP_ERR" | grep -q "observation failed" || e2e_fail "no observation error: $CP_ERR"
echo "$CP_ERR" | grep -q "HTTP 5" || e2e_fail "error does not show the HTTP status: $CP_ERR"
assert_eq "$(sim_stats | jq '.creates.project // 0')" 0 "creates after a failed listing"
[ -e "$CP_STATE/ledger.json" ] && e2e_fail "ledger written after a failed observation"
cp_expect 1 plan --team 1
sim_stop

# 2. 10% errors, 429s above 200 requests/s, 5% dropped connections.
sim_start --seed 5 --error-rate 0.1 --rate-limit 200 --drop-rate 0.05
write_desired 20
converged=
for attempt in 1 2 3 4 5 6 7 8; do
	cp_run apply --team 1 --concurrency 8
	if [ "$CP_RC" = 0 ]; then
		converged=$attempt
		break
	fi
	[ "$CP_RC" = 1 ] || e2e_fail "apply exit $CP_RC under faults: $CP_ERR"
done
[ -n "$converged" ] || e2e_fail "not converged after 8 applies"
echo "converged after $converged applies"
assert_eq "$(duplicate_names)" 0 "duplicate project names"
assert_eq "$(live_projects)" 20 "projects"
assert_eq "$(live_deployments)" 20 "deployments"
sim_stop

# 3. Ambiguous creates: half of all creates fail after taking effect.
sim_start --seed 6 --error-rate 0.5
write_desired 10
for attempt in 1 2 3 4 5 6 7 8 9 10 11 12; do
	cp_run apply --team 1
	[ "$CP_RC" = 0 ] && break
done
assert_eq "$CP_RC" 0 "converged with ambiguous creates"
assert_eq "$(duplicate_names)" 0 "duplicates after ambiguous creates"
assert_eq "$(live_projects)" 10 "projects"
assert_eq "$(sim_state | jq '[.deployments[] | select(.reference == "staging")] | group_by(.projectId) | map(select(length > 1)) | length')" 0 "duplicate deployments"
echo "all reconcile_faults checks passed"
