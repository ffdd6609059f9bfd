#!/usr/bin/env bash
# End to end: converge from an empty team, then nothing to do; state: absent;
# a changed class is corrected (drift: report only shows it); the audit
# trail and the ledger.
set -eu
. "$CP_SOURCE_DIR/tests/e2e/lib.sh"
. "$CP_SOURCE_DIR/tests/e2e/cp.sh"
sim_start --seed 1

desired shop.yaml <<'YAML'
projects:
  - name: shop
    deployments:
      - reference: production
        type: prod
        default: true
        class: s256
      - reference: staging
        type: dev
  - name: blog
    deployments:
      - reference: live
        type: prod
        region: aws-eu-west-1
YAML
desired more/tools.yaml <<'YAML'
projects:
  - name: tools
YAML

# 1. A plan on the empty team: 3 projects and 3 deployments to create, exit 2.
cp_expect 2 plan --team 1 --json
assert_eq "$(json_field .summary.create)" 6 "planned creates"
assert_eq "$(json_field '.actions[0].op + " " + .actions[0].kind')" "create project" "first action"
assert_eq "$(sim_stats | jq '.creates.project // 0')" 0 "plan creates nothing"

# 2. apply converges: exit 0, every action ok.
cp_expect 0 apply --team 1 --json
assert_eq "$(json_field '[.actions[] | select(.result == "ok")] | length')" 6 "ok actions"
assert_eq "$(live_projects)" 3 "live projects"
assert_eq "$(live_deployments)" 3 "live deployments"
assert_eq "$(sim_state | jq -r '.deployments[] | select(.reference == "live") | .region')" aws-eu-west-1 "region sent"
assert_eq "$(sim_state | jq -r '.deployments[] | select(.reference == "production") | .class')" s256 "class sent"

# 3. A second plan has nothing to do: exit 0, no action.
cp_expect 0 plan --team 1 --json
assert_eq "$(json_field '.actions | length')" 0 "actions after converge"
cp_expect 0 apply --team 1
assert_eq "$(sim_stats | jq '.creates.project')" 3 "no duplicate project creates"

# 4. The ledger names what we created; the audit trail has one line each.
assert_eq "$(jq '.projects | length' "$CP_STATE/ledger.json")" 3 "ledger projects"
assert_eq "$(jq '.deployments | length' "$CP_STATE/ledger.json")" 3 "ledger deployments"
assert_eq "$(wc -l <"$CP_STATE/actions.jsonl")" 6 "audit lines"
jq -e 'select(.result != "ok")' "$CP_STATE/actions.jsonl" >/dev/null && e2e_fail "an audit line is not ok"

# 5. Someone changes a class by hand. With drift: report, plan reports it
#    (exit 0) and apply leaves it; by default (correct) plan shows the
#    update (exit 2) and apply changes it back in place (SPEC section 8).
name=$(sim_state | jq -r '.deployments[] | select(.reference == "production") | .name')
sim_patch "/deployments/$name" '{"class":"d1024"}' >/dev/null
cp_expect 0 plan --team 1 --json --drift report
assert_eq "$(json_field '.drift[0].field + ":" + .drift[0].want + ":" + .drift[0].have')" "class:s256:d1024" "drift"
cp_expect 0 apply --team 1 --drift report
assert_eq "$(sim_state | jq -r '.deployments[] | select(.reference == "production") | .class')" d1024 "drift left alone"
cp_run plan --team 1 --drift report
echo "$CP_OUT" | grep -q '^~ drift ' || e2e_fail "text plan shows no drift line: $CP_OUT"
cp_expect 2 plan --team 1 --json
assert_eq "$(json_field '.actions[0].op + " " + .actions[0].changes.class.from + " " + .actions[0].changes.class.to')" \
    "update d1024 s256" "update planned"
cp_expect 0 apply --team 1
assert_eq "$(sim_state | jq -r '.deployments[] | select(.reference == "production") | .class')" s256 "class corrected"
cp_expect 0 plan --team 1

# 6. state: absent deletes the project, whatever prune says.
desired more/tools.yaml <<'YAML'
projects:
  - name: tools
    state: absent
YAML
cp_expect 2 plan --team 1 --json
assert_eq "$(json_field '.actions[0].op + " " + .actions[0].project')" "delete tools" "absent planned"
cp_expect 0 apply --team 1
assert_eq "$(live_projects_named tools)" 0 "absent project deleted"
assert_eq "$(live_projects)" 2 "others kept"
cp_expect 0 plan --team 1

# 7. apply takes the state folder's lock (as run does); plan does not.
exec 9>"$CP_STATE/lock"
flock -n 9 || e2e_fail "cannot take the lock for the test"
cp_expect 1 apply --team 1
echo "$CP_ERR" | grep -q "holds $CP_STATE/lock" || e2e_fail "lock error not named: $CP_ERR"
cp_expect 0 plan --team 1
exec 9>&-
cp_expect 0 apply --team 1

# 8. Team discovery: no --team, one GET /token_details, same answer.
cp_expect 0 plan --json
echo "all reconcile_basic checks passed"
