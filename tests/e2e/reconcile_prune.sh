#!/usr/bin/env bash
# End to end: the three prune modes, for projects and for deployments.
set -eu
. "$CP_SOURCE_DIR/tests/e2e/lib.sh"
. "$CP_SOURCE_DIR/tests/e2e/cp.sh"
sim_start --seed 2

desired a.yaml <<'YAML'
projects:
  - name: shop
    deployments:
      - reference: staging
        type: dev
      - reference: review-1
        type: preview
  - name: ours-later-removed
YAML
cp_expect 0 apply --team 1
# Made by hand: a project, and an extra deployment inside a declared project.
sim_post /teams/1/create_project '{"projectName":"manual"}' >/dev/null
shop=$(sim_state | jq '.projects[] | select(.name == "shop") | .id')
sim_post "/projects/$shop/create_deployment" '{"type":"dev","reference":"by-hand"}' >/dev/null

# Now the files drop one of our projects and one of our deployments.
desired a.yaml <<'YAML'
projects:
  - name: shop
    deployments:
      - reference: staging
        type: dev
YAML

# none: nothing is deleted, nothing planned.
cp_expect 0 plan --team 1 --prune none --json
assert_eq "$(json_field '.summary.delete')" 0 "prune none plans no delete"

# owned: only what the ledger says we created.
cp_expect 2 plan --team 1 --prune owned --json
assert_eq "$(json_field '[.actions[] | select(.op == "delete")] | map(.kind + ":" + (.reference // .project)) | sort | join(",")')" \
    "deployment:review-1,project:ours-later-removed" "owned deletes"
cp_expect 0 apply --team 1 --prune owned
assert_eq "$(live_projects_named ours-later-removed)" 0 "owned project pruned"
assert_eq "$(live_projects_named manual)" 1 "manual project kept under owned"
assert_eq "$(sim_state | jq '[.deployments[] | select(.reference == "by-hand")] | length')" 1 "manual deployment kept under owned"
cp_expect 0 plan --team 1 --prune owned

# all: everything undeclared goes.
cp_expect 2 plan --team 1 --prune all --json
assert_eq "$(json_field '.summary.delete')" 2 "prune all deletes"
cp_expect 0 apply --team 1 --prune all
assert_eq "$(live_projects_named manual)" 0 "manual project pruned under all"
assert_eq "$(sim_state | jq '[.deployments[] | select(.reference == "by-hand")] | length')" 0 "manual deployment pruned"
assert_eq "$(live_projects)" 1 "only shop left"
cp_expect 0 plan --team 1 --prune all
echo "all reconcile_prune checks passed"
