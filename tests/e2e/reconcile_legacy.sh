#!/usr/bin/env bash
# End to end against an older API without the paginated routes.
set -eu
. "$CP_SOURCE_DIR/tests/e2e/lib.sh"
. "$CP_SOURCE_DIR/tests/e2e/cp.sh"
sim_start --seed 7 --legacy

desired a.yaml <<'YAML'
projects:
  - name: shop
    deployments:
      - reference: staging
        type: dev
  - name: blog
YAML
sim_post /teams/1/create_project '{"projectName":"manual"}' >/dev/null
cp_expect 2 plan --team 1
cp_expect 0 apply --team 1
cp_expect 0 plan --team 1 --json
assert_eq "$(json_field '.actions | length')" 0 "converged on the legacy API"
echo "$CP_ERR" | grep -q "does not exist on this API" || e2e_fail "the switch to the legacy routes is not logged: $CP_ERR"
assert_eq "$(live_projects)" 3 "projects"
assert_eq "$(live_deployments)" 1 "deployments"
# Under prune none only the declared projects are listed one by one.
before=$(sim_stats | jq '[.requests | to_entries[] | select(.key | test("projects/\\{id\\}/list_deployments")) | .value | to_entries[] | .value] | add // 0')
cp_expect 0 plan --team 1
after=$(sim_stats | jq '[.requests | to_entries[] | select(.key | test("projects/\\{id\\}/list_deployments")) | .value | to_entries[] | .value] | add // 0')
assert_eq "$((after - before))" 2 "per-project listings for 2 declared projects"
cp_expect 0 apply --team 1 --prune all
assert_eq "$(live_projects_named manual)" 0 "prune all on the legacy API"
echo "all reconcile_legacy checks passed"
