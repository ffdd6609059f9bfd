#!/usr/bin/env bash
# End to end (issue 14): the state folder on a small tmpfs that fills up,
# then turns read-only. Each time the run fails with a clear error and does
# nothing at all: no request that changes anything reaches the API, the
# ledger and the intents are left as they were.
#   1. disk full: no room even for the ledger (saved before any action);
#   2. room for the ledger, not for the batch of create intents: no create
#      is sent without its intent;
#   3. room again: apply converges, everything recorded;
#   4. read-only (a read-only bind mount over the folder): apply refuses
#      (its lock), plan still works;
#   5. the daemon, whose folder turns read-only under it: its reconcile
#      fails saying so (/status), nothing is sent; writable again, the next
#      reconcile converges.
# Mounting needs root (CAP_SYS_ADMIN), which the CI has; anywhere else the
# test is skipped (exit 77) and says so.
set -eu
. "$CP_SOURCE_DIR/tests/e2e/daemon_lib.sh"

MNT=$CP_WORK/mnt
mkdir -p "$MNT"
if ! mount -t tmpfs -o size=256k,mode=0700 cp-state-full "$MNT" 2>"$CP_WORK/mount.err"; then
	echo "SKIP: cannot mount a tmpfs here ($(cat "$CP_WORK/mount.err")): needs root with CAP_SYS_ADMIN"
	exit 77
fi
CP_STATE=$MNT/state
mkdir -p "$CP_STATE"
BOUND=0
fs_cleanup() {
	[ "$BOUND" = 1 ] && umount "$CP_STATE" 2>/dev/null
	umount "$MNT" 2>/dev/null || umount -l "$MNT" 2>/dev/null || true
	dm_cleanup
}
trap fs_cleanup EXIT
dm_sim_start --seed 14
trap fs_cleanup EXIT

writes() { sim_stats | jq '[.requests | to_entries[] | select(.key | startswith("GET ") | not) | .value[]] | add // 0'; }
read_only() { mount --bind "$CP_STATE" "$CP_STATE" && BOUND=1 && mount -o remount,bind,ro "$CP_STATE"; }
writable() { umount "$CP_STATE"; BOUND=0; }
# team N: N projects of two deployments each.
team() {
	awk -v n="$1" 'BEGIN { print "projects:"; for (i = 1; i <= n; i++)
		printf "  - name: full-%d\n    deployments:\n      - reference: production\n        type: prod\n      - reference: staging\n        type: dev\n", i }' |
	    desired team.yaml
}
# refused WHAT REGEX...: the last run exited 1, its stderr matches every
# REGEX, and no write reached the API since $W0.
refused() {
	local what=$1 re
	shift
	[ "$CP_RC" = 1 ] || { echo "$CP_ERR" >&2; e2e_fail "$what: exit $CP_RC, want 1"; }
	for re in "$@"; do
		echo "$CP_ERR" | grep -q -e "$re" || { echo "$CP_ERR" >&2; e2e_fail "$what: stderr does not say \"$re\""; }
	done
	assert_eq "$(writes)" "$W0" "$what: writes sent"
	echo "$what: $(echo "$CP_ERR" | grep -e "$1" | tail -n 1)"
}

team 3
cp_expect 0 --prune owned apply
assert_eq "$(jq '[.projects[] | select(.created)] | length' "$CP_STATE/ledger.json")" 3 "projects recorded"
cp "$CP_STATE/ledger.json" "$CP_WORK/ledger.before"

# ---- 1. full: not even the ledger fits -------------------------------
team 40
dd if=/dev/zero of="$MNT/filler" bs=4096 2>/dev/null || true
W0=$(writes)
cp_run --prune owned apply
refused "disk full" "No space left on device" "ledger.json" "nothing was done"
cmp -s "$CP_STATE/ledger.json" "$CP_WORK/ledger.before" || e2e_fail "disk full: the ledger changed"
assert_eq "$(wc -c <"$CP_STATE/intents.jsonl")" 0 "disk full: bytes in intents.jsonl"

# ---- 2. room for the ledger (one page), not for the intents (about 12 KiB)
truncate -s -8192 "$MNT/filler"
cp_run --prune owned apply
refused "no room for the intents" "the create intents could not be made durable" \
    "No space left on device" "no create was sent" "nothing was done"
assert_eq "$(wc -c <"$CP_STATE/intents.jsonl")" 0 "no torn intents left behind"
assert_eq "$(live_projects)" 3 "projects live"
compgen -G "$CP_STATE/*.tmp" >/dev/null && e2e_fail "a temporary file was left behind"

# ---- 3. room again -----------------------------------------------------
rm -f "$MNT/filler"
cp_expect 0 --prune owned apply
assert_eq "$(live_projects)" 40 "projects live"
assert_eq "$(jq '[.projects[] | select(.created)] | length' "$CP_STATE/ledger.json")" 40 "projects recorded"
assert_eq "$(jq '[.deployments[] | select(.created)] | length' "$CP_STATE/ledger.json")" 80 "deployments recorded"
assert_eq "$(wc -c <"$CP_STATE/intents.jsonl")" 0 "intents left open"
cp "$CP_STATE/ledger.json" "$CP_WORK/ledger.before"

# ---- 4. read-only: apply refuses (it cannot even take its lock), plan
# works -------------------------------------------------------------------
team 41
read_only
W0=$(writes)
cp_run --prune owned apply
refused "read-only" "Read-only file system" "lock"
cp_expect 2 --prune owned plan
echo "$CP_OUT" | grep -q 'create project "full-41"' || e2e_fail "read-only: plan does not show the create"
writable
cmp -s "$CP_STATE/ledger.json" "$CP_WORK/ledger.before" || e2e_fail "read-only: the ledger changed"

# ---- 5. the daemon's folder turns read-only under it --------------------
team 40
dm_start --prune owned --interval 1h
dm_wait_reconciles 1
assert_eq "$(dm_status .last_reconcile.result)" ok "the daemon's first reconcile"
read_only
W0=$(writes)
team 42         # the change is seen, and reconciled
wait_for 30 "a reconcile that fails on the read-only folder" \
    '[ "$(dm_status .last_reconcile.error | grep -c "nothing was done")" = 1 ]'
err=$(dm_status .last_reconcile.error)
echo "daemon, read-only: $err"
echo "$err" | grep -q "Read-only file system" || e2e_fail "the daemon's error does not say read-only: $err"
echo "$err" | grep -q "nothing was done" || e2e_fail "the daemon's error does not say nothing was done: $err"
assert_eq "$(writes)" "$W0" "daemon, read-only: writes sent"
assert_eq "$(live_projects)" 40 "daemon, read-only: projects live"
writable
n=$(dm_reconciles)
assert_eq "$(dm_code POST /reconcile)" 202 "POST /reconcile"
wait_for 30 "full-42" '[ "$(live_projects_named full-42)" = 1 ]'
dm_wait_reconciles $((n + 1))
wait_for 30 "a reconcile that ends ok" '[ "$(dm_status .last_reconcile.result)" = ok ]'
dm_stop
assert_eq "$(jq '[.projects[] | select(.created)] | length' "$CP_STATE/ledger.json")" 42 "projects recorded"
assert_eq "$(duplicate_names)" 0 "duplicate project names"
echo "ok: a full disk and a read-only state folder stopped every run with nothing done; with room again, converged"
