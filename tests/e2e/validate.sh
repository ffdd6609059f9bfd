#!/usr/bin/env bash
# validate.sh: the built binary's `validate`: the examples pass, a misspelt
# key fails with its exact file:line:col, settings errors stop it early,
# and --help / --version say what they should.
set -u

: "${CP_BUILD_DIR:?CP_BUILD_DIR must be set (ctest sets it)}"
: "${CP_SOURCE_DIR:?CP_SOURCE_DIR must be set (ctest sets it)}"
bin="$CP_BUILD_DIR/convex-provisioner"
[ -x "$bin" ] || { echo "FAIL: no binary at $bin" >&2; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/cp-validate.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fails=0

fail() {
	echo "FAIL: $*" >&2
	fails=$((fails + 1))
}

# expect NAME WANT_RC WANT_STDOUT WANT_STDERR -- ARGS...
# Runs the binary from the source folder (so example paths are relative)
# with an empty settings file unless ARGS name another one.
expect() {
	local name=$1 want_rc=$2 want_out=$3 want_err=$4 rc out err
	shift 5
	out=$(cd "$CP_SOURCE_DIR" && "$bin" "$@" 2>"$tmp/stderr")
	rc=$?
	err=$(cat "$tmp/stderr")
	[ "$rc" = "$want_rc" ] || fail "$name: exit $rc, want $want_rc (stderr: $err)"
	[ "$out" = "$want_out" ] || fail "$name: stdout
got:  $out
want: $want_out"
	[ "$err" = "$want_err" ] || fail "$name: stderr
got:  $err
want: $want_err"
}

: >"$tmp/empty.yaml"
E=(-c "$tmp/empty.yaml")
# Each settings file that was read is confirmed first.
S="$tmp/empty.yaml: settings: valid"

# The examples, and the example settings file, are valid.
expect "examples" 0 \
	"$S
config/examples: 3 projects, 5 deployments in 2 files: valid" "" -- \
	"${E[@]}" validate config/examples
expect "example settings" 0 \
	"config/convex-provisioner.yaml: settings: valid
config/examples: 3 projects, 5 deployments in 2 files: valid" "" -- \
	-c config/convex-provisioner.yaml validate config/examples
# PATH overrides --desired; options may follow the command.
expect "options after the command" 0 \
	"$S
config/examples/shop.yaml: 1 project, 3 deployments in 1 file: valid" "" -- \
	validate --desired /nonexistent config/examples/shop.yaml "${E[@]}"
expect "--desired" 0 \
	"$S
config/examples: 3 projects, 5 deployments in 2 files: valid" "" -- \
	"${E[@]}" --desired config/examples validate

# A misspelt key: exit 1, the exact place, nothing on stdout.
mkdir -p "$tmp/desired/team"
cat >"$tmp/desired/team/shop.yaml" <<'YAML'
# yaml-language-server: $schema=../../docs/desired-state.schema.json
projects:
  - name: shop
    deployments:
      - reference: production
        type: prod
      - referense: staging
        type: dev
YAML
expect "misspelt key" 1 "" \
	"$tmp/desired/team/shop.yaml:7:9: error: unknown key \"referense\" in deployment (expected one of: reference, type, region, class, default, state, protect, dashboard_edit_confirmation, send_logs_to_client, expires_at, renamed_from, domains, deploy_keys)
$tmp/desired/team/shop.yaml:7:9: error: deployment has no \"reference\"" -- \
	"${E[@]}" validate "$tmp/desired"

# Every error of every file in one run, and a duplicate across files.
cat >"$tmp/desired/a.yaml" <<'YAML'
projects:
  - name: shop
    state: gone
YAML
expect "all errors" 1 "" \
	"$tmp/desired/a.yaml:3:12: error: invalid state \"gone\" (expected present or absent)
$tmp/desired/team/shop.yaml:3:11: error: duplicate project name \"shop\" (first declared at $tmp/desired/a.yaml:2:11)
$tmp/desired/team/shop.yaml:7:9: error: unknown key \"referense\" in deployment (expected one of: reference, type, region, class, default, state, protect, dashboard_edit_confirmation, send_logs_to_client, expires_at, renamed_from, domains, deploy_keys)
$tmp/desired/team/shop.yaml:7:9: error: deployment has no \"reference\"" -- \
	"${E[@]}" validate "$tmp/desired"

# The keys of in-place updates and renames (SPEC section 8): valid ones,
# then a bad time, a rename from a declared project and a shared one.
mkdir -p "$tmp/renames"
cat >"$tmp/renames/a.yaml" <<'YAML'
projects:
  - name: shop
    slug: shop-eu
    renamed_from: [web-shop]
    deployments:
      - reference: production
        type: prod
        renamed_from: prod
        expires_at: never
YAML
expect "renames: reserved reference" 1 "" \
	"$tmp/renames/a.yaml:8:23: error: renamed_from \"prod\" is reserved" -- \
	"${E[@]}" validate "$tmp/renames"
sed -i 's/renamed_from: prod$/renamed_from: main/' "$tmp/renames/a.yaml"
expect "renames: valid" 0 "$S
$tmp/renames: 1 project, 1 deployment in 1 file: valid" "" -- \
	"${E[@]}" validate "$tmp/renames"
cat >"$tmp/renames/b.yaml" <<'YAML'
projects:
  - name: web-shop
  - name: store
    renamed_from: [old-store, web-shop-old]
    deployments:
      - {reference: main, type: dev, expires_at: 2027-02-30T00:00:00Z}
  - name: market
    renamed_from: old-store
YAML
expect "renames: errors" 1 "" \
	"$tmp/renames/b.yaml:2:11: error: project \"web-shop\" is also an earlier name of project \"shop\" (renamed_from at $tmp/renames/a.yaml:4:20)
$tmp/renames/b.yaml:6:50: error: invalid expires_at \"2027-02-30T00:00:00Z\": the day is out of range for its month (expected an RFC 3339 time such as 2027-01-31T00:00:00Z, or never)
$tmp/renames/b.yaml:8:19: error: renamed_from \"old-store\" is also claimed by project \"store\" (at $tmp/renames/b.yaml:4:20)" -- \
	"${E[@]}" validate "$tmp/renames"

# env, domains, deploy keys (SPEC section 9): a secret that cannot be read
# offline is a warning for validate (exit 0), an error with --strict; a
# value that breaks a rule is an error either way, and never shown.
mkdir -p "$tmp/secrets/conf"
printf 'sk_live_never_shown\n' >"$tmp/secrets/conf/stripe"
cat >"$tmp/secrets/conf/shop.yaml" <<'YAML'
projects:
  - name: shop
    env:
      prod:
        STRIPE_KEY: {file: stripe}
        SENTRY_DSN: {file: /nonexistent/sentry}
    deployments:
      - reference: production
        type: prod
        domains: [{domain: api.shop.example.com, destination: convexCloud}]
        deploy_keys: [github-actions]
YAML
expect "secrets: a warning for validate" 0 "$S
$tmp/secrets: 1 project, 1 deployment in 1 file: valid" \
	"$tmp/secrets/conf/shop.yaml:6:28: warning: cannot read the value of \"SENTRY_DSN\" from file \"/nonexistent/sentry\": No such file or directory" -- \
	"${E[@]}" validate "$tmp/secrets"
expect "secrets: an error with --strict" 1 "" \
	"$tmp/secrets/conf/shop.yaml:6:28: error: cannot read the value of \"SENTRY_DSN\" from file \"/nonexistent/sentry\": No such file or directory" -- \
	"${E[@]}" validate --strict "$tmp/secrets"
sed -i 's|{file: /nonexistent/sentry}|"sk_live_never_shown\\0"|' "$tmp/secrets/conf/shop.yaml"
expect "secrets: a bad value is never shown" 1 "" \
	"$tmp/secrets/conf/shop.yaml:6:21: error: the value of \"SENTRY_DSN\" contains a NUL character" -- \
	"${E[@]}" validate "$tmp/secrets"

# An empty folder is valid.
mkdir "$tmp/none"
expect "empty folder" 0 "$S
$tmp/none: 0 projects, 0 deployments in 0 files: valid" "" -- \
	"${E[@]}" validate "$tmp/none"
expect "missing path" 1 "" \
	"$tmp/nope: error: cannot read: No such file or directory" -- \
	"${E[@]}" validate "$tmp/nope"

# Settings errors stop the run before the command.
printf 'interval: 5m\ntoken: abc123\n' >"$tmp/bad-settings.yaml"
expect "token in settings" 1 "" \
	"$tmp/bad-settings.yaml:2:1: error: the API token may not be in the settings file; use token_file (--token-file), \$CREDENTIALS_DIRECTORY/convex-token or the CONVEX_ACCESS_TOKEN environment variable" -- \
	-c "$tmp/bad-settings.yaml" validate config/examples
expect "missing -c file" 1 "" \
	"$tmp/missing.yaml: error: cannot read: No such file or directory" -- \
	-c "$tmp/missing.yaml" validate config/examples
expect "bad flag value" 1 "" \
	"error: --interval: invalid duration \"5x\" (expected seconds, or a number followed by s, m or h: 90, 30s, 5m, 1h)" -- \
	"${E[@]}" validate config/examples --interval 5x
expect "token flag" 1 "" \
	"error: the API token is never given as a flag; use token_file (--token-file), \$CREDENTIALS_DIRECTORY/convex-token or the CONVEX_ACCESS_TOKEN environment variable" -- \
	"${E[@]}" --token abc123 validate config/examples
expect "too many arguments" 1 "" "error: validate takes at most one PATH" -- \
	"${E[@]}" validate a b
expect "unknown command" 1 "" "error: unknown command \"frobnicate\" (see --help)" -- \
	"${E[@]}" frobnicate

# --version and --help.
version=$(sed -n 's/^project(convex-provisioner VERSION \([0-9.]*\).*/\1/p' "$CP_SOURCE_DIR/CMakeLists.txt")
expect "--version" 0 "convex-provisioner $version" "" -- --version
help=$("$bin" --help) || fail "--help exit $?"
for word in "Usage: convex-provisioner" "validate [PATH]" "-c, --config FILE" \
	--api-url --team --token-file --desired --interval --concurrency --prune \
	--max-deletes --allow-empty --state-dir --listen --log-level --log-format \
	--ca-file --json --strict --help --version CONVEX_PROVISION_HOST CONVEX_TEAM_ID; do
	case $help in
	*"$word"*) ;;
	*) fail "--help does not mention $word" ;;
	esac
done
out=$("$bin" 2>&1)
rc=$?
[ "$rc" = 1 ] || fail "no command: exit $rc, want 1"
case $out in
*"error: no command given"*"Usage:"*) ;;
*) fail "no command: $out" ;;
esac

[ "$fails" = 0 ] || { echo "$fails failure(s)" >&2; exit 1; }
echo "validate.sh: all checks passed"
