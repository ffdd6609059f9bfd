#!/usr/bin/env bash
# End to end: hostile state files (issue 18, classes 2 and 3).
# - a ledger written by a newer version stops plan, apply and run (exit 1,
#   nothing sent, the file untouched, no copy moved aside), so its protect
#   marks are never lost; two JSON documents in the ledger are damage,
#   moved aside like any other;
# - a FIFO (or a link, a folder) at ledger.json, ledger.json.tmp,
#   actions.jsonl or lock is refused before any request, at once.
set -eu
. "$CP_SOURCE_DIR/tests/e2e/lib.sh"
. "$CP_SOURCE_DIR/tests/e2e/cp.sh"
sim_start --seed 5

requests() { sim_stats | jq .total; }

# A run that must end quickly with exit 1: a blocking open would hang it.
refused() {
	local what=$1 rc=0
	shift
	CONVEX_ACCESS_TOKEN=$SIM_TOKEN timeout 20 "$CP_BIN" -c "$CP_WORK/config.yaml" \
	    --api-url "$SIM_URL" --team 1 --desired "$CP_DESIRED" --state-dir "$CP_STATE" \
	    --listen "" "$@" >"$CP_WORK/out" 2>"$CP_WORK/err" </dev/null || rc=$?
	CP_ERR=$(cat "$CP_WORK/err")
	[ "$rc" != 124 ] || e2e_fail "$what: $* blocked (killed after 20 s)"
	[ "$rc" = 1 ] || { echo "$CP_ERR" >&2; e2e_fail "$what: $*: exit $rc, want 1"; }
}

id=$(sim_post /teams/1/create_project '{"projectName":"precious"}' | jq .id)
desired keep.yaml <<'YAML'
projects:
  - name: keep
YAML

# ---- a ledger from a newer version ------------------------------------
cat >"$CP_STATE/ledger.json" <<JSON
{"version": 2, "projects": [{"id": $id, "name": "precious", "created": true,
  "protect": true, "reason": "a field version 2 added"}], "deployments": []}
JSON
cp "$CP_STATE/ledger.json" "$CP_WORK/ledger.v2"
before=$(requests)
for cmd in plan apply "apply --prune all" run; do
	# shellcheck disable=SC2086
	refused "newer ledger" $cmd
	echo "$CP_ERR" | grep -q "written by a newer version" ||
		e2e_fail "newer ledger, $cmd: no message: $CP_ERR"
	echo "$CP_ERR" | grep -q "nothing was done" ||
		e2e_fail "newer ledger, $cmd: does not say nothing was done: $CP_ERR"
done
assert_eq "$(requests)" "$before" "requests sent with a newer ledger"
cmp -s "$CP_STATE/ledger.json" "$CP_WORK/ledger.v2" || e2e_fail "the newer ledger was changed"
compgen -G "$CP_STATE/*corrupt*" >/dev/null && e2e_fail "the newer ledger was moved aside"
assert_eq "$(live_projects_named precious)" 1 "the protected project"
assert_eq "$(live_projects_named keep)" 0 "nothing created"

# ---- two JSON documents: damage, moved aside ----------------------------
printf '{"version":1,"projects":[],"deployments":[]}\n{"version":1,"projects":[],"deployments":[]}\n' \
    >"$CP_STATE/ledger.json"
cp_expect 0 apply
echo "$CP_ERR" | grep -q "is corrupt (data after the JSON document" ||
	e2e_fail "two documents: not reported as damage: $CP_ERR"
[ "$(compgen -G "$CP_STATE/ledger.json.corrupt-*" | wc -l)" = 1 ] || e2e_fail "no copy moved aside"
jq -e .version "$CP_STATE/ledger.json" >/dev/null || e2e_fail "no new ledger written"
rm -f "$CP_STATE"/ledger.json.corrupt-*

# ---- FIFOs, links and folders among the state files -----------------------
desired new.yaml <<'YAML'
projects:
  - name: fresh
YAML
for f in ledger.json ledger.json.tmp actions.jsonl lock; do
	for kind in fifo link dir; do
		mv "$CP_STATE/ledger.json" "$CP_WORK/ledger.keep"
		[ "$f" = ledger.json ] || mv "$CP_WORK/ledger.keep" "$CP_STATE/ledger.json"
		rm -rf "${CP_STATE:?}/$f"
		case $kind in
		fifo) mkfifo "$CP_STATE/$f" ;;
		link) ln -s /tmp/cp-nowhere-$$ "$CP_STATE/$f" ;;
		dir) mkdir "$CP_STATE/$f" ;;
		esac
		before=$(requests)
		for cmd in plan apply run; do
			refused "$kind at $f" $cmd
			echo "$CP_ERR" | grep -q "$f" || e2e_fail "$kind at $f, $cmd: the file is not named: $CP_ERR"
		done
		assert_eq "$(requests)" "$before" "requests sent with a $kind at $f"
		assert_eq "$(live_projects_named fresh)" 0 "created with a $kind at $f"
		rm -rf "${CP_STATE:?}/$f"
		[ -e "$CP_WORK/ledger.keep" ] && mv "$CP_WORK/ledger.keep" "$CP_STATE/ledger.json"
	done
done
[ -e /tmp/cp-nowhere-$$ ] && e2e_fail "a link was followed"

# And once cleared, everything works again and is recorded.
cp_expect 0 apply
assert_eq "$(live_projects_named fresh)" 1 "created once cleared"
grep -q '"project":"fresh"' "$CP_STATE/actions.jsonl" || e2e_fail "the create is not in the audit trail"
echo "ok: state files"
