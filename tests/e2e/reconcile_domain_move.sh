#!/usr/bin/env bash
# End to end, SPEC section 9: a custom domain is one name in the whole team,
# so one moved from a deployment to another in one edit must be deleted
# before it is created again (the API refuses the create while the old entry
# exists). Moved between two live deployments, to a deployment created in
# the same apply (the delete waits for that create), off a deployment deleted
# in the same apply, onto a deployment renamed in the same edit, off a
# deployment prune deletes, off a project declared absent and off one prune
# deletes, to a new deployment off a pruned one: each time one apply exits 0 and the next plan is empty. Found by
# the random schedules (seeds 786, 5477 and 83, known failure g).
set -eu
. "$CP_SOURCE_DIR/tests/e2e/lib.sh"
. "$CP_SOURCE_DIR/tests/e2e/cp.sh"
sim_start --seed 5 --verbose

domain_of() { sim_state | jq -r --arg r "$1" '[.deployments[] | select(.reference == $r) | .customDomains[].domain] | sort | join(" ")'; }
log_line() { sim_log | grep -n -- "$1" | tail -1 | cut -d: -f1; }

write_desired() {
	desired shop.yaml <<YAML
projects:
  - name: shop
    deployments:
      - reference: production
        type: prod
        domains: [$1]
      - reference: staging
        type: dev
        domains: [$2]
$3
YAML
}
D='{domain: api.shop.example.com, destination: convexCloud}'

write_desired "$D" "" ""
cp_expect 0 apply --team 1
assert_eq "$(domain_of production)" api.shop.example.com "created on production"

# 1. Between two live deployments.
write_desired "" "$D" ""
cp_expect 0 apply --team 1
assert_eq "$(domain_of production)" "" "gone from production"
assert_eq "$(domain_of staging)" api.shop.example.com "moved to staging"
del=$(log_line 'delete_custom_domain -> 200')
add=$(log_line 'create_custom_domain -> 200')
[ -n "$del" ] && [ -n "$add" ] && [ "$del" -lt "$add" ] ||
    e2e_fail "the create was not sent after the delete (delete line $del, create line $add)"
cp_expect 0 plan --team 1

# 2. To a deployment created in the same apply.
write_desired "" "" "      - reference: blue
        type: dev
        domains: [$D]"
cp_expect 2 plan --team 1 --json
assert_eq "$(json_field '[.actions[] | select(.kind == "domain")] | map(.op) | join(" ")')" "delete create" "delete then create"
cp_expect 0 apply --team 1
assert_eq "$(domain_of staging)" "" "gone from staging"
assert_eq "$(domain_of blue)" api.shop.example.com "moved to the new deployment"
cp_expect 0 plan --team 1

# 3. Off a deployment deleted in the same apply (state: absent): the create
#    waits for that delete (random schedules, seed 5477).
desired shop.yaml <<YAML
projects:
  - name: shop
    deployments:
      - reference: production
        type: prod
        domains: [$D]
      - reference: staging
        type: dev
        domains: []
      - reference: blue
        type: dev
        state: absent
YAML
cp_expect 0 apply --team 1
assert_eq "$(domain_of production)" api.shop.example.com "moved back to production"
assert_eq "$(sim_state | jq '[.deployments[] | select(.reference == "blue")] | length')" 0 "blue deleted"
cp_expect 0 plan --team 1

# 4. A deployment renamed in the edit that gives it a domain: both in one
#    apply (random schedules, seed 83).
desired shop.yaml <<YAML
projects:
  - name: shop
    deployments:
      - reference: production
        type: prod
        domains: []
      - reference: main
        type: dev
        renamed_from: [staging]
        domains: [$D]
YAML
cp_expect 0 apply --team 1
assert_eq "$(domain_of main)" api.shop.example.com "on the renamed deployment"
cp_expect 0 plan --team 1

# 5. Off a deployment prune deletes (no longer in the files, created by
#    this tool): its domains are listed, the create waits for the delete
#    (random schedules, known failure g: refused once before).
desired shop.yaml <<YAML
projects:
  - name: shop
    deployments:
      - reference: production
        type: prod
        domains: [$D]
YAML
cp_expect 0 apply --team 1 --prune owned
assert_eq "$(domain_of production)" api.shop.example.com "moved off the pruned deployment"
assert_eq "$(sim_state | jq '[.deployments[] | select(.reference == "main")] | length')" 0 "main pruned"
cp_expect 0 plan --team 1 --prune owned

# 6. Off a deployment of a project declared absent, then (7) off one of a
#    project prune deletes: the create waits for the project's delete.
write_blog() {
	desired shop.yaml <<YAML
projects:
  - name: shop
    deployments:
      - reference: production
        type: prod
        domains: [$1]
$2
YAML
}
write_blog "" "  - name: blog
    deployments:
      - reference: web
        type: prod
        domains: [$D]"
cp_expect 0 apply --team 1
assert_eq "$(domain_of web)" api.shop.example.com "on blog/web"
write_blog "$D" "  - name: blog
    state: absent"
cp_expect 0 apply --team 1
assert_eq "$(domain_of production)" api.shop.example.com "moved off the absent project"
assert_eq "$(sim_state | jq '[.projects[] | select(.name == "blog")] | length')" 0 "blog deleted"
cp_expect 0 plan --team 1
write_blog "" "  - name: blog
    deployments:
      - reference: web
        type: prod
        domains: [$D]"
cp_expect 0 apply --team 1
assert_eq "$(domain_of web)" api.shop.example.com "on blog/web again"
# Off a project prune deletes (one, within max_deletes: its deployments'
# domains are listed; with more than max_deletes such projects the guard
# holds every delete and they are not).
write_blog "$D" ""
cp_expect 0 apply --team 1 --prune owned
assert_eq "$(domain_of production)" api.shop.example.com "moved off the pruned project"
assert_eq "$(sim_state | jq '[.projects[] | select(.name == "blog")] | length')" 0 "blog pruned"
cp_expect 0 plan --team 1 --prune owned

# 8. To a deployment created in the same apply, off one prune deletes: the
#    delete waits for that create, the domain's create for the delete
#    (random schedules, seed 41011: refused once before).
desired shop.yaml <<YAML
projects:
  - name: shop
    deployments:
      - reference: green
        type: dev
        domains: [$D]
YAML
cp_expect 0 apply --team 1 --prune owned
assert_eq "$(domain_of green)" api.shop.example.com "moved to the new deployment off the pruned one"
assert_eq "$(sim_state | jq '[.deployments[] | select(.reference == "production")] | length')" 0 "production pruned"
cp_expect 0 plan --team 1 --prune owned
# 9. The domains of a project prune deletes are listed only while at most
#    max_deletes projects are to be pruned (with more, the guard holds every
#    delete; random schedules, seed 90352): one listing more with room for
#    the delete than without.
write_blog "" "  - name: blog
    deployments:
      - reference: web
        type: prod"
cp_expect 0 apply --team 1 --prune owned
write_blog "" ""
listings() { sim_stats | jq '[(.requests["GET /deployments/{name}/custom_domains"] // {})[]] | add // 0'; }
n0=$(listings)
cp_expect 2 plan --team 1 --prune owned --max-deletes 0
n1=$(listings)
cp_expect 2 plan --team 1 --prune owned --max-deletes 10
n2=$(listings)
assert_eq "$((n2 - n1 - (n1 - n0)))" 1 "the pruned project's deployment listed only within max_deletes"
echo "all reconcile_domain_move checks passed"
