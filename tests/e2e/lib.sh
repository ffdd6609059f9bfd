# tests/e2e/lib.sh: bash helpers for end-to-end scripts (start/stop convex-api-sim, call it with curl, assert).
#
# Usage in a script run by ctest (add_script_test gives CP_BUILD_DIR and
# CP_SOURCE_DIR):
#   . "$CP_SOURCE_DIR/tests/e2e/lib.sh"
#   sim_start --seed 7 --error-rate 0.1   # sets SIM_PORT SIM_BASE SIM_URL SIM_TOKEN SIM_PID
#   sim_post /teams/1/create_project '{"projectName":"shop"}'
#   sim_stats | jq .total
# sim_start installs an EXIT trap that stops the simulator, unless the
# script has one already: that one must call sim_stop.

: "${CP_BUILD_DIR:?CP_BUILD_DIR must be set (ctest sets it)}"

SIM_PID=
SIM_PORT=
SIM_BASE=
SIM_URL=
SIM_TOKEN=sim-token
SIM_DIR=

e2e_fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# assert_eq GOT WANT [WHAT]
assert_eq() {
	[ "$1" = "$2" ] || e2e_fail "${3:-value}: got '$1', want '$2'"
}

# sim_start [ARGS...]: starts "$CP_BUILD_DIR/convex-api-sim --port 0 ARGS",
# waits (30 s at most) for the port on its first stdout line.
sim_start() {
	local bin="$CP_BUILD_DIR/convex-api-sim" i port prev=
	[ -x "$bin" ] || e2e_fail "no simulator at $bin"
	for i in "$@"; do
		[ "$prev" = "--token" ] && SIM_TOKEN=$i
		prev=$i
	done
	SIM_DIR=$(mktemp -d "${TMPDIR:-/tmp}/cp-sim.XXXXXX")
	"$bin" --port 0 "$@" >"$SIM_DIR/stdout" 2>"$SIM_DIR/stderr" &
	SIM_PID=$!
	# Keep a script's own EXIT trap (which calls sim_stop itself).
	[ -n "$(trap -p EXIT)" ] || trap sim_stop EXIT
	for i in $(seq 1 300); do
		port=$(head -n 1 "$SIM_DIR/stdout" 2>/dev/null || true)
		case $port in
		[0-9]*) break ;;
		esac
		kill -0 "$SIM_PID" 2>/dev/null || { cat "$SIM_DIR/stderr" >&2; e2e_fail "simulator exited before printing its port"; }
		sleep 0.1
	done
	case $port in
	[0-9]*) ;;
	*) e2e_fail "simulator printed no port within 30 s" ;;
	esac
	SIM_PORT=$port
	SIM_BASE=http://127.0.0.1:$SIM_PORT
	SIM_URL=$SIM_BASE/v1
	export SIM_PORT SIM_BASE SIM_URL SIM_TOKEN
}

# sim_stop: SIGTERM and wait; returns the simulator's exit code (0 = clean).
sim_stop() {
	local rc=0
	if [ -n "$SIM_PID" ]; then
		kill -TERM "$SIM_PID" 2>/dev/null || true
		wait "$SIM_PID" || rc=$?
		SIM_PID=
	fi
	if [ -n "$SIM_DIR" ]; then
		[ $rc -ne 0 ] && cat "$SIM_DIR/stderr" >&2
		rm -rf "$SIM_DIR"
		SIM_DIR=
	fi
	return $rc
}

# sim_log: prints what the simulator wrote on stderr so far.
sim_log() {
	[ -n "$SIM_DIR" ] && cat "$SIM_DIR/stderr"
}

_sim_curl() {
	curl -sS --max-time 60 -H "Authorization: Bearer $SIM_TOKEN" \
	    -H 'Content-Type: application/json' "$@"
}

# sim_get PATH: body of GET $SIM_URL/PATH on stdout (PATH starts with /).
sim_get() { _sim_curl "$SIM_URL$1"; }
# sim_post PATH [JSON]
sim_post() { _sim_curl -X POST --data-binary "${2:-}" "$SIM_URL$1"; }
# sim_patch PATH JSON
sim_patch() { _sim_curl -X PATCH --data-binary "$2" "$SIM_URL$1"; }
# sim_status METHOD PATH [JSON]: prints only the HTTP status code.
sim_status() {
	if [ $# -ge 3 ]; then
		_sim_curl -o /dev/null -w '%{http_code}' -X "$1" --data-binary "$3" "$SIM_URL$2"
	else
		_sim_curl -o /dev/null -w '%{http_code}' -X "$1" "$SIM_URL$2"
	fi
}

# Admin routes (never faulted, no token).
sim_stats() { curl -sS --max-time 60 "$SIM_BASE/_sim/stats"; }
sim_state() { curl -sS --max-time 60 "$SIM_BASE/_sim/state"; }
# sim_reset [JSON]: empty team (or the given state), counters zero.
sim_reset() { curl -sS --max-time 60 -X POST --data-binary "${1:-}" "$SIM_BASE/_sim/reset" >/dev/null; }
# sim_load_state FILE: replaces the state with FILE's JSON.
sim_load_state() { curl -sS --max-time 60 -X POST --data-binary "@$1" "$SIM_BASE/_sim/state" >/dev/null; }
# sim_seed PROJECTS [DEPLOYMENTS_PER_PROJECT] [PREFIX]: bulk-creates directly.
sim_seed() {
	curl -sS --max-time 120 -X POST \
	    --data-binary "{\"projects\":$1,\"deploymentsPerProject\":${2:-0},\"prefix\":\"${3:-p}\"}" \
	    "$SIM_BASE/_sim/seed" >/dev/null
}
