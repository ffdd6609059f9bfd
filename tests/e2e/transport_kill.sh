#!/usr/bin/env bash
# tests/e2e/transport_kill.sh: connections killed in the middle of creates never make a duplicate (issue 13, SPEC section 10). Run over plain HTTP/1.1 and, as e2e_transport_kill_https, over HTTPS + HTTP/2 where every create shares one multiplexed connection.
#
# The chain: provisioner -> delay_proxy -> (nghttpx ->) simulator. The proxy
# kills connections, reset (RST) or closed (FIN, --kill-with fin: the case
# where curl would resend a request on a reused connection by itself), in
# two ways:
#  1. --kill-on down --kill-rate R: a chunk coming back from the server
#     kills its connection with probability R (seeded), so requests reach
#     the simulator and act, and their answers are lost: every create in
#     flight on that connection is then ambiguous (over HTTP/2 that is every
#     stream of the one connection); team a with resets, team b with FINs;
#  2. the control command `kill` every 30 to 120 ms during the applies of
#     team c: every open connection killed at once, whatever is in flight;
#  3. over HTTPS, graceful reloads of the server (nghttpx, SIGHUP) every 50
#     to 150 ms during the applies of team d: GOAWAY, then a new connection.
# Then the faults stop and one more apply converges. From the simulator's
# request log (GET /_sim/log: one entry per write, with its effect): no
# project name and no (project, reference) was ever created twice, and the
# team holds exactly what is declared.
#
# KILL_P (projects per team, 30), KILL_SEED (13), KILL_RATE (0.05),
# KILL_DELAY_MS (one-way delay of the proxy, 2) change the run.
set -eu
CP_DELAY_MS=${KILL_DELAY_MS:-2}
. "$CP_SOURCE_DIR/tests/e2e/lib.sh"
. "$CP_SOURCE_DIR/tests/e2e/cp.sh"

P=${KILL_P:-30}
SEED=${KILL_SEED:-13}
RATE=${KILL_RATE:-0.05}

sim_start --seed "$SEED"
if [ "$CP_TRANSPORT" = https ]; then
	UP=$FRONT_PORT URL_HOST=localhost SCHEME=https
else
	UP=$SIM_PORT URL_HOST=127.0.0.1 SCHEME=http
fi

# proxy ARGS...: a new delay_proxy in front of the same server, with ARGS
# (kill options); SIM_URL follows it. The counters of the old one are added
# to KILLED and CONNS first.
KILLED=0
CONNS=0
proxy() {
	if [ -n "$DP_PID" ]; then
		KILLED=$((KILLED + $(dp_stat killed)))
		CONNS=$((CONNS + $(dp_stat accepted)))
		dp_stop || e2e_fail "delay_proxy did not stop cleanly: $(cat "$SIM_DIR/dp.err")"
	fi
	dp_start "$UP" --delay-ms "$CP_DELAY_MS" "$@"
	SIM_URL=$SCHEME://$URL_HOST:$DP_PORT/v1
}

# team PREFIX: P projects PREFIX-NN, each with a default prod and a dev.
team() {
	local i
	echo "projects:"
	for i in $(seq 1 "$P"); do
		printf '  - name: %s-%02d\n    deployments:\n      - reference: production\n        type: prod\n        default: true\n      - reference: staging\n        type: dev\n' "$1" "$i"
	done
}

# count_ambiguous: adds the creates of the last apply whose outcome it
# could not know (printed with the action: "outcome unknown").
AMBIGUOUS=0
count_ambiguous() {
	AMBIGUOUS=$((AMBIGUOUS + $(cat "$CP_WORK/out" "$CP_WORK/err" | grep -c 'outcome unknown' || true)))
}


# check_rc RC: an apply under the faults exits 0, or 1 when something
# failed or stayed ambiguous; nothing else (3 would be a conflict: two
# projects of one name; under CP_WRAP, 99 a valgrind error).
check_rc() {
	case $1 in
	0 | 1) ;;
	*) cat "$CP_WORK/out" "$CP_WORK/err" >&2; e2e_fail "apply under faults exited $1" ;;
	esac
}

# apply_logged: one apply under the faults.
APPLIES=0
apply_logged() {
	cp_run apply --team 1 --concurrency 16
	APPLIES=$((APPLIES + 1))
	check_rc "$CP_RC"
	count_ambiguous
}

# 1. Answers lost at a seeded rate while team a is created (reset) and
# team b (closed: end of file, where curl would resend by itself).
phase=1
for how in rst fin; do
	team "$(echo "$how" | tr rf ab | cut -c1)" | desired "$how.yaml"
	proxy --kill-on down --kill-rate "$RATE" --seed $((SEED + phase)) --kill-with "$how"
	for _ in 1 2 3; do
		apply_logged
	done
	echo "phase $phase (answers lost, $how, rate $RATE): $(dp_stat killed) connections killed of $(dp_stat accepted)"
	phase=$((phase + 1))
done

# 3. Every connection killed every 30 to 120 ms while team c is created,
# reset and closed in turn.
team c | desired c.yaml
RANDOM=$SEED
for round in 1 2 3 4; do
	how=rst
	[ $((round % 2)) = 0 ] && how=fin
	proxy --kill-with "$how"
	(cp_run apply --team 1 --concurrency 16; exit "$CP_RC") &
	pid=$!
	n=0
	while kill -0 "$pid" 2>/dev/null; do
		sleep "0.$(printf '%03d' $((30 + RANDOM % 91)))"
		dp_ctl kill >/dev/null
		n=$((n + 1))
	done
	rc=0
	wait "$pid" || rc=$?
	check_rc "$rc"
	APPLIES=$((APPLIES + 1))
	count_ambiguous     # from the files cp_run (in a subshell) left
	echo "phase 3, apply $round ($how): $n kill commands, $(dp_stat killed) connections killed of $(dp_stat accepted); $(grep '^Apply:' "$CP_WORK/out" || echo 'no summary')"
done

# 4. Over HTTPS only: the server reloads gracefully every 50 to 150 ms
# while team d is created. A second nghttpx (the same certificate, several
# processes this time: --single-process ignores signals) reloads on SIGHUP:
# its old worker sends GOAWAY, finishes the streams it took, and closes;
# curl sends what follows on a new connection, and a stream the old worker
# did not take ends REFUSED_STREAM (RFC 9113 8.7: not processed).
TEAMS=3
GW_PID=
gw_stop() {
	if [ -n "$GW_PID" ]; then
		kill -TERM "$GW_PID" 2>/dev/null || true
		wait "$GW_PID" 2>/dev/null || true
		GW_PID=
	fi
}
trap 'gw_stop; cp_cleanup' EXIT
if [ "$CP_TRANSPORT" = https ]; then
	TEAMS=4
	GW_PORT=$(free_port)
	GW_LOG=$SIM_DIR/gw-access.log
	nghttpx --conf=/dev/null --workers=1 \
	    --frontend="127.0.0.1,$GW_PORT" --backend="127.0.0.1,$SIM_PORT;;proto=http/1.1" \
	    --no-via --no-server-rewrite --no-ocsp --no-add-x-forwarded-proto \
	    --backend-read-timeout=10m --backend-write-timeout=10m \
	    --frontend-read-timeout=10m --frontend-write-timeout=10m \
	    --frontend-http2-read-timeout=10m --frontend-keep-alive-timeout=10m \
	    --accesslog-file="$GW_LOG" --accesslog-format="$FRONT_LOG_FORMAT" \
	    --errorlog-file="$SIM_DIR/gw-error.log" \
	    "$SIM_DIR/tls/server.key" "$SIM_DIR/tls/server.pem" >/dev/null 2>&1 &
	GW_PID=$!
	for _ in $(seq 1 100); do
		grep -q 'Created worker thread' "$SIM_DIR/gw-error.log" 2>/dev/null && break
		sleep 0.1
	done
	grep -q 'Created worker thread' "$SIM_DIR/gw-error.log" ||
	    { cat "$SIM_DIR/gw-error.log" >&2; e2e_fail "the reloading nghttpx did not start"; }
	team d | desired d.yaml
	UP=$GW_PORT
	proxy
	reloads=0
	for round in 1 2; do
		(cp_run apply --team 1 --concurrency 16; exit "$CP_RC") &
		pid=$!
		while kill -0 "$pid" 2>/dev/null; do
			sleep "0.$(printf '%03d' $((50 + RANDOM % 101)))"
			kill -HUP "$GW_PID"
			reloads=$((reloads + 1))
		done
		rc=0
		wait "$pid" || rc=$?
		check_rc "$rc"
		APPLIES=$((APPLIES + 1))
		count_ambiguous
		echo "phase 4, apply $round: $(grep '^Apply:' "$CP_WORK/out" || echo 'no summary')"
	done
	# The reloads moved requests to new connections, all of them h2.
	gw_conns=$(awk '{ print $1 }' "$GW_LOG" | sort -u | wc -l)
	echo "phase 4 (graceful reloads): $reloads reloads, $(wc -l <"$GW_LOG") requests on $gw_conns TLS connections"
	[ "$gw_conns" -ge 2 ] || e2e_fail "the reloads never moved a request to a new connection"
	assert_eq "$(awk '$2 != "h2" || $7 != "HTTP/2"' "$GW_LOG" | wc -l)" 0 "requests without h2 through the reloading nghttpx"
	# Back to the first front for the clean run.
	UP=$FRONT_PORT
fi

# 5. No more faults: one apply converges, the next plan has nothing to do.
proxy
cp_expect 0 apply --team 1 --concurrency 16
CONVERGE_CONNS=$(dp_stat accepted)
cp_expect 0 plan --team 1
KILLED=$((KILLED + $(dp_stat killed)))
CONNS=$((CONNS + $(dp_stat accepted)))

# Every write the simulator made, from its request log (complete: nothing
# in flight, nothing pushed out).
log=$CP_WORK/simlog.json
for _ in $(seq 1 50); do
	curl -sS --max-time 60 "$SIM_BASE/_sim/log?limit=1000000" >"$log"
	[ "$(jq .inFlight "$log")" = 0 ] && break
	sleep 0.1
done
assert_eq "$(jq .inFlight "$log")" 0 "requests in flight in the simulator's log"
assert_eq "$(jq .dropped "$log")" 0 "entries pushed out of the simulator's log"
creates_p=$(jq '[.entries[] | select(.effect.op == "create" and .effect.kind == "project")] | length' "$log")
dup_p=$(jq -r '[.entries[] | select(.effect.op == "create" and .effect.kind == "project") | .effect.name]
    | group_by(.) | map(select(length > 1) | "\(.[0]) x\(length)") | join(", ")' "$log")
creates_d=$(jq '[.entries[] | select(.effect.op == "create" and .effect.kind == "deployment")] | length' "$log")
dup_d=$(jq -r '[.entries[] | .effect | select(.op == "create") |
      if .kind == "deployment" then "\(.projectId)/\(.reference)"
      elif .kind == "project" and .deployment != null then "\(.id)/\(.deployment.reference)"
      else empty end]
    | group_by(.) | map(select(length > 1) | "\(.[0]) x\(length)") | join(", ")' "$log")
lost=$(jq '[.entries[] | select(.effect.op == "create")] | length' "$log")
echo "$APPLIES applies under faults: $KILLED connections killed of $CONNS opened, $AMBIGUOUS ambiguous outcomes reported; the clean converge opened $CONVERGE_CONNS connection(s); $creates_p project and $creates_d deployment creates in the simulator's log ($lost in all)"

[ -z "$dup_p" ] || e2e_fail "a project name was created more than once: $dup_p"
[ -z "$dup_d" ] || e2e_fail "a (project, reference) was created more than once: $dup_d"
assert_eq "$creates_p" $((TEAMS * P)) "project creates in the simulator's log"
assert_eq "$creates_d" $((2 * TEAMS * P)) "deployment creates in the simulator's log"
assert_eq "$(live_projects)" $((TEAMS * P)) "projects in the team"
assert_eq "$(live_deployments)" $((2 * TEAMS * P)) "deployments in the team"
assert_eq "$(duplicate_names)" 0 "duplicate project names in the team"
# The faults did what they are for: connections were killed in the middle
# of creates, and the client saw creates whose outcome it could not know.
[ "$KILLED" -ge 5 ] || e2e_fail "only $KILLED connections were killed: the test did not test"
[ "$AMBIGUOUS" -ge 1 ] || e2e_fail "no ambiguous create was reported: no kill hit a create in flight"
if [ "$CP_TRANSPORT" = https ]; then
	# Creates share the multiplexed connection: the clean converge of
	# what was left opened one or two, not one per create.
	[ "$CONVERGE_CONNS" -le 2 ] || e2e_fail "the clean apply opened $CONVERGE_CONNS connections"
fi

gw_stop
sim_stop || e2e_fail "the chain did not stop cleanly"
echo "ok"
