#!/usr/bin/env bash
# End to end, SPEC section 11 for the resources of section 9: the answer of
# a custom domain create and of a deploy key create is lost (the simulator
# acts, then drops the connection or answers 5xx). The next run adopts the
# domain (no second create, no conflict) and replaces the key, which is
# ours (its create's intent says so) but whose secret nobody holds: deleted
# and created again exactly once, the new secret in its 0600 file. A
# person's key of the same name, with no intent, stays untouched and
# blocked. Then the key's file follows renames of its project and of its
# deployment (SPEC section 8).
set -eu
. "$CP_SOURCE_DIR/tests/e2e/lib.sh"
. "$CP_SOURCE_DIR/tests/e2e/cp.sh"
sim_start --seed 31

KEYS=$CP_STATE/keys
INTENTS=$CP_STATE/intents.jsonl

route_knob() {
	curl -sS --max-time 20 -X POST --data-binary "{\"routes\":{\"$1\":$2}}" \
	    "$SIM_BASE/_sim/config" >/dev/null
}
req_count() { sim_stats | jq --arg r "$1" '[.requests[$r] // {} | .[]] | add // 0'; }
person_post() { _sim_curl -H 'X-Sim-Actor: person' -X POST --data-binary "$2" "$SIM_URL$1"; }
dep_name() { sim_state | jq -r --arg r "$1" '.deployments[] | select(.reference == $r) | .name'; }
# key_field REF KEY FIELD: a field of a live deploy key (empty if none).
key_field() {
	sim_state | jq -r --arg r "$1" --arg k "$2" --arg f "$3" \
	    '[.deployments[] | select(.reference == $r) | (.deployKeys // [])[] | select(.name == $k) | .[$f]] | .[0] // empty'
}
key_count() {
	sim_state | jq --arg r "$1" --arg k "$2" \
	    '[.deployments[] | select(.reference == $r) | (.deployKeys // [])[] | select(.name == $k)] | length'
}
domain_count() {
	sim_state | jq --arg d "$1" '[.deployments[] | (.customDomains // [])[] | select(.domain == $d)] | length'
}
# The secret in a key file hashes to the live key's secretHash (the
# simulator keeps the SHA-256 of the token part, after the '|').
secret_matches() {
	local token hash
	token=$(cut -d'|' -f2- <"$1")
	hash=$(printf '%s' "$token" | sha256sum | cut -d' ' -f1)
	[ "$hash" = "$(key_field "$2" "$3" secretHash)" ]
}

write_desired() {   # PROJECT PROJECT_RENAMED_FROM PROD_REF PROD_RENAMED_FROM
	desired shop.yaml <<YAML
projects:
  - name: $1
$2
    deployments:
      - reference: $3
$4
        type: prod
        domains:
          - {domain: api.shop.example.com, destination: convexCloud}
        deploy_keys: [ci]
      - reference: staging
        type: dev
        deploy_keys: [ci]
YAML
}

# 1. The project and its deployments, without domains or keys yet.
desired shop.yaml <<YAML
projects:
  - name: shop
    deployments:
      - {reference: production, type: prod}
      - {reference: staging, type: dev}
YAML
cp_expect 0 apply --team 1
PROD=$(dep_name production)
STAGING=$(dep_name staging)

# A person's key named "ci" on staging: no intent, no file, not ours.
person_post "/deployments/$STAGING/create_deploy_key" '{"name":"ci"}' >/dev/null
person_id=$(key_field staging ci id)
[ -n "$person_id" ] || e2e_fail "the person's key was not made"

# 2. The domain's create answer is dropped, the key's answered 502: both
#    made by the API, neither answer seen. Their intents stay.
write_desired shop "" production ""
route_knob 'POST /deployments/{name}/create_custom_domain' '{"dropAfterRate":1}'
route_knob 'POST /deployments/{name}/create_deploy_key' '{"errorAfterRate":1}'
cp_expect 1 apply --team 1 --json
assert_eq "$(json_field '[.actions[] | select(.result == "error" and .op == "create")] | length')" 2 "two lost creates"
route_knob 'POST /deployments/{name}/create_custom_domain' null
route_knob 'POST /deployments/{name}/create_deploy_key' null
assert_eq "$(jq -sc '[.[] | select(.kind == "domain" or .kind == "deploy_key") | [.kind, .deployment, .name]] | sort' "$INTENTS")" \
    "[[\"deploy_key\",\"$PROD\",\"ci\"],[\"domain\",\"$PROD\",\"api.shop.example.com\"]]" "open intents after the lost answers"
assert_eq "$(domain_count api.shop.example.com)" 1 "the domain was made"
assert_eq "$(key_count production ci)" 1 "the key was made"
[ -e "$KEYS/shop/production/ci" ] && e2e_fail "a secret file for a key whose answer was lost"
lost_id=$(key_field production ci id)
domain_creates=$(req_count 'POST /deployments/{name}/create_custom_domain')
key_creates=$(req_count 'POST /deployments/{name}/create_deploy_key')
key_deletes=$(req_count 'POST /deployments/{name}/delete_deploy_key')

# 3. plan: the domain is adopted (nothing to create, no conflict), our key
#    is replaced, the person's key of the same name is only reported.
cp_expect 2 plan --team 1
echo "$CP_OUT" | grep -q 'create domain' && e2e_fail "the adopted domain created again: $CP_OUT"
echo "$CP_OUT" | grep -qi conflict && e2e_fail "a conflict: $CP_OUT"
echo "$CP_OUT" | grep -qxF -e "- delete deploy key \"shop/production\" ci ($PROD)" || e2e_fail "our key not deleted: $CP_OUT"
echo "$CP_OUT" | grep -qx '+ create deploy key "shop/production" ci' || e2e_fail "our key not created again: $CP_OUT"
echo "$CP_OUT" | grep -q '^! blocked key_file_missing: deploy key "ci" of "shop/staging" .*not created by this tool' ||
    e2e_fail "the person's key not blocked: $CP_OUT"
echo "$CP_OUT" | grep -q 'shop/staging" ci' && e2e_fail "the person's key acted on: $CP_OUT"
echo "$CP_ERR" | grep -q 'adopted domain "shop/production" api.shop.example.com' || e2e_fail "no adoption logged: $CP_ERR"
assert_eq "$(wc -l <"$INTENTS")" 2 "plan leaves the intents as they were"

# 4. apply (exit 3: the person's key stays blocked): the key replaced
#    exactly once, its new secret in a 0600 file, the domain left alone.
cp_expect 3 apply --team 1
assert_eq "$(req_count 'POST /deployments/{name}/create_custom_domain')" "$domain_creates" "no second domain create"
assert_eq "$(domain_count api.shop.example.com)" 1 "one domain"
assert_eq "$(req_count 'POST /deployments/{name}/delete_deploy_key')" "$((key_deletes + 1))" "one key delete"
assert_eq "$(req_count 'POST /deployments/{name}/create_deploy_key')" "$((key_creates + 1))" "one key create"
assert_eq "$(key_count production ci)" 1 "one key ci on production"
[ "$(key_field production ci id)" != "$lost_id" ] || e2e_fail "the key was not replaced"
f=$KEYS/shop/production/ci
[ -f "$f" ] || e2e_fail "no secret file at $f"
assert_eq "$(stat -c %a "$f")" 600 "secret file mode"
secret_matches "$f" production ci || e2e_fail "the file does not hold the live key's secret"
assert_eq "$(key_field staging ci id)" "$person_id" "the person's key untouched"
[ -e "$KEYS/shop/staging/ci" ] && e2e_fail "a file for the person's key"
assert_eq "$(jq -c '[.deployKeys[] | [.deployment, .name]]' "$CP_STATE/ledger.json")" \
    "[[\"$PROD\",\"ci\"]]" "the ledger holds our key only"
assert_eq "$(wc -c <"$INTENTS")" 0 "every intent resolved"

# 5. Converged (the person's key still blocked, nothing to do).
cp_expect 2 plan --team 1 --json
assert_eq "$(json_field '.actions | length')" 0 "nothing to do"
assert_eq "$(json_field '[.blocked[] | select(.guard == "key_file_missing")] | length')" 1 "the person's key reported"

# 6. The replacement's answer lost too: its kept intent replaces it again
#    next time, still one key, never held by nobody.
rm "$f"
route_knob 'POST /deployments/{name}/delete_deploy_key' null
cp_expect 2 plan --team 1
echo "$CP_OUT" | grep -q 'blocked key_file_missing: deploy key "ci" of "shop/production"' ||
    e2e_fail "a key of ours whose file was removed by hand is not blocked: $CP_OUT"
person_post "/deployments/$PROD/delete_deploy_key" '{"id":"ci"}' >/dev/null
route_knob 'POST /deployments/{name}/create_deploy_key' '{"dropAfterRate":1}'
cp_expect 1 apply --team 1
route_knob 'POST /deployments/{name}/create_deploy_key' null
assert_eq "$(key_count production ci)" 1 "made once"
[ -e "$f" ] && e2e_fail "a file for a lost answer"
route_knob 'POST /deployments/{name}/create_deploy_key' '{"errorAfterRate":1}'
cp_expect 1 apply --team 1
route_knob 'POST /deployments/{name}/create_deploy_key' null
assert_eq "$(key_count production ci)" 1 "replaced, and the replacement's answer lost: still one"
[ -e "$f" ] && e2e_fail "a file for a lost answer"
cp_expect 3 apply --team 1
assert_eq "$(key_count production ci)" 1 "one key after the third run"
secret_matches "$f" production ci || e2e_fail "the file does not hold the live key's secret"
assert_eq "$(wc -c <"$INTENTS")" 0 "every intent resolved"

# 7. Renames: the project (shop -> store) and the deployment (production ->
#    live) in one change. The key file follows; it is never reported lost.
secret_before=$(cat "$f")
write_desired store "    renamed_from: shop" live "        renamed_from: production"
cp_expect 2 plan --team 1
echo "$CP_OUT" | grep -q 'key_file_missing: deploy key "ci" of "store/live"' && e2e_fail "renamed key blocked: $CP_OUT"
echo "$CP_OUT" | grep -q 'deploy key "store/live"' && e2e_fail "renamed key acted on: $CP_OUT"
[ -f "$f" ] || e2e_fail "plan moved the key file"
cp_expect 3 apply --team 1
nf=$KEYS/store/live/ci
[ -f "$nf" ] || e2e_fail "the key file did not follow the rename: $(find "$KEYS" | sort)"
[ -e "$f" ] && e2e_fail "the old key file is still there"
assert_eq "$(cat "$nf")" "$secret_before" "the same secret"
assert_eq "$(stat -c %a "$nf")" 600 "moved file mode"
assert_eq "$(stat -c %a "$KEYS/store/live")" 700 "new folder mode"
echo "$CP_ERR" | grep -q 'deploy key files: 1 moved' || e2e_fail "the move not logged: $CP_ERR"
cp_expect 2 plan --team 1 --json
assert_eq "$(json_field '.actions | length')" 0 "nothing to do after the rename"
assert_eq "$(json_field '[.blocked[] | select(.guard == "key_file_missing")] | length')" 1 "only the person's key reported"
assert_eq "$(key_count live ci)" 1 "the key itself untouched"

# 8. A key create the API refused (400: nothing made) drops its intent, so
#    a person's key made under that name afterwards is never taken for
#    ours: reported, never deleted. An answer lost the same way (act, then
#    502) keeps it, and that key is replaced.
sed -i '/reference: staging/,/deploy_keys/ s/deploy_keys: \[ci\]$/deploy_keys: [ci, later, lost]/' "$CP_DESIRED/shop.yaml"
grep -c 'later, lost' "$CP_DESIRED/shop.yaml" | grep -qx 1 || e2e_fail "staging's keys not changed: $(cat "$CP_DESIRED/shop.yaml")"
curl -sS --max-time 20 -X POST --data-binary '{"route":"POST /deployments/{name}/create_deploy_key","responses":[
    {"status":400,"body":"{\"code\":\"BadRequest\",\"message\":\"refused\"}"},
    {"act":true,"status":502,"body":"bad gateway"}]}' "$SIM_BASE/_sim/script" >/dev/null
cp_expect 1 apply --team 1 --json
assert_eq "$(json_field '[.actions[] | select(.kind == "deploy_key" and .result == "error")] | length')" 2 "two failed key creates"
curl -sS --max-time 20 -X POST "$SIM_BASE/_sim/script/clear" >/dev/null
refused=$(json_field '[.actions[] | select(.kind == "deploy_key" and .result == "error" and (.ambiguous | not))][0].key')
lost=$(json_field '[.actions[] | select(.kind == "deploy_key" and .result == "error" and .ambiguous)][0].key')
[ -n "$refused" ] && [ -n "$lost" ] && [ "$refused" != null ] && [ "$lost" != null ] ||
    e2e_fail "one refused, one ambiguous: $CP_OUT"
assert_eq "$(key_count staging "$refused")" 0 "the refused key was not made"
assert_eq "$(key_count staging "$lost")" 1 "the lost one was"
assert_eq "$(jq -sc '[.[] | select(.kind == "deploy_key") | .name]' "$INTENTS")" "[\"$lost\"]" "only the lost create's intent open"
person_post "/deployments/$STAGING/create_deploy_key" "{\"name\":\"$refused\"}" >/dev/null
refused_id=$(key_field staging "$refused" id)
cp_expect 3 apply --team 1
assert_eq "$(key_field staging "$refused" id)" "$refused_id" "a person's key after a refused create: untouched"
[ -e "$KEYS/store/staging/$refused" ] && e2e_fail "a file for the person's key"
[ -f "$KEYS/store/staging/$lost" ] || e2e_fail "the lost key was not replaced"
secret_matches "$KEYS/store/staging/$lost" staging "$lost" || e2e_fail "the replaced key's file"
cp_expect 2 plan --team 1 --json
assert_eq "$(json_field '.actions | length')" 0 "nothing to do"
assert_eq "$(json_field '[.blocked[] | select(.guard == "key_file_missing")] | length')" 2 "the person's two keys reported"
echo "all reconcile_adopt checks passed"
