#!/usr/bin/env bash
# tests/e2e/recovery_doc.sh: the ledger rebuild of docs/recovery.md, run as written: from actions.jsonl it gives back what `prune owned` needs, creates and deletes included.
set -eu
. "$CP_SOURCE_DIR/tests/e2e/lib.sh"
. "$CP_SOURCE_DIR/tests/e2e/cp.sh"
command -v jq >/dev/null || e2e_fail "jq not found (make deps)"

# The jq program exactly as the page shows it: the fenced block after the
# marker comment.
prog=$CP_WORK/rebuild-ledger.jq
awk '/<!-- rebuild-ledger.jq/ { m = 1; next }
	m == 1 && /```jq/ { m = 2; next }
	m == 2 && /```/ { exit }
	m == 2 { sub(/^   /, ""); print }' "$CP_SOURCE_DIR/docs/recovery.md" >"$prog"
grep -q 'reduce' "$prog" || e2e_fail "docs/recovery.md: no rebuild-ledger.jq block found"

sim_start --seed 5
desired a.yaml <<'YAML'
projects:
  - name: shop
    deployments:
      - {reference: staging, type: dev, deploy_keys: [ci, gone-key]}
      - {reference: review-1, type: preview, deploy_keys: [rk]}
  - name: gone-soon
  - name: ours-later-removed
YAML
cp_expect 0 apply --team 1
# A delete, so the replay has to drop entries too.
desired a.yaml <<'YAML'
projects:
  - name: shop
    deployments:
      - {reference: staging, type: dev, deploy_keys: [ci]}
      - {reference: review-1, type: preview, deploy_keys: [rk]}
  - name: gone-soon
    state: absent
  - name: ours-later-removed
YAML
cp_expect 0 apply --team 1 --prune owned
# Made by hand: never ours.
sim_post /teams/1/create_project '{"projectName":"manual"}' >/dev/null

# The rebuilt ledger names what the real one names (protect marks aside:
# the page says the next reconcile records them again).
norm='{p: [.projects[] | {id, name, created}] | sort_by(.id),
       d: [.deployments[] | {name, projectId, project, reference, created}] | sort_by(.name),
       k: [.deployKeys[] | {deployment, name}] | sort_by(.deployment, .name)}'
jq -s -f "$prog" "$CP_STATE/actions.jsonl" >"$CP_WORK/rebuilt.json" ||
	e2e_fail "the documented jq program failed on actions.jsonl"
assert_eq "$(jq -cS "$norm" "$CP_WORK/rebuilt.json")" "$(jq -cS "$norm" "$CP_STATE/ledger.json")" \
	"rebuilt ledger"
assert_eq "$(jq '[.projects[] | select(.name == "gone-soon")] | length' "$CP_WORK/rebuilt.json")" 0 \
	"a deleted project is not in the rebuilt ledger"
assert_eq "$(jq -c '[.deployKeys[].name] | sort' "$CP_WORK/rebuilt.json")" '["ci","rk"]' \
	"deploy keys rebuilt, the deleted one left out"

# Lose the ledger: owned prunes nothing.
desired a.yaml <<'YAML'
projects:
  - name: shop
    deployments:
      - {reference: staging, type: dev}
YAML
rm "$CP_STATE/ledger.json"
cp_expect 0 plan --team 1 --prune owned --json
assert_eq "$(json_field '.summary.delete')" 0 "no ledger: owned deletes nothing"

# Put the rebuilt one in place: owned finds its own again, and only those.
mv "$CP_WORK/rebuilt.json" "$CP_STATE/ledger.json"
cp_expect 2 plan --team 1 --prune owned --json
assert_eq "$(json_field '[.actions[] | select(.op == "delete")] | map(.kind + ":" + (.reference // .project)) | sort | join(",")')" \
	"deployment:review-1,project:ours-later-removed" "owned deletes with the rebuilt ledger"
cp_expect 0 apply --team 1 --prune owned
assert_eq "$(live_projects_named manual)" 1 "the hand-made project is kept"
assert_eq "$(live_projects_named ours-later-removed)" 0 "our project is pruned"
echo "recovery_doc: the documented rebuild works"
