#!/usr/bin/env bash
# tests/e2e/gitops_recipes.sh: the CI recipes of docs/gitops.md, run as the
# page writes them (the scripts are read from it) against the simulator: the
# pull-request check (validate, the plan as Markdown, no secret in it), the
# saved plan applied on merge (a stale one refused with nothing done, for a
# changed file and for a changed team, an edited one refused, a fresh one
# applied), `show`, and the daemon following a branch through the git-sync
# unit's own command.
set -eu
. "$CP_SOURCE_DIR/tests/e2e/daemon_lib.sh"
command -v jq >/dev/null || e2e_fail "jq not found (make deps)"
command -v git >/dev/null || e2e_fail "git not found (make deps)"
DOC=$CP_SOURCE_DIR/docs/gitops.md

# recipe NAME DEST: the fenced block after <!-- recipe: NAME --> in the page.
recipe() {
	awk -v name="$1" '$0 == "<!-- recipe: " name " -->" { m = 1; next }
		m == 1 && /^```/ { m = 2; next }
		m == 2 && /^```/ { exit }
		m == 2 { print }' "$DOC" >"$2"
	[ -s "$2" ] || e2e_fail "docs/gitops.md: no recipe $1"
}

dm_sim_start --seed 16
REPO=$CP_WORK/repo
mkdir -p "$REPO/ci" "$REPO/convex"
recipe provisioner.yaml "$REPO/provisioner.yaml"
for s in convex-check convex-plan convex-apply; do
	recipe "ci/$s.sh" "$REPO/ci/$s.sh"
done
grep -q '^prune: owned$' "$REPO/provisioner.yaml" || e2e_fail "provisioner.yaml recipe changed: $(cat "$REPO/provisioner.yaml")"

# What a CI job has: the binary on PATH, the token and the API in the
# environment, the state folder from the CI cache.
SECRET='sk_live_e2e_gitops_4242'
export CONVEX_STATE_DIR=$CP_WORK/ci-state
ci() {
	local script=$1
	shift
	CI_RC=0
	(cd "$REPO" && env PATH="$CP_BUILD_DIR:$PATH" CONVEX_ACCESS_TOKEN="$SIM_TOKEN" \
	    CONVEX_PROVISION_HOST="$SIM_BASE" CONVEX_TEAM_ID=1 STRIPE_SECRET="$SECRET" "$@" \
	    sh "ci/$script.sh") >"$CP_WORK/ci.out" 2>"$CP_WORK/ci.err" || CI_RC=$?
	CI_ERR=$(cat "$CP_WORK/ci.err")
}
ci_expect() {
	local want=$1
	shift
	ci "$@"
	if [ "$CI_RC" != "$want" ]; then
		echo "--- stderr" >&2; echo "$CI_ERR" >&2
		e2e_fail "ci/$1.sh: exit $CI_RC, want $want"
	fi
}
files_v1() {
	cat >"$REPO/convex/shop.yaml" <<'YAML'
projects:
  - name: shop
    env:
      prod:
        STRIPE_KEY: {env: STRIPE_SECRET}
    deployments:
      - {reference: production, type: prod, default: true, deploy_keys: [ci]}
      - {reference: staging, type: dev}
YAML
}

# ---- 1. The pull-request check.
# An invalid file: validate fails the check before any plan.
cat >"$REPO/convex/shop.yaml" <<'YAML'
projects:
  - name: shop
    deployments:
      - {reference: production, type: prod, colour: blue}
YAML
ci_expect 1 convex-check
echo "$CI_ERR" | grep -q 'shop.yaml:4:.*error' || e2e_fail "no FILE:LINE error: $CI_ERR"
[ ! -e "$REPO/convex-plan.md" ] || e2e_fail "a plan was made for an invalid file"
files_v1
# Without a token (a fork): validated only, exit 0, no comment.
(cd "$REPO" && env -u CONVEX_ACCESS_TOKEN PATH="$CP_BUILD_DIR:$PATH" sh ci/convex-check.sh) \
    2>"$CP_WORK/fork.err" || e2e_fail "the check failed without a token: $(cat "$CP_WORK/fork.err")"
[ ! -e "$REPO/convex-plan.md" ] || e2e_fail "a plan without a token"
ci_expect 0 convex-check
md=$(cat "$REPO/convex-plan.md")
echo "$md" | grep -q '^\*\*Plan\\: 4 to create, 1 to update, 0 to delete' || e2e_fail "summary: $md"
echo "$md" | grep -qF '| `+` | create deployment "shop/production" \(prod, default\) |' || e2e_fail "row: $md"
echo "$md" | grep -qF '| `+` | env shop prod STRIPE\_KEY |' || e2e_fail "env row: $md"
grep -q "$SECRET" "$REPO/convex-plan.md" && e2e_fail "the secret is in the comment"
assert_eq "$(sim_stats | jq '.creates.project // 0')" 0 "the check creates nothing"

# ---- 2. Apply on merge with a saved plan.
ci_expect 0 convex-plan
[ -f "$REPO/convex.plan" ] || e2e_fail "no saved plan"
assert_eq "$(stat -c %a "$REPO/convex.plan")" 600 "saved plan mode"
grep -q "$SECRET" "$REPO/convex.plan" && e2e_fail "the secret is in the saved plan"
assert_eq "$(jq -r '.format + " " + (.version | tostring)' "$REPO/convex.plan")" \
    "convex-provisioner plan 1" "format"
assert_eq "$(jq '.plan.summary.create' "$REPO/convex.plan")" 4 "saved plan's creates"

# A stale plan: a file changed after the plan. Refused, nothing done.
cp "$REPO/convex.plan" "$CP_WORK/first.plan"
sed -i 's/type: dev}/type: dev, class: s256}/' "$REPO/convex/shop.yaml"
ci_expect 1 convex-apply
echo "$CI_ERR" | grep -q 'file changed: shop.yaml' || e2e_fail "the changed file is not named: $CI_ERR"
echo "$CI_ERR" | grep -q 'stale.*nothing was done' || e2e_fail "no refusal: $CI_ERR"
assert_eq "$(live_projects)" 0 "a stale plan created something"
files_v1
# An edited plan: refused before anything is sent.
jq '.plan_digest = "0000000000000000000000000000000000000000000000000000000000000000"' \
    "$CP_WORK/first.plan" >"$REPO/convex.plan"
ci_expect 1 convex-apply
echo "$CI_ERR" | grep -q 'seal' || e2e_fail "an edited plan not refused for its seal: $CI_ERR"
assert_eq "$(live_projects)" 0 "an edited plan created something"
# A stale plan: the team changed (someone made the project by hand).
cp "$CP_WORK/first.plan" "$REPO/convex.plan"
sim_post /teams/1/create_project '{"projectName":"shop"}' >/dev/null
ci_expect 1 convex-apply
echo "$CI_ERR" | grep -q 'the team changed' || e2e_fail "the team change is not named: $CI_ERR"
echo "$CI_ERR" | grep -qF 'no longer in the plan: + create project "shop"' || e2e_fail "diff: $CI_ERR"
assert_eq "$(live_deployments)" 0 "a stale plan created a deployment"
# A fresh plan is applied, exactly: what it lists, then nothing to do.
ci_expect 0 convex-plan
# ... but not with other settings than it was made with (before any request).
rc=0
(cd "$REPO" && CONVEX_ACCESS_TOKEN="$SIM_TOKEN" CONVEX_PROVISION_HOST="$SIM_BASE" \
    STRIPE_SECRET="$SECRET" "$CP_BIN" -c provisioner.yaml --desired convex/ \
    --state-dir "$CONVEX_STATE_DIR" --prune all apply convex.plan) 2>"$CP_WORK/set.err" || rc=$?
assert_eq "$rc" 1 "apply FILE with another prune"
grep -q 'prune is all, the plan was made with owned' "$CP_WORK/set.err" ||
    e2e_fail "the setting is not named: $(cat "$CP_WORK/set.err")"
# Usage: markdown and --out are for plan only; --json and --format disagree.
for args in "apply --format markdown" "show --out x.plan" "plan --json --format text" \
    "plan extra-argument" "apply a.plan b.plan"; do
	rc=0
	(cd "$REPO" && "$CP_BIN" -c provisioner.yaml $args) >/dev/null 2>&1 || rc=$?
	assert_eq "$rc" 1 "usage error: $args"
done
ci_expect 0 convex-apply
echo "$CI_ERR" | grep -q 'the plan is unchanged: applying it' || e2e_fail "no apply: $CI_ERR"
assert_eq "$(live_projects_named shop)" 1 "one shop"
assert_eq "$(live_deployments)" 2 "deployments"
assert_eq "$(sim_stats | jq '.creates.project')" 1 "only the hand-made project"
# The same saved plan again: done already, so stale.
ci_expect 1 convex-apply
ci_expect 0 convex-plan
assert_eq "$(jq '.plan.actions | length' "$REPO/convex.plan")" 0 "converged"

# ---- 3. show: the inventory other automation reads.
out=$(cd "$REPO" && CONVEX_ACCESS_TOKEN="$SIM_TOKEN" CONVEX_PROVISION_HOST="$SIM_BASE" \
    CONVEX_TEAM_ID=1 STRIPE_SECRET="$SECRET" "$CP_BIN" -c provisioner.yaml --desired convex/ \
    --state-dir "$CONVEX_STATE_DIR" show --json)
url=$(echo "$out" | jq -r '.projects[] | select(.name == "shop") | .deployments[] | select(.reference == "production") | .url')
name=$(sim_state | jq -r '.deployments[] | select(.reference == "production") | .name')
assert_eq "$url" "https://$name.convex.cloud" "show: the production URL"
keyfile=$(echo "$out" | jq -r '.projects[0].deployments[] | select(.reference == "production") | .deploy_keys[0].file')
[ -s "$keyfile" ] || e2e_fail "show names a deploy key file that is not there: $keyfile"
echo "$out" | grep -q "$(cat "$keyfile")" && e2e_fail "show prints a deploy key's secret"

# A failed observation (a token the API refuses): exit 1, no inventory.
rc=0
out=$(cd "$REPO" && CONVEX_ACCESS_TOKEN=not-the-token CONVEX_PROVISION_HOST="$SIM_BASE" \
    CONVEX_TEAM_ID=1 STRIPE_SECRET="$SECRET" "$CP_BIN" -c provisioner.yaml --desired convex/ \
    --state-dir "$CONVEX_STATE_DIR" show 2>/dev/null) || rc=$?
assert_eq "$rc" 1 "show after a failed observation"
assert_eq "$out" "" "show printed an inventory without an observation"

# ---- 4. The daemon following the branch: the git-sync unit's command.
sync_cmd=$(sed -n "s/^ExecStart=\/bin\/sh -ec '\(.*\)'$/\1/p" \
    "$CP_SOURCE_DIR/systemd/convex-provisioner-git-sync.service" | sed 's/\$\$/$/g')
[ -n "$sync_cmd" ] || e2e_fail "no ExecStart in the git-sync unit"
ORIGIN=$CP_WORK/origin.git
git init -q --bare -b main "$ORIGIN"
git -C "$REPO" init -q -b main
git -C "$REPO" add convex provisioner.yaml ci
git -C "$REPO" -c user.name=t -c user.email=t@localhost commit -q -m v1
git -C "$REPO" push -q "$ORIGIN" main
SYNC=$CP_WORK/sync
mkdir -p "$SYNC"
git_sync() {
	(cd "$SYNC" && env CP_GIT_URL="$ORIGIN" CP_GIT_BRANCH=main HOME="$SYNC" \
	    GIT_TERMINAL_PROMPT=0 sh -ec "$sync_cmd") || e2e_fail "git-sync failed"
}
git_sync
[ -f "$SYNC/repo/convex/shop.yaml" ] || e2e_fail "git-sync did not clone"
CP_DESIRED=$SYNC/repo/convex
CP_STATE=$CONVEX_STATE_DIR
DM_ENV=(STRIPE_SECRET="$SECRET")
dm_start --team 1 --interval 1h --prune owned --max-deletes 5
wait_for 20 "the first reconcile" '[ "$(dm_status .last_reconcile.result)" = ok ]'
cat >>"$REPO/convex/shop.yaml" <<'YAML'
  - name: blog
    deployments:
      - {reference: live, type: prod}
YAML
git -C "$REPO" add convex
git -C "$REPO" -c user.name=t -c user.email=t@localhost commit -q -m "add blog"
git -C "$REPO" push -q "$ORIGIN" main
git_sync
wait_for 30 "the daemon to create the merged project" '[ "$(live_projects_named blog)" = 1 ]'
wait_for 30 "its deployment" '[ "$(sim_state | jq "[.deployments[] | select(.reference == \"live\")] | length")" = 1 ]'
dm_stop
assert_eq "$(live_projects_named shop)" 1 "shop untouched by the daemon"
echo "ok: the recipes of docs/gitops.md"
