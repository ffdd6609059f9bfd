#!/usr/bin/env bash
# tests/e2e/systemd_unit.sh: the generated unit and the git-sync pair pass `systemd-analyze verify`; the daemon's unit keeps its contract and rates 1.5 or less in `systemd-analyze security --offline=true`.
set -eu
: "${CP_BUILD_DIR:?CP_BUILD_DIR must be set (ctest sets it)}"
: "${CP_SOURCE_DIR:?CP_SOURCE_DIR must be set (ctest sets it)}"

MAX=1.5          # highest overall exposure allowed for the daemon
MAX_SYNC=2.0     # and for the git-sync example

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

command -v systemd-analyze >/dev/null || fail "systemd-analyze not found (apt-get install systemd)"
command -v man >/dev/null || fail "man not found (apt-get install man-db): verify checks Documentation="

unit=$CP_BUILD_DIR/systemd/convex-provisioner.service
bin=$CP_BUILD_DIR/convex-provisioner
[ -f "$unit" ] || fail "no generated unit at $unit"
[ -x "$bin" ] || fail "no binary at $bin"
for p in man8/convex-provisioner.8 man5/convex-provisioner.yaml.5; do
	[ -s "$CP_BUILD_DIR/man/$p" ] || fail "man page $p not built"
done

work=$(mktemp -d "${TMPDIR:-/tmp}/cp-unit.XXXXXX")
trap 'rm -rf "$work"' EXIT

# verify needs ExecStart='s binary to exist: a copy of the generated unit
# that starts the one just built.
grep -q '^ExecStart=/[^ ]*/convex-provisioner run$' "$unit" ||
	fail "ExecStart= of $unit is not '<bindir>/convex-provisioner run'"
sed "s|^ExecStart=/[^ ]*/convex-provisioner |ExecStart=$bin |" "$unit" \
	>"$work/convex-provisioner.service"
grep -qxF "ExecStart=$bin run" "$work/convex-provisioner.service" ||
	fail "could not point ExecStart= at $bin"
cp "$CP_SOURCE_DIR/systemd/convex-provisioner-git-sync.service" \
	"$CP_SOURCE_DIR/systemd/convex-provisioner-git-sync.timer" "$work/"

# ---- the contract of the unit (SPEC section 6, issue 7)
u=$work/convex-provisioner.service
for line in \
	'Type=notify' \
	'ExecReload=/bin/kill -HUP $MAINPID' \
	'Restart=on-failure' \
	'DynamicUser=yes' \
	'StateDirectory=convex-provisioner' \
	'ConfigurationDirectory=convex-provisioner' \
	'LoadCredential=convex-token:/etc/convex-provisioner/token'; do
	grep -qxF "$line" "$u" || fail "unit lacks '$line'"
done
grep -q '^WatchdogSec=[1-9]' "$u" || fail "unit has no WatchdogSec="
# It must still reach the API over HTTPS, journald and the notify socket.
fams=$(sed -n 's/^RestrictAddressFamilies=//p' "$u")
for f in AF_INET AF_INET6 AF_UNIX; do
	case " $fams " in
	*" $f "*) ;;
	*) fail "RestrictAddressFamilies= does not allow $f (got '$fams')" ;;
	esac
done
if grep -Eq '^(IPAddressDeny=.*any|PrivateNetwork=(yes|true|1))' "$u"; then
	fail "unit cuts the network off (IPAddressDeny=any or PrivateNetwork=)"
fi
if grep -Eq '^(ReadOnlyPaths|InaccessiblePaths)=.*/var/lib' "$u"; then
	fail "unit hides or freezes /var/lib (the state directory)"
fi

# ---- systemd-analyze verify: all three units, man pages from the build
# (Documentation= names them).
if ! out=$(cd "$work" && MANPATH=$CP_BUILD_DIR/man SYSTEMD_LOG_COLOR=0 \
	systemd-analyze verify convex-provisioner.service \
	convex-provisioner-git-sync.service convex-provisioner-git-sync.timer 2>&1); then
	echo "$out" >&2
	fail "systemd-analyze verify failed"
fi
[ -z "$out" ] || { echo "$out" >&2; fail "systemd-analyze verify printed warnings"; }
echo "verify: ok"

# ---- systemd-analyze security --offline=true
# exposure FILE: prints the overall exposure level (a decimal number).
exposure() {
	local out level
	out=$(cd "$work" && systemd-analyze security --offline=true --no-pager "$1" 2>&1) ||
		{ echo "$out" >&2; fail "systemd-analyze security $1 failed"; }
	level=$(printf '%s\n' "$out" |
		sed -n 's/.*Overall exposure level for [^:]*: \([0-9][0-9]*\.[0-9]\).*/\1/p')
	[ -n "$level" ] || { echo "$out" >&2; fail "no overall exposure level for $1"; }
	echo "$level"
}
# above A B: true when A > B (decimals).
above() {
	awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 > b + 0) }'
}

level=$(exposure convex-provisioner.service)
echo "security: convex-provisioner.service exposure $level (at most $MAX)"
above "$level" "$MAX" && fail "convex-provisioner.service exposure $level is above $MAX"
# The same verdict from systemd's own threshold (tenths: 15 = 1.5).
(cd "$work" && systemd-analyze security --offline=true --no-pager \
	--threshold=15 convex-provisioner.service >/dev/null 2>&1) ||
	fail "systemd-analyze security --threshold=15 rejects convex-provisioner.service"

level=$(exposure convex-provisioner-git-sync.service)
echo "security: convex-provisioner-git-sync.service exposure $level (at most $MAX_SYNC)"
above "$level" "$MAX_SYNC" && fail "git-sync exposure $level is above $MAX_SYNC"

# The measure itself must be able to fail: the unit without its hardening
# (everything after "# Hardening.") rates far above the limit.
mkdir "$work/bare"
sed '/^# Hardening\./,/^\[Install\]/{/^\[Install\]/!d}' "$u" \
	>"$work/bare/convex-provisioner.service"
grep -q '^ProtectSystem=' "$work/bare/convex-provisioner.service" &&
	fail "could not strip the hardening block for the control case"
level=$(work=$work/bare exposure convex-provisioner.service)
above "$level" "$MAX" || fail "control case: the unhardened unit rates $level, not above $MAX"
echo "security: control case without hardening rates $level"

# ---- the git-sync service's command: clones, fast-forwards, and refuses a
# rewritten branch, leaving the clone as it was. Run as systemd would, with
# `$$` unescaped, in a scratch state folder against a local repository.
command -v git >/dev/null || fail "git not found (apt-get install git)"
line=$(sed -n 's/^ExecStart=//p' "$work/convex-provisioner-git-sync.service")
case $line in
"/bin/sh -ec '"*"'") ;;
*) fail "git-sync ExecStart= is not /bin/sh -ec '...': $line" ;;
esac
script=${line#"/bin/sh -ec '"}
script=${script%"'"}
script=$(printf '%s' "$script" | sed 's/\$\$/$/g')
export HOME=$work/home GIT_CONFIG_NOSYSTEM=1 GIT_TERMINAL_PROMPT=0
mkdir -p "$HOME" "$work/state"
git config --global user.name test
git config --global user.email test@localhost
git config --global init.defaultBranch main
git init -q "$work/src"
commit() {	# commit FILE TEXT
	printf 'projects: [{name: %s}]\n' "$2" >"$work/src/$1"
	git -C "$work/src" add -A
	git -C "$work/src" commit -q -m "$2"
}
commit a.yaml one
git clone -q --bare "$work/src" "$work/origin.git"
sync() {
	(cd "$work/state" && CP_GIT_URL=$work/origin.git CP_GIT_BRANCH=main \
		/bin/sh -ec "$script") >"$work/sync.log" 2>&1
}
sync || { cat "$work/sync.log" >&2; fail "git-sync: the first run did not clone"; }
grep -q 'name: one' "$work/state/repo/a.yaml" || fail "git-sync: clone lacks a.yaml"
commit a.yaml two
git -C "$work/src" push -q "$work/origin.git" main
sync || { cat "$work/sync.log" >&2; fail "git-sync: the second run did not pull"; }
grep -q 'name: two' "$work/state/repo/a.yaml" || fail "git-sync: pull did not fast-forward"
good=$(git -C "$work/state/repo" rev-parse HEAD)
git -C "$work/src" reset -q --hard HEAD~1
commit a.yaml rewritten
git -C "$work/src" push -q --force "$work/origin.git" main
sync && fail "git-sync: a rewritten branch was pulled"
[ "$(git -C "$work/state/repo" rev-parse HEAD)" = "$good" ] ||
	fail "git-sync: the clone moved after a refused pull"
grep -q 'name: two' "$work/state/repo/a.yaml" || fail "git-sync: the files changed after a refused pull"
echo "git-sync: clones, fast-forwards, refuses a rewritten branch"
echo "systemd_unit: all checks passed"
