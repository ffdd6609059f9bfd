# shellcheck shell=bash
# tests/e2e/daemon_lib.sh: helpers for the end-to-end scripts of `run`: start
# the daemon against the simulator, find its status port, poll, stop it with
# a deadline, read the notify socket and /metrics. Sources lib.sh and cp.sh.
#
#   . "$CP_SOURCE_DIR/tests/e2e/daemon_lib.sh"
#   dm_sim_start --seed 1
#   dm_start --interval 2s          # $DM_PID, $DM_PORT, $DM_URL; logs in $DM_ERR
#   wait_for 20 "the project" '[ "$(live_projects_named shop)" = 1 ]'
#   dm_stop 12                      # SIGTERM; fails unless exit 0 within 12 s

. "$CP_SOURCE_DIR/tests/e2e/lib.sh"
. "$CP_SOURCE_DIR/tests/e2e/cp.sh"

DM_PID=
DM_PORT=
DM_URL=
DM_OUT=$CP_WORK/daemon.out
DM_ERR=$CP_WORK/daemon.err
NL_PID=
NL_SOCK=
NL_OUT=
PROMCHECK="$CP_BUILD_DIR/tests/promcheck"
NOTIFY_LISTEN="$CP_BUILD_DIR/tests/notify_listen"

# The script's own cleanup runs first: a daemon or listener left behind by a
# failed assertion is killed (it has had its chance to stop cleanly).
dm_cleanup() {
	if [ -n "$DM_PID" ]; then
		kill -KILL "$DM_PID" 2>/dev/null || true
		wait "$DM_PID" 2>/dev/null || true
		echo "--- daemon stderr (tail)" >&2
		tail -n 40 "$DM_ERR" >&2 2>/dev/null || true
	fi
	if [ -n "$NL_PID" ]; then
		kill -TERM "$NL_PID" 2>/dev/null || true
		wait "$NL_PID" 2>/dev/null || true
	fi
	cp_cleanup
}
trap dm_cleanup EXIT

# dm_sim_start ARGS...: sim_start, keeping our EXIT trap (sim_start sets its
# own).
dm_sim_start() {
	sim_start "$@"
	trap dm_cleanup EXIT
}

# wait_for SECONDS WHAT COMMAND...: polls COMMAND every 0.1 s until it
# succeeds; fails the script naming WHAT after SECONDS. A single word is
# evaluated anew each time, so it may hold $(...):
#   wait_for 10 "shop" '[ "$(live_projects_named shop)" = 1 ]'
wait_for() {
	local secs=$1 what=$2 end
	shift 2
	end=$(($(date +%s%N) / 1000000 + secs * 1000))
	until _wait_try "$@"; do
		if [ "$(($(date +%s%N) / 1000000))" -ge "$end" ]; then
			e2e_fail "waited ${secs}s for $what"
		fi
		if [ -n "$DM_PID" ] && ! kill -0 "$DM_PID" 2>/dev/null; then
			e2e_fail "the daemon exited while waiting for $what"
		fi
		sleep 0.1
	done
}

_wait_try() {
	if [ $# -eq 1 ]; then
		eval "$1"
	else
		"$@"
	fi
}

# now_ms: wall clock in milliseconds.
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# dm_spawn ARGS...: starts `convex-provisioner ... run ARGS` in the background
# with the token in the environment (never in argv); $DM_PID. Extra
# environment for the daemon goes in the array DM_ENV (NAME=VALUE...), a
# command that execs the rest in the array DM_WRAP (unshare ...).
DM_ENV=()
DM_WRAP=()
dm_spawn() {
	# Emptied here, not by the redirection below (which the child does
	# after the fork): dm_start must never read an earlier daemon's port.
	: >"$DM_ERR"
	${DM_WRAP[@]+"${DM_WRAP[@]}"} env ${DM_ENV[@]+"${DM_ENV[@]}"} CONVEX_ACCESS_TOKEN="$SIM_TOKEN" \
	    "$CP_BIN" -c "$CP_WORK/config.yaml" --api-url "$SIM_URL" \
	    ${SIM_CA_FILE:+--ca-file "$SIM_CA_FILE"} --desired "$CP_DESIRED" --state-dir "$CP_STATE" --listen 127.0.0.1:0 \
	    run "$@" >"$DM_OUT" 2>"$DM_ERR" &
	DM_PID=$!
}

_dm_port_logged() {
	DM_PORT=$(sed -n 's/.*status endpoint on .* (port \([0-9][0-9]*\)).*/\1/p' "$DM_ERR" | head -n 1)
	[ -n "$DM_PORT" ]
}

# dm_start ARGS...: dm_spawn, then waits (30 s) for the status port in the
# log: $DM_PORT and $DM_URL (http://127.0.0.1:PORT).
dm_start() {
	dm_spawn "$@"
	wait_for 30 "the status endpoint's port in the log" _dm_port_logged
	DM_URL=http://127.0.0.1:$DM_PORT
}

# dm_wait_exit SECONDS: waits for the daemon to exit; its exit code in
# $DM_RC. Fails the script if it is still running after SECONDS.
dm_wait_exit() {
	local end=$(($(now_ms) + $1 * 1000))
	while kill -0 "$DM_PID" 2>/dev/null; do
		[ "$(now_ms)" -ge "$end" ] && e2e_fail "the daemon still runs $1 s later"
		sleep 0.05
	done
	DM_RC=0
	wait "$DM_PID" || DM_RC=$?
	DM_PID=
	dm_no_sanitizer_report
}

# dm_stop [SECONDS]: SIGTERM, then the daemon must exit 0 within SECONDS
# (default 15).
dm_stop() {
	kill -TERM "$DM_PID"
	dm_wait_exit "${1:-15}"
	if [ "$DM_RC" != 0 ]; then
		tail -n 40 "$DM_ERR" >&2
		e2e_fail "the daemon exited $DM_RC after SIGTERM, want 0"
	fi
}

# The sanitizers abort on undefined behaviour and turn a leak into a
# non-zero exit, but say why only on stderr.
dm_no_sanitizer_report() {
	if grep -q -e 'Sanitizer' -e 'runtime error:' "$DM_ERR"; then
		cat "$DM_ERR" >&2
		e2e_fail "a sanitizer report in the daemon's stderr"
	fi
}

# dm_log_has REGEX: the daemon's stderr has a matching line.
dm_log_has() { grep -E -q -e "$1" "$DM_ERR"; }

# Status endpoint.
dm_get() { curl -sS --max-time 20 "$DM_URL$1"; }
# dm_code METHOD PATH: prints the HTTP status only.
dm_code() { curl -sS --max-time 20 -o /dev/null -w '%{http_code}' -X "$1" "$DM_URL$2"; }
# dm_status JQ: a field of GET /status.
dm_status() { dm_get /status | jq -r "$1"; }
# dm_metric SERIES: its value on /metrics (the page must be well formed).
dm_metric() { dm_get /metrics | "$PROMCHECK" -v "$1"; }
# dm_reconciles: reconciles finished so far, whatever their result.
dm_reconciles() {
	dm_get /metrics | "$PROMCHECK" \
	    -v 'convex_provisioner_reconcile_total{result="ok"}' \
	    -v 'convex_provisioner_reconcile_total{result="error"}' \
	    -v 'convex_provisioner_reconcile_total{result="blocked"}' |
	    awk '{ n += $1 } END { print n }'
}
# dm_wait_reconciles N [SECONDS]: until at least N reconciles have finished.
dm_wait_reconciles() {
	wait_for "${2:-30}" "$1 reconciles" "[ \"\$(dm_reconciles)\" -ge $1 ]"
}

# sim_count ROUTE [STATUS]: how many /v1 requests of ROUTE (a template such
# as "GET /teams/{team}/projects") the simulator answered (with STATUS).
sim_count() {
	if [ $# -ge 2 ]; then
		sim_stats | jq --arg r "$1" --arg s "$2" '.requests[$r][$s] // 0'
	else
		sim_stats | jq --arg r "$1" '[.requests[$r] // {} | .[]] | add // 0'
	fi
}
# live_refs REFERENCE: cloud deployments with that reference.
live_refs() { sim_state | jq --arg r "$1" '[.deployments[] | select(.reference == $r)] | length'; }
# sim_listings: completed project listings, one per observation.
sim_listings() { sim_count 'GET /teams/{team}/projects' 200; }

# nl_start: binds a notify socket (a stand-in for systemd's) and adds
# NOTIFY_SOCKET to DM_ENV; each datagram is one line of $NL_OUT, prefixed
# with CLOCK_MONOTONIC in ms.
nl_start() {
	NL_SOCK=$CP_WORK/notify.sock
	NL_OUT=$CP_WORK/notify.out
	[ -x "$NOTIFY_LISTEN" ] || e2e_fail "no $NOTIFY_LISTEN"
	"$NOTIFY_LISTEN" -t "$NL_SOCK" >"$NL_OUT" &
	NL_PID=$!
	wait_for 10 "the notify socket" test -S "$NL_SOCK"
	DM_ENV+=("NOTIFY_SOCKET=$NL_SOCK")
}

# nl_count REGEX: datagrams (without their time stamp) matching REGEX.
nl_count() { cut -d' ' -f2- "$NL_OUT" | grep -E -c -e "$1" || true; }
# nl_has_at_least N REGEX
nl_has_at_least() { [ "$(nl_count "$2")" -ge "$1" ]; }
