#!/usr/bin/env bash
# `run` picks up a file change within seconds: with --interval 1h only the
# file watch can trigger the second reconcile, and the new file sits in a
# folder that did not exist when the daemon started.
set -eu
. "$CP_SOURCE_DIR/tests/e2e/daemon_lib.sh"
dm_sim_start --seed 4

desired shop.yaml <<'YAML'
projects:
  - name: shop
YAML
dm_start --interval 1h
wait_for 30 "shop in the simulator" '[ "$(live_projects_named shop)" = 1 ]'
wait_for 10 "the first reconcile to finish" '[ "$(dm_status .last_reconcile.result)" = ok ]'
listings=$(sim_listings)

# A new sub-folder, then a file in it (two steps, as an editor or a git
# checkout would do): the watcher must follow into the new folder.
start=$(now_ms)
mkdir -p "$CP_DESIRED/teams/blog"
fixture blog.yaml teams/blog/blog.yaml
# 1 s of debounce plus a reconcile (about 1.1 s); the bound is generous
# for a busy machine.
wait_for 10 "blog in the simulator" '[ "$(live_projects_named blog)" = 1 ]'
echo "converged $(($(now_ms) - start)) ms after the change"
wait_for 15 "blog's deployment" '[ "$(live_refs live)" = 1 ]'
dm_log_has 'a change under .*desired: reloading the desired state' || e2e_fail "no reload logged"

# Exactly one more observation: the debounce folded the mkdir and the write.
wait_for 10 "the reconcile to finish" '[ "$(dm_status .reconcile.running)" = false ]'
assert_eq "$(sim_listings)" $((listings + 1)) "observations after one change"
assert_eq "$(dm_status .desired.projects)" 2 "desired projects in /status"

# A change inside the new folder is seen too (its watcher is live now).
fixture blog-preview.yaml teams/blog/blog.yaml
wait_for 15 "the preview deployment" '[ "$(live_refs preview-1)" = 1 ]'

# Files starting with '.' are skipped, and so is a change to one.
wait_for 10 "the reconcile to finish" '[ "$(dm_status .reconcile.running)" = false ]'
listings=$(sim_listings)
echo 'projects: [{name: hidden}]' >"$CP_DESIRED/.hidden.yaml"
sleep 3   # nothing may happen: only a fixed wait can show that
assert_eq "$(sim_listings)" "$listings" "observations after a dot-file change"
assert_eq "$(live_projects_named hidden)" 0 "a project from a dot file"

dm_stop 15
echo "ok"
