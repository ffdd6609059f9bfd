#!/usr/bin/env bash
# End to end: the guards empty_desired, max_deletes, protected and conflict.
set -eu
. "$CP_SOURCE_DIR/tests/e2e/lib.sh"
. "$CP_SOURCE_DIR/tests/e2e/cp.sh"
sim_start --seed 3

for p in one two three; do
	sim_post /teams/1/create_project "{\"projectName\":\"$p\"}" >/dev/null
done

# empty_desired: nothing declared + prune all => no deletes, exit 3.
cp_expect 3 apply --team 1 --prune all --json
assert_eq "$(json_field '.blocked[0].guard')" empty_desired "guard"
assert_eq "$(live_projects)" 3 "nothing deleted"
cp_expect 2 plan --team 1 --prune all

# max_deletes: declare something so empty_desired is out of the way.
desired keep.yaml <<'YAML'
projects:
  - name: keep
YAML
cp_expect 3 apply --team 1 --prune all --max-deletes 2 --json
assert_eq "$(json_field '[.blocked[] | .guard] | join(",")')" max_deletes "guard"
assert_eq "$(live_projects_named keep)" 1 "creates still happen under max_deletes"
assert_eq "$(live_projects)" 4 "no delete under max_deletes"
echo "$CP_OUT" | jq -e '.blocked[0].message | test("3 deletes planned, at most 2 allowed")' >/dev/null ||
	e2e_fail "max_deletes message: $CP_OUT"

# allow_empty lets an empty desired state prune (and max_deletes still counts).
rm "$CP_DESIRED/keep.yaml"
cp_expect 0 apply --team 1 --prune all --allow-empty
assert_eq "$(live_projects)" 0 "allow_empty pruned everything"

# protected: declared with protect, then removed from the files entirely.
desired p.yaml <<'YAML'
projects:
  - name: precious
    protect: true
    deployments:
      - reference: data
        type: prod
        protect: true
  - name: other
YAML
cp_expect 0 apply --team 1
desired p.yaml <<'YAML'
projects:
  - name: other
YAML
cp_expect 3 apply --team 1 --prune all --json
assert_eq "$(json_field '[.blocked[] | .guard] | unique | join(",")')" protected "protected guard"
assert_eq "$(live_projects_named precious)" 1 "protected project kept"

# conflict: two live projects with one declared name: nothing is done to it.
sim_post /teams/1/create_project '{"projectName":"twin"}' >/dev/null
sim_post /teams/1/create_project '{"projectName":"twin"}' >/dev/null
desired p.yaml <<'YAML'
projects:
  - name: other
  - name: twin
    deployments:
      - reference: staging
        type: dev
YAML
cp_expect 2 plan --team 1 --json
assert_eq "$(json_field '[.blocked[] | select(.guard == "conflict")] | length')" 1 "conflict reported"
assert_eq "$(json_field '[.actions[] | select(.project == "twin")] | length')" 0 "nothing planned for twin"
cp_expect 3 apply --team 1
assert_eq "$(live_projects_named twin)" 2 "no create, no delete for twin"
assert_eq "$(sim_state | jq '[.deployments[] | select(.reference == "staging")] | length')" 0 "no deployment for twin"
# protect declared while the API cannot be reached: the mark is recorded
# before the observation fails, so the project declared absent (the mark
# dropped with its deployments in the same edit) is kept (random schedules,
# seed 60611).
desired p.yaml <<'YAML'
projects:
  - name: other
  - name: vault
    deployments:
      - reference: green
        type: dev
YAML
cp_expect 0 apply --team 1
desired p.yaml <<'YAML'
projects:
  - name: other
  - name: vault
    deployments:
      - reference: green
        type: dev
        protect: true
YAML
curl -sS --max-time 60 -X POST "$SIM_BASE/_sim/config" \
    --data-binary '{"routes": {"GET /teams/{team}/projects": {"errorRate": 1}}}' >/dev/null
cp_expect 1 apply --team 1
curl -sS --max-time 60 -X POST "$SIM_BASE/_sim/config" \
    --data-binary '{"routes": {"GET /teams/{team}/projects": null}}' >/dev/null
assert_eq "$(jq -r '[.deployments[] | select(.reference == "green") | .protect | tostring] | join(",")' "$CP_STATE/ledger.json")" true \
    "mark recorded though the observation failed"
desired p.yaml <<'YAML'
projects:
  - name: other
  - name: vault
    state: absent
YAML
cp_expect 3 apply --team 1 --json
assert_eq "$(json_field '[.blocked[] | .guard] | unique | join(",")')" protected "protected guard"
assert_eq "$(live_projects_named vault)" 1 "the project holding a protected deployment is kept"
echo "all reconcile_guards checks passed"
