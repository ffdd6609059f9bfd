#!/usr/bin/env bash
# End to end: plan and apply against a hostile API (tests/support/
# hostile_api.py), one case of issue 18 per run: `hostile.sh CASE`.
#   nul       a listed name with a NUL must not match (and delete) "shop"
#   c1        C1 controls and raw bytes in names never reach the output raw
#   dup       an id on two pages: no false conflict, no double delete
#   dup-legacy  one deployment in two per-project listings (older API)
#   endless   fresh cursors, same items: stopped at once, nothing done
#   echo      the token echoed in API errors never reaches stdout or stderr
set -eu
: "${CP_BUILD_DIR:?}" "${CP_SOURCE_DIR:?}"
case_name=${1:?usage: hostile.sh CASE}

CP_BIN="$CP_BUILD_DIR/convex-provisioner"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/cp-hostile.XXXXXX")
DESIRED="$WORK/desired"
STATE="$WORK/state"
REQS="$WORK/requests.log"
mkdir -p "$DESIRED" "$STATE"
: >"$WORK/config.yaml"
: >"$REQS"
TOKEN=tok-HOSTILE-SECRET-0123456789
API_PID=

cleanup() {
	if [ -n "$API_PID" ]; then
		kill "$API_PID" 2>/dev/null || true
		wait "$API_PID" 2>/dev/null || true
	fi
	rm -rf "$WORK"
}
trap cleanup EXIT

fail() {
	echo "FAIL ($case_name): $*" >&2
	echo "--- stdout" >&2; cat "$WORK/out" >&2 2>/dev/null || true
	echo "--- stderr" >&2; cat "$WORK/err" >&2 2>/dev/null || true
	echo "--- requests" >&2; cat "$REQS" >&2
	exit 1
}

# api_start SCENARIO: the hostile server on a free port (API_URL).
api_start() {
	local port=""
	python3 "$CP_SOURCE_DIR/tests/support/hostile_api.py" --scenario "$1" \
	    --log "$REQS" >"$WORK/api.out" 2>"$WORK/api.err" &
	API_PID=$!
	for _ in $(seq 1 100); do
		port=$(head -n 1 "$WORK/api.out" 2>/dev/null || true)
		[ -n "$port" ] && break
		sleep 0.1
	done
	[ -n "$port" ] || { cat "$WORK/api.err" >&2; fail "the hostile API did not start"; }
	API_URL="http://127.0.0.1:$port/v1"
}

# run RC ARGS...: the provisioner (token from the environment), expecting RC.
run() {
	local want=$1 rc=0
	shift
	CONVEX_ACCESS_TOKEN=$TOKEN timeout 120 "$CP_BIN" -c "$WORK/config.yaml" \
	    --api-url "$API_URL" --team 1 --desired "$DESIRED" --state-dir "$STATE" \
	    "$@" >"$WORK/out" 2>"$WORK/err" || rc=$?
	[ "$rc" = "$want" ] || fail "convex-provisioner $*: exit $rc, want $want"
}

no_writes() {
	if grep -E '^POST .*/(delete|create_project|create_deployment)' "$REQS"; then
		fail "$1: a write reached the API"
	fi
}

# No byte of the outputs may drive a terminal: no ESC, no raw C1 byte, no
# C1 as UTF-8 (c2 80..c2 9f), no other C0 than newline and tab (the
# indentation of pretty JSON).
terminal_safe() {
	local f
	for f in "$WORK/out" "$WORK/err"; do
		if LC_ALL=C grep -naP '[\x00-\x08\x0b-\x1f\x7f]|\xc2[\x80-\x9f]|(?<![\xc2-\xf4])[\x80-\x9f]' "$f" >/dev/null; then
			LC_ALL=C od -c "$f" | head -40 >&2
			fail "$1: $f holds a raw control character"
		fi
	done
}

case $case_name in
nul)
	# The API lists "shop\u0000-prod-db"; cut at the NUL it would be
	# "shop", which the files mark absent: apply would delete it.
	api_start nul-name
	cat >"$DESIRED/p.yaml" <<'YAML'
projects:
  - name: shop
    state: absent
  - name: keep
YAML
	run 1 plan
	grep -q 'NUL' "$WORK/err" || fail "plan: the error does not name the NUL"
	run 1 apply --prune all
	grep -q 'nothing was changed' "$WORK/err" || fail "apply: no 'nothing was changed'"
	no_writes "apply"
	run 1 apply --json
	jq -e '.error | test("NUL")' "$WORK/out" >/dev/null || fail "apply --json: no error"
	no_writes "apply --json"
	;;
c1)
	api_start c1-name
	cat >"$DESIRED/p.yaml" <<'YAML'
projects:
  - name: keep
YAML
	run 2 plan --prune all --max-deletes 100
	terminal_safe "plan"
	grep -qF 'shop\u009b2J' "$WORK/out" || fail "plan: C1 not shown as \\u009b"
	grep -qF 'raw\x9bbyte' "$WORK/out" || fail "plan: raw 0x9b not shown as \\x9b"
	grep -qF 'esc\x1b[31mred' "$WORK/out" || fail "plan: ESC not shown as \\x1b"
	run 2 plan --prune all --max-deletes 100 --json
	terminal_safe "plan --json"
	jq -e '[.actions[].project] | index("shop\u009b2J") != null' "$WORK/out" >/dev/null ||
		fail "plan --json: the C1 name does not read back"
	jq -e '[.actions[].project] | index("raw\ufffdbyte") != null' "$WORK/out" >/dev/null ||
		fail "plan --json: the raw byte is not U+FFFD"
	# The same names in the daemon's logs: text and JSON lines.
	run 0 apply --prune all --max-deletes 100 --log-level debug
	terminal_safe "apply (logs at debug)"
	run 0 apply --prune all --max-deletes 100 --log-format json --log-level debug
	terminal_safe "apply --log-format json"
	while IFS= read -r line; do
		echo "$line" | jq -e . >/dev/null 2>&1 || fail "a JSON log line does not parse: $line"
	done <"$WORK/err"
	;;
dup)
	# Project 12 and deployment 102 are on two pages each. Counted twice,
	# "old" would be deleted twice and 6 deletes would pass --max-deletes 4.
	api_start dup-page
	cat >"$DESIRED/p.yaml" <<'YAML'
projects:
  - name: shop
YAML
	run 0 apply --prune all --max-deletes 4 --json
	grep -q 'conflict' "$WORK/out" && fail "a false conflict"
	jq -e '.summary.delete == 4 and .summary.ok == 4' "$WORK/out" >/dev/null ||
		fail "apply: not 4 deletes done"
	for t in "/v1/projects/12/delete" "/v1/projects/13/delete" \
	    "/v1/deployments/happy-otter-1/delete" "/v1/deployments/happy-otter-2/delete"; do
		[ "$(grep -c "^POST $t\$" "$REQS")" = 1 ] || fail "POST $t not sent exactly once"
	done
	grep -q "twice (same id, same fields)" "$WORK/err" || fail "the repeats are not logged"
	;;
dup-legacy)
	# An older API lists deployments project by project; one deployment
	# in two listings is one deployment (and differing copies are refused).
	api_start dup-legacy
	cat >"$DESIRED/p.yaml" <<'YAML'
projects:
  - name: shop
YAML
	run 0 apply --prune all --max-deletes 2 --json
	jq -e '.summary.delete == 2' "$WORK/out" >/dev/null || fail "not 2 deletes"
	[ "$(grep -c '^POST /v1/deployments/happy-otter-1/delete$' "$REQS")" = 1 ] ||
		fail "the deployment delete was not sent exactly once"
	kill "$API_PID"; wait "$API_PID" 2>/dev/null || true; API_PID=
	: >"$REQS"
	api_start dup-legacy-differ
	run 1 apply --prune all --max-deletes 2
	grep -q 'not consistent' "$WORK/err" || fail "differing copies not refused"
	no_writes "apply with differing copies"
	;;
endless)
	api_start endless
	cat >"$DESIRED/p.yaml" <<'YAML'
projects:
  - name: shop
YAML
	run 1 apply --prune all
	grep -q 'no progress' "$WORK/err" || fail "apply: no 'no progress' error"
	[ "$(grep -c '^GET /v1/teams/1/projects' "$REQS")" = 2 ] ||
		fail "more than two pages were asked for"
	no_writes "apply"
	;;
echo)
	api_start echo-token
	cat >"$DESIRED/p.yaml" <<'YAML'
projects:
  - name: keep
YAML
	for args in "plan" "apply" "apply --json" "apply --log-format json --log-level debug" \
	    "plan --log-level debug"; do
		# shellcheck disable=SC2086
		run 1 $args
		if grep -l 'SECRET' "$WORK/out" "$WORK/err"; then
			fail "$args: the token shows"
		fi
		grep -q '\*\*\*' "$WORK/err" "$WORK/out" || fail "$args: no mask where the token was"
	done
	;;
*)
	fail "unknown case"
	;;
esac
echo "ok: hostile $case_name"
exit 0
