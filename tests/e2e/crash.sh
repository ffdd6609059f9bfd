#!/usr/bin/env bash
# Crash test: `apply --prune owned` of 200 projects against a simulator with
# latency, killed with SIGKILL at a random moment ten times in a row, then
# applied until it exits 0 (a bounded number of times). The team must
# converge with zero duplicate projects, the ledger must parse and never
# claim a project this tool did not create, and the projects made by hand
# beforehand (undeclared, so prune candidates) must all survive.
# Ownership survives the kills (issue 14, create intents): every one of the
# 200 projects and 400 deployments is in the ledger as created, none twice,
# and `prune: owned` would delete exactly those: with nothing declared (and
# allow_empty) exactly the 200 projects, with the projects declared but no
# deployment exactly the 400 deployments (checked with plan --json).
# CRASH_SEED makes the kill moments repeatable; they are printed.
set -eu
. "$CP_SOURCE_DIR/tests/e2e/lib.sh"
. "$CP_SOURCE_DIR/tests/e2e/cp.sh"

P=200
KILLS=10
RANDOM=${CRASH_SEED:-$$}
echo "crash: seed ${CRASH_SEED:-$$}"

# Slow enough (40 ms a request, two at a time: about 12 s for the 600
# creates) that every kill interrupts real work.
sim_start --seed 3 --latency 40 --latency-jitter 10
trap cp_cleanup EXIT

# Undeclared projects made by hand, one with a deployment of its own.
for n in manual-1 manual-2 manual-3; do
	sim_post /teams/1/create_project "{\"projectName\":\"$n\"}" >/dev/null
done
mid=$(sim_state | jq '.projects[] | select(.name == "manual-1") | .id')
sim_post "/projects/$mid/create_deployment" '{"type":"dev","reference":"by-hand"}' >/dev/null
assert_eq "$(live_projects)" 3 "projects made by hand"

awk -v p=$P 'BEGIN {
	print "projects:"
	for (i = 1; i <= p; i++)
		printf "  - name: crash-%d\n    deployments:\n      - reference: production\n        type: prod\n        default: true\n      - reference: staging\n        type: dev\n", i
}' | desired team.yaml

spawn_apply() {
	CONVEX_ACCESS_TOKEN=$SIM_TOKEN "$CP_BIN" -c "$CP_WORK/config.yaml" \
	    --api-url "$SIM_URL" --desired "$CP_DESIRED" --state-dir "$CP_STATE" \
	    --prune owned --concurrency 2 apply >"$CP_WORK/apply.out" 2>"$CP_WORK/apply.err" &
	APPLY_PID=$!
}

# Ten kills. A kill lands somewhere in the first 1.5 s of a run: while it
# observes, creates projects or deployments, or writes the ledger.
hits=0
for k in $(seq 1 $KILLS); do
	ms=$((100 + RANDOM % 1400))
	before=$(live_projects)
	spawn_apply
	sleep "$(awk -v ms=$ms 'BEGIN { printf "%.3f", ms / 1000 }')"
	if kill -KILL "$APPLY_PID" 2>/dev/null; then
		hits=$((hits + 1))
		how=killed
	else
		how="had already exited"
	fi
	rc=0
	wait "$APPLY_PID" 2>/dev/null || rc=$?
	if grep -q -e 'Sanitizer' -e 'runtime error:' "$CP_WORK/apply.err"; then
		cat "$CP_WORK/apply.err" >&2
		e2e_fail "a sanitizer report before the kill"
	fi
	cat "$CP_WORK/apply.err" >>"$CP_WORK/all.err"
	echo "kill $k after ${ms} ms: $how (exit $rc), projects $before -> $(live_projects)"
	# Each killed run leaves a ledger that still parses (or none yet).
	if [ -f "$CP_STATE/ledger.json" ]; then
		jq -e '.version == 1' "$CP_STATE/ledger.json" >/dev/null ||
		    e2e_fail "the ledger does not parse after kill $k"
	fi
done
[ "$hits" -ge $((KILLS / 2)) ] ||
    e2e_fail "only $hits of $KILLS kills hit a running apply: the test did not test"

# Then apply until converged (a kill may have left nothing to do, or a
# create whose answer was lost: the next observation resolves it).
final=0
for try in 1 2 3 4 5; do
	cp_run --prune owned --concurrency 8 apply
	echo "final apply $try: exit $CP_RC"
	echo "$CP_ERR" >>"$CP_WORK/all.err"
	if echo "$CP_ERR" | grep -q -e 'Sanitizer' -e 'runtime error:'; then
		echo "$CP_ERR" >&2
		e2e_fail "a sanitizer report in the final apply"
	fi
	if [ "$CP_RC" = 0 ]; then
		final=1
		break
	fi
done
[ "$final" = 1 ] || { echo "$CP_ERR" | tail -n 20 >&2; e2e_fail "apply did not converge in 5 tries"; }

# Converged: a plan has nothing to do.
cp_expect 0 --prune owned plan

# Exactly one project per declared name, each with its two deployments.
assert_eq "$(duplicate_names)" 0 "duplicate project names"
assert_eq "$(sim_state | jq '[.projects[] | select(.name | startswith("crash-"))] | length')" $P "declared projects live"
assert_eq "$(sim_state | jq '[.deployments[] | select(.kind == "cloud" and .reference != "by-hand")] | length')" $((2 * P)) "declared deployments live"
assert_eq "$(sim_stats | jq '.creates.project')" $((P + 3)) "projects ever created (a duplicate would count)"

# Nothing undeclared was deleted: the hand-made projects and deployment
# are there, and no delete ever reached the API.
for n in manual-1 manual-2 manual-3; do
	assert_eq "$(live_projects_named $n)" 1 "hand-made project $n"
done
assert_eq "$(sim_state | jq '[.deployments[] | select(.reference == "by-hand")] | length')" 1 "hand-made deployment"
assert_eq "$(sim_stats | jq '.deletes.project + .deletes.deployment')" 0 "deletes"

# The ledger parses and claims only what this tool created.
jq -e '.version == 1' "$CP_STATE/ledger.json" >/dev/null || e2e_fail "the final ledger does not parse"
assert_eq "$(jq '[.projects[] | select(.created and (.name | startswith("manual-")))] | length' "$CP_STATE/ledger.json")" 0 \
    "hand-made projects the ledger claims"
assert_eq "$(jq '[.deployments[] | select(.created and .reference == "by-hand")] | length' "$CP_STATE/ledger.json")" 0 \
    "hand-made deployments the ledger claims"
echo "ledger: $(jq '[.projects[] | select(.created)] | length' "$CP_STATE/ledger.json") projects and" \
    "$(jq '[.deployments[] | select(.created)] | length' "$CP_STATE/ledger.json") deployments recorded as created"

# Every created resource is owned, each once: the ledger's created entries
# are exactly the live declared ones (ids and deployment names), no name or
# (project, reference) twice. Nothing is left open in the intents.
sim_state | jq -r '.projects[] | select(.name | startswith("crash-")) | .id' | sort >"$CP_WORK/live-projects"
sim_state | jq -r '[.projects[] | select(.name | startswith("crash-")) | .id] as $ids
    | .deployments[] | select(.kind == "cloud" and (.projectId as $p | $ids | index($p))) | .name' |
    sort >"$CP_WORK/live-deployments"
jq -r '.projects[] | select(.created) | .id' "$CP_STATE/ledger.json" | sort >"$CP_WORK/ledger-projects"
jq -r '.deployments[] | select(.created) | .name' "$CP_STATE/ledger.json" | sort >"$CP_WORK/ledger-deployments"
assert_eq "$(wc -l <"$CP_WORK/live-projects")" $P "live declared projects"
assert_eq "$(wc -l <"$CP_WORK/live-deployments")" $((2 * P)) "live declared deployments"
cmp -s "$CP_WORK/live-projects" "$CP_WORK/ledger-projects" ||
    e2e_fail "the ledger's created projects are not the $P live ones: $(diff "$CP_WORK/live-projects" "$CP_WORK/ledger-projects" | head)"
cmp -s "$CP_WORK/live-deployments" "$CP_WORK/ledger-deployments" ||
    e2e_fail "the ledger's created deployments are not the $((2 * P)) live ones: $(diff "$CP_WORK/live-deployments" "$CP_WORK/ledger-deployments" | head)"
assert_eq "$(jq '[.projects[] | select(.created) | .name] | group_by(.) | map(select(length > 1)) | length' "$CP_STATE/ledger.json")" 0 \
    "project names recorded twice"
assert_eq "$(jq '[.deployments[] | select(.created) | [.project, .reference]] | group_by(.) | map(select(length > 1)) | length' "$CP_STATE/ledger.json")" 0 \
    "deployments (project, reference) recorded twice"
assert_eq "$(wc -c <"$CP_STATE/intents.jsonl")" 0 "bytes left in intents.jsonl"
echo "adopted from intents over the runs: $(grep -c 'adopted project' "$CP_WORK/all.err" || true) projects," \
    "$(grep -c 'adopted deployment' "$CP_WORK/all.err" || true) deployments (creates whose answer or ledger record a kill lost)"

# What `prune: owned` would delete, as plan --json says (nothing is deleted).
mv "$CP_DESIRED/team.yaml" "$CP_WORK/team.yaml"
cp_expect 2 --prune owned --allow-empty --max-deletes 100000 --json plan
echo "$CP_OUT" | jq -r '.actions[] | select(.op == "delete" and .kind == "project") | .id' | sort >"$CP_WORK/plan-projects"
assert_eq "$(echo "$CP_OUT" | jq '[.actions[] | select(.op != "delete" or .kind != "project")] | length')" 0 \
    "actions other than project deletes with nothing declared"
cmp -s "$CP_WORK/live-projects" "$CP_WORK/plan-projects" ||
    e2e_fail "prune owned would not delete exactly the $P projects: $(diff "$CP_WORK/live-projects" "$CP_WORK/plan-projects" | head)"
awk -v p=$P 'BEGIN { print "projects:"; for (i = 1; i <= p; i++) printf "  - name: crash-%d\n", i }' |
    desired bare.yaml
cp_expect 2 --prune owned --max-deletes 100000 --json plan
echo "$CP_OUT" | jq -r '.actions[] | select(.op == "delete" and .kind == "deployment") | .name' | sort >"$CP_WORK/plan-deployments"
assert_eq "$(echo "$CP_OUT" | jq '[.actions[] | select(.op != "delete" or .kind != "deployment")] | length')" 0 \
    "actions other than deployment deletes with the projects declared bare"
cmp -s "$CP_WORK/live-deployments" "$CP_WORK/plan-deployments" ||
    e2e_fail "prune owned would not delete exactly the $((2 * P)) deployments: $(diff "$CP_WORK/live-deployments" "$CP_WORK/plan-deployments" | head)"
assert_eq "$(sim_stats | jq '.deletes.project + .deletes.deployment')" 0 "deletes (plan deletes nothing)"
echo "ok: $hits kills, converged, no duplicates, nothing undeclared deleted;" \
    "$P projects and $((2 * P)) deployments owned, each once; prune owned would delete exactly them"
