#!/usr/bin/env bash
# End to end, SPEC section 9: default environment variables (set, change,
# remove, all of a project's changes in one request, a listing of several
# pages), custom domains (add, remove, pending verification), deploy keys
# (created once, the secret in a 0600 file under keys_dir, a person's key
# never deleted, a lost file reported blocked and never replaced, a lost
# create answer replaced), and a
# fault on each new route: nothing is done on a partial view, and the next
# apply converges.
set -eu
. "$CP_SOURCE_DIR/tests/e2e/lib.sh"
. "$CP_SOURCE_DIR/tests/e2e/cp.sh"
sim_start --seed 12

SECRET_A=e2e-env-secret-a-71c3
SECRET_B=e2e-env-secret-b-92d4
printf '%s\n' "$SECRET_B" >"$CP_WORK/stripe"
KEYS=$CP_STATE/keys

route_knob() {
	curl -sS --max-time 20 -X POST --data-binary "{\"routes\":{\"$1\":$2}}" \
	    "$SIM_BASE/_sim/config" >/dev/null
}
req_count() { sim_stats | jq --arg r "$1" '[.requests[$r] // {} | .[]] | add // 0'; }
state_digest() { sim_state | jq -S 'del(.version)' | sha256sum | cut -d' ' -f1; }
person_post() { _sim_curl -H 'X-Sim-Actor: person' -X POST --data-binary "$2" "$SIM_URL$1"; }
prod_name() { sim_state | jq -r '.deployments[] | select(.reference == "production") | .name'; }
env_of() { sim_state | jq -r --arg t "$1" --arg n "$2" '.projects[0].env[] | select(.deploymentType == $t and .name == $n) | .value'; }
domains() { sim_state | jq -r '[.deployments[] | select(.reference == "production") | .customDomains[].domain] | sort | join(" ")'; }
keys() { sim_state | jq -r '[.deployments[] | select(.reference == "production") | .deployKeys[].name] | sort | join(" ")'; }

write_desired() {
	desired shop.yaml <<YAML
projects:
  - name: shop
    env:
      prod:
        SITE_URL: $1
        STRIPE_KEY: {file: $CP_WORK/stripe}
        API_TOKEN: $SECRET_A
$2
      dev:
        SITE_URL: http://localhost:3000
    deployments:
      - reference: production
        type: prod
        domains:
$3
        deploy_keys: [$4]
YAML
}

# 1. Everything from nothing: the env of the new project waits for it,
#    the domains and the key for the new deployment.
write_desired https://shop.example.com "" \
    "          - {domain: api.shop.example.com, destination: convexCloud}
          - {domain: hooks.shop.example.com, destination: convexSite}" ci
cp_expect 2 plan --team 1
echo "$CP_OUT" | grep -qx '+ env shop prod STRIPE_KEY' || e2e_fail "no env line: $CP_OUT"
echo "$CP_OUT" | grep -q '^+ create domain "shop/production" api.shop.example.com (convexCloud)$' ||
    e2e_fail "no domain line: $CP_OUT"
echo "$CP_OUT" | grep -q '^+ create deploy key "shop/production" ci$' || e2e_fail "no key line: $CP_OUT"
cp_expect 0 apply --team 1 --json
assert_eq "$(json_field '[.actions[] | select(.result == "ok")] | length')" 6 "ok actions"
assert_eq "$(env_of prod STRIPE_KEY)" "$SECRET_B" "value from {file:} (one newline removed)"
assert_eq "$(env_of prod API_TOKEN)" "$SECRET_A" "literal value"
assert_eq "$(env_of dev SITE_URL)" "http://localhost:3000" "dev value"
assert_eq "$(req_count 'POST /projects/{id}/update_default_environment_variables')" 1 "one env request"
assert_eq "$(domains)" "api.shop.example.com hooks.shop.example.com" "domains created"
assert_eq "$(keys)" "ci" "key created"

# The key's secret: in its file, 0600 in folders 0700, and in the ledger by name only.
f=$KEYS/shop/production/ci
[ -f "$f" ] || e2e_fail "no key file at $f: $(find "$CP_STATE" | sort)"
assert_eq "$(stat -c %a "$f")" 600 "key file mode"
for d in "$KEYS" "$KEYS/shop" "$KEYS/shop/production"; do
	assert_eq "$(stat -c %a "$d")" 700 "mode of $d"
done
grep -Eq '^prod:[a-z]+-[a-z]+-[0-9]+\|eyJ2MiI6I' "$f" || e2e_fail "the file does not hold a deploy key"
assert_eq "$(wc -l <"$f")" 0 "no newline after the secret"
assert_eq "$(jq -c '.deployKeys' "$CP_STATE/ledger.json")" \
    "[{\"deployment\":\"$(prod_name)\",\"name\":\"ci\"}]" "ledger key"

# 2. Converged: nothing to do, the two unverified domains shown pending
#    until verified.
cp_expect 0 plan --team 1 --json
assert_eq "$(json_field '.actions | length')" 0 "actions when converged"
assert_eq "$(json_field '[.pending_domains[].domain] | join(" ")')" "api.shop.example.com hooks.shop.example.com" "pending"
curl -sS -X POST --data-binary '{"domain":"api.shop.example.com"}' "$SIM_BASE/_sim/verify_domain" >/dev/null
cp_expect 0 plan --team 1
echo "$CP_OUT" | grep -q '^? pending domain "shop/production" hooks.shop.example.com (convexSite): not verified yet$' ||
    e2e_fail "pending line: $CP_OUT"
echo "$CP_OUT" | grep -q 'api.shop.example.com' && e2e_fail "a verified domain shown pending: $CP_OUT"

# 3. Change one value, remove one name, add one (in dev too), and a
#    variable a person set under a declared type goes; all in one request.
person_post "/projects/$(sim_state | jq '.projects[0].id')/update_default_environment_variables" \
    '{"changes":[{"deploymentType":"prod","name":"BY_HAND","value":"x1"},{"deploymentType":"preview","name":"KEEP","value":"x2"}]}' >/dev/null
desired shop.yaml <<YAML
projects:
  - name: shop
    env:
      prod:
        SITE_URL: https://www.shop.example.com
        API_TOKEN: $SECRET_A
      dev:
        SITE_URL: http://localhost:3000
        DEBUG: "1"
    deployments:
      - reference: production
        type: prod
        domains:
          - {domain: hooks.shop.example.com, destination: convexSite}
          - {domain: new.shop.example.com, destination: convexCloud}
        deploy_keys: [ci]
YAML
cp_expect 2 plan --team 1
for line in '+ env shop dev DEBUG' '- env shop prod BY_HAND' '~ env shop prod SITE_URL (value changed)' \
    '- env shop prod STRIPE_KEY'; do
	echo "$CP_OUT" | grep -qxF -e "$line" || e2e_fail "missing \"$line\": $CP_OUT"
done
echo "$CP_OUT" | grep -q 'KEEP' && e2e_fail "an undeclared type was touched: $CP_OUT"
before=$(req_count 'POST /projects/{id}/update_default_environment_variables')
cp_expect 0 apply --team 1
assert_eq "$(( $(req_count 'POST /projects/{id}/update_default_environment_variables') - before ))" 1 "one request for four changes"
assert_eq "$(env_of prod SITE_URL)" https://www.shop.example.com "changed"
assert_eq "$(env_of prod STRIPE_KEY)" "" "removed"
assert_eq "$(env_of prod BY_HAND)" "" "a person's variable under a declared type removed"
assert_eq "$(env_of preview KEEP)" x2 "an undeclared type left alone"
assert_eq "$(env_of dev DEBUG)" 1 "added"
assert_eq "$(domains)" "hooks.shop.example.com new.shop.example.com" "domain removed and added"
cp_expect 0 plan --team 1

# 4. A key made by a person is never deleted, whatever prune says; ours
#    goes (with its file) only when undeclared and prune allows it.
person_post "/deployments/$(prod_name)/create_deploy_key" '{"name":"persons"}' >/dev/null
sed -i 's/deploy_keys: \[ci\]/deploy_keys: []/' "$CP_DESIRED/shop.yaml"
cp_expect 0 plan --team 1 --prune none
cp_expect 0 apply --team 1 --prune none
assert_eq "$(keys)" "ci persons" "prune none keeps both"
cp_expect 2 plan --team 1 --prune all
echo "$CP_OUT" | grep -q '^- delete deploy key "shop/production" ci (' || e2e_fail "no key delete: $CP_OUT"
echo "$CP_OUT" | grep -q persons && e2e_fail "a person's key in the plan: $CP_OUT"
cp_expect 0 apply --team 1 --prune all
assert_eq "$(keys)" "persons" "ours deleted, the person's kept"
[ -e "$f" ] && e2e_fail "the deleted key's file is still there"
assert_eq "$(jq -c '.deployKeys' "$CP_STATE/ledger.json")" "[]" "ledger forgets the key"
cp_expect 0 apply --team 1 --prune all
assert_eq "$(keys)" "persons" "the person's key survives a second prune"

# 5. A lost secret file: blocked (plan 2, apply 3), never recreated, the
#    way out in the message; after the key is deleted, apply makes a new one.
sed -i 's/deploy_keys: \[\]/deploy_keys: [ci]/' "$CP_DESIRED/shop.yaml"
cp_expect 0 apply --team 1
[ -f "$f" ] || e2e_fail "key file not written again"
id=$(sim_state | jq '.deployments[] | select(.reference == "production") | .deployKeys[] | select(.name == "ci") | .id')
rm "$f"
cp_expect 2 plan --team 1
echo "$CP_OUT" | grep -q '^! blocked key_file_missing: deploy key "ci" of "shop/production"' ||
    e2e_fail "not blocked: $CP_OUT"
echo "$CP_OUT" | grep -q 'docs/recovery.md' || e2e_fail "no way out named: $CP_OUT"
cp_expect 3 apply --team 1
assert_eq "$(sim_state | jq '.deployments[] | select(.reference == "production") | .deployKeys[] | select(.name == "ci") | .id')" \
    "$id" "the key was not replaced"
[ -e "$f" ] && e2e_fail "a file appeared for a key whose secret is lost"
person_post "/deployments/$(prod_name)/delete_deploy_key" '{"id":"ci"}' >/dev/null
cp_expect 0 apply --team 1
[ -f "$f" ] || e2e_fail "no file for the new key"

# 6. A fault on each new route. A failing listing: exit 1, the failing
#    route named, nothing at all changed (the env change of the same plan
#    included); once the fault is gone, one apply converges.
sed -i 's#SITE_URL: https://www.shop.example.com#SITE_URL: https://fault.shop.example.com#' "$CP_DESIRED/shop.yaml"
for route in 'GET /projects/{id}/list_default_environment_variables' \
    'GET /deployments/{name}/custom_domains' 'GET /deployments/{name}/list_deploy_keys'; do
	route_knob "$route" '{"errorRate":1}'
	d0=$(state_digest)
	cp_expect 1 apply --team 1
	echo "$CP_ERR" | grep -q "observation failed" || e2e_fail "$route: no observation error: $CP_ERR"
	echo "$CP_ERR" | grep -q "HTTP 5" || e2e_fail "$route: no status: $CP_ERR"
	assert_eq "$(state_digest)" "$d0" "$route: nothing changed on a partial view"
	route_knob "$route" null
done
cp_expect 0 apply --team 1
assert_eq "$(env_of prod SITE_URL)" https://fault.shop.example.com "converged after the listing faults"

# The env listing across pages: 130 variables, page 2 failing.
{
	echo "projects:"
	echo "  - name: shop"
	echo "    env:"
	echo "      prod:"
	for i in $(seq 1 100); do echo "        P_$i: p$i"; done
	echo "      dev:"
	for i in $(seq 1 30); do echo "        D_$i: d$i"; done
	echo "    deployments:"
	echo "      - reference: production"
	echo "        type: prod"
} | desired shop.yaml
cp_expect 0 apply --team 1
assert_eq "$(sim_state | jq '.projects[0].env | length')" 131 "130 variables (and preview KEEP)"
route_knob 'GET /projects/{id}/list_default_environment_variables' '{"failPage":{"page":2}}'
sed -i 's/P_7: p7/P_7: p7-changed/' "$CP_DESIRED/shop.yaml"
d0=$(state_digest)
cp_expect 1 plan --team 1
cp_expect 1 apply --team 1
assert_eq "$(state_digest)" "$d0" "a failed second page changes nothing"
route_knob 'GET /projects/{id}/list_default_environment_variables' null
cp_expect 2 plan --team 1 --json
assert_eq "$(json_field '[.actions[] | select(.kind == "env") | .changes[]] | length')" 1 "one change across pages"
cp_expect 0 apply --team 1
assert_eq "$(env_of prod P_7)" p7-changed "changed across pages"

# A failing write: exit 1 (retried, or never resent for a create); the
# next apply converges without a duplicate.
write_desired https://after.shop.example.com "" \
    "          - {domain: w1.shop.example.com, destination: convexCloud}" ""
route_knob 'POST /projects/{id}/update_default_environment_variables' '{"errorAfterRate":1}'
route_knob 'POST /deployments/{name}/create_custom_domain' '{"errorAfterRate":1}'
route_knob 'POST /deployments/{name}/delete_custom_domain' '{"errorRate":1}'
cp_expect 1 apply --team 1 --json
assert_eq "$(json_field '[.actions[] | select(.result == "error")] | length')" 4 "four failed writes"
assert_eq "$(json_field '[.actions[] | select(.kind == "domain" and .op == "create")][0].ambiguous')" true "ambiguous domain create"
for r in 'POST /projects/{id}/update_default_environment_variables' 'POST /deployments/{name}/create_custom_domain' \
    'POST /deployments/{name}/delete_custom_domain'; do
	route_knob "$r" null
done
cp_expect 0 apply --team 1
assert_eq "$(domains)" "w1.shop.example.com" "domains converged, no duplicate"
assert_eq "$(sim_state | jq '.projects[0].env | length')" 5 "env converged"
cp_expect 0 plan --team 1

# A create_deploy_key whose answer is lost: the key exists, its secret is
# gone, and the intent of the create (SPEC section 11) proves it is ours: it
# is deleted and created again, never made twice (tests/e2e/reconcile_adopt.sh
# has the rest); a delete that fails is retried next time.
sed -i 's/deploy_keys: \[\]/deploy_keys: [ci, nightly]/' "$CP_DESIRED/shop.yaml"
route_knob 'POST /deployments/{name}/create_deploy_key' '{"errorAfterRate":1}'
cp_expect 1 apply --team 1
route_knob 'POST /deployments/{name}/create_deploy_key' null
cp_expect 2 plan --team 1
echo "$CP_OUT" | grep -q '^- delete deploy key "shop/production" nightly (' || e2e_fail "lost answer not replaced: $CP_OUT"
echo "$CP_OUT" | grep -q '^+ create deploy key "shop/production" nightly$' || e2e_fail "lost answer not replaced: $CP_OUT"
echo "$CP_OUT" | grep -q 'blocked key_file_missing' && e2e_fail "a key of ours blocked: $CP_OUT"
assert_eq "$(sim_state | jq '[.deployments[] | select(.reference == "production") | .deployKeys[] | select(.name == "nightly")] | length')" 1 "nightly once"
cp_expect 0 apply --team 1
assert_eq "$(sim_state | jq '[.deployments[] | select(.reference == "production") | .deployKeys[] | select(.name == "nightly")] | length')" 1 "nightly once, replaced"
[ -f "$KEYS/shop/production/nightly" ] || e2e_fail "no file for the replaced key"
cp_expect 0 plan --team 1
sed -i 's/deploy_keys: \[ci, nightly\]/deploy_keys: [nightly]/' "$CP_DESIRED/shop.yaml"
route_knob 'POST /deployments/{name}/delete_deploy_key' '{"errorRate":1}'
cp_expect 1 apply --team 1 --prune owned
assert_eq "$(keys)" "ci nightly persons" "failed delete"
route_knob 'POST /deployments/{name}/delete_deploy_key' null
cp_expect 0 apply --team 1 --prune owned
assert_eq "$(keys)" "nightly persons" "delete converged"
cp_expect 0 plan --team 1 --prune owned
echo "all reconcile_extras checks passed"
