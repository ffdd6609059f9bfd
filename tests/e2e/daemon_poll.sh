#!/usr/bin/env bash
# follow: poll (no file watch at all, as on NFS): every timer reconcile
# checks the files against the fingerprint of the last load and reloads
# when it differs. A change is picked up by the next reconcile and logged
# once with trigger=timer; files that did not change are not reloaded; a
# file that breaks is reported once, not at every reconcile; /status and
# /metrics say how the files are followed and what is loaded.
set -eu
. "$CP_SOURCE_DIR/tests/e2e/daemon_lib.sh"
dm_sim_start --seed 22

m() { dm_metric "convex_provisioner_$1"; }
reloads() { m "desired_reloads_total{trigger=\"$1\"}"; }

desired shop.yaml <<'YAML'
projects:
  - name: shop
YAML
dm_start --interval 2s --follow poll
wait_for 30 "shop in the simulator" '[ "$(live_projects_named shop)" = 1 ]'
dm_log_has 'follow: poll: changes under .* are found by the check before each reconcile' ||
    e2e_fail "follow poll not logged"
assert_eq "$(dm_status .desired.follow)" poll "follow in /status"
assert_eq "$(dm_status .desired.files)" 1 "files in /status"
fp0=$(dm_status .desired.fingerprint)
[[ $fp0 =~ ^[0-9a-f]{16}$ ]] || e2e_fail "fingerprint \"$fp0\" is not 16 hex digits"
loaded0=$(dm_status .desired.loaded_unix)
[ "$(date -u -d "@$loaded0" '+%Y-%m-%dT%H:%M:%SZ')" = "$(dm_status .desired.loaded)" ] ||
    e2e_fail "loaded and loaded_unix differ: $(dm_status .desired.loaded) vs $loaded0"

# Nothing changes: three more reconciles, no reload.
n=$(dm_reconciles)
dm_wait_reconciles $((n + 3)) 30
assert_eq "$(reloads timer)" 0 "reloads while nothing changed"
assert_eq "$(dm_status .desired.fingerprint)" "$fp0" "fingerprint while nothing changed"

# A new file in a new folder: picked up by the next timer reconcile.
sleep 1.1   # loaded_unix moves by a second at least
mkdir -p "$CP_DESIRED/teams"
desired teams/blog.yaml <<'YAML'
projects:
  - name: blog
YAML
start=$(now_ms)
wait_for 15 "blog in the simulator" '[ "$(live_projects_named blog)" = 1 ]'
echo "converged $(($(now_ms) - start)) ms after the change (interval 2 s)"
assert_eq "$(reloads timer)" 1 "reloads by the timer's check"
assert_eq "$(reloads watch)" 0 "reloads by a watch (there is none)"
assert_eq "$(dm_status .desired.files)" 2 "files in /status"
fp1=$(dm_status .desired.fingerprint)
[ "$fp1" != "$fp0" ] || e2e_fail "the fingerprint did not change"
[ "$(dm_status .desired.loaded_unix)" -gt "$loaded0" ] || e2e_fail "loaded_unix did not move"
assert_eq "$(grep -c 'changed since they were loaded: reloading the desired state trigger=timer' "$DM_ERR")" 1 \
    "reload lines with trigger=timer"

# Rewritten in place with the same size (a one-letter edit): a change.
n=$(dm_reconciles)
sed -i 's/name: blog/name: blag/' "$CP_DESIRED/teams/blog.yaml"
wait_for 15 "blag in the simulator" '[ "$(live_projects_named blag)" = 1 ]'
assert_eq "$(reloads timer)" 2 "reloads after an edit"

# A broken file: reported once, though reconciles go on with the last
# valid state (whose fingerprint /status keeps showing); fixed, it is
# loaded again.
fp2=$(dm_status .desired.fingerprint)
printf 'projects:\n  - nmae: bad\n' >"$CP_DESIRED/bad.yaml"
wait_for 15 "the error in /status" '[ "$(dm_status ".desired.errors | length")" -gt 0 ]'
n=$(dm_reconciles)
dm_wait_reconciles $((n + 3)) 30
assert_eq "$(grep -c 'bad.yaml:2:5: error: unknown key "nmae"' "$DM_ERR")" 1 "times the error is logged"
assert_eq "$(reloads timer)" 3 "reloads with a broken file"
assert_eq "$(dm_status .desired.fingerprint)" "$fp2" "fingerprint of the state in use"
assert_eq "$(m desired_state_errors)" 2 "desired_state_errors"
rm "$CP_DESIRED/bad.yaml"
wait_for 15 "the errors gone" '[ "$(dm_status ".desired.errors | length")" = 0 ]'
assert_eq "$(reloads timer)" 4 "reloads after the fix"
# the same files as before the broken one came: the same fingerprint
assert_eq "$(dm_status .desired.fingerprint)" "$fp2" "fingerprint after the fix"
dm_log_has 'the desired state is valid again' || e2e_fail "no 'valid again'"

# POST /reconcile looks at the files too: counted as api.
desired teams/news.yaml <<'YAML'
projects:
  - name: news
YAML
assert_eq "$(dm_code POST /reconcile)" 202 "POST /reconcile"
wait_for 15 "news in the simulator" '[ "$(live_projects_named news)" = 1 ]'
[ "$(reloads api)" -le 1 ] || e2e_fail "api reloads: $(reloads api)"
assert_eq "$(($(reloads api) + $(reloads timer)))" 5 "reloads (api or timer, whichever came first)"
assert_eq "$(m 'watch_failures_total{reason="overflow"}')" 0 "no watch, no failure"

# A file an env value is read from, outside the folder (a secrets mount):
# no fingerprint of the folder sees it, the level check reads it again.
secrets=$(mktemp -d)
printf 'one\n' >"$secrets/api-key"
r=$(reloads timer)
desired teams/news.yaml <<YAML
projects:
  - name: news
    env:
      prod:
        API_KEY: {file: $secrets/api-key}
YAML
wait_for 15 "the env state loaded" '[ "$(reloads timer)" -gt "$r" ]'
n=$(dm_reconciles)
dm_wait_reconciles $((n + 2)) 30
r=$(reloads timer)
printf 'two\n' >"$secrets/api-key"          # same size, same folder
wait_for 15 "a reload for the secret file" '[ "$(reloads timer)" -gt "$r" ]'
n=$(dm_reconciles)
dm_wait_reconciles $((n + 2)) 30
r=$(reloads timer)
rm "$secrets/api-key"                         # gone: an error, reported once
wait_for 15 "the unreadable secret reported" '[ "$(dm_status ".desired.errors | length")" -gt 0 ]'
n=$(dm_reconciles)
dm_wait_reconciles $((n + 2)) 30
assert_eq "$(reloads timer)" $((r + 1)) "reloads while the secret file is gone"
printf 'two\n' >"$secrets/api-key"          # back: valid again
wait_for 15 "the secret file back" '[ "$(dm_status ".desired.errors | length")" = 0 ]'
rm -rf "$secrets"

dm_stop 15
echo "ok"
