#!/usr/bin/env bash
# Soak: the daemon (`run --interval 5s --prune owned`) for DURATION seconds
# (default 120; `make soak` runs 1800) against a simulator that fails 10% of
# requests with a 5xx, drops 5% of connections and answers 429 above 20
# requests a second, while the desired files change every CHANGE seconds
# (10 in the short version, 60 from 600 s on): projects come and go,
# deployments are added and removed, one project toggles `state: absent`.
#
# It fails unless: the daemon's RSS and open file descriptors stay flat (both
# printed at the start and the end; generous bounds), every failed reconcile
# is followed by another one (the retry) and the reconcile count matches the
# log, the faults really happened, and once the faults stop the team equals
# the last desired state with zero duplicate projects; finally SIGTERM makes
# it exit 0 (under the sanitizers: no leak, no error).
#
#   tests/e2e/soak.sh [DURATION_SECONDS]
set -eu
. "$CP_SOURCE_DIR/tests/e2e/lib.sh"
. "$CP_SOURCE_DIR/tests/e2e/cp.sh"

DURATION=${1:-120}
if [ "$DURATION" -ge 600 ]; then CHANGE=60; else CHANGE=10; fi
INTERVAL=5
# ASan keeps freed memory in quarantine (256 MiB by default): shrink it so
# the RSS reads the program's own use, not the sanitizer's.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=8"

DPID=
DURL=
soak_cleanup() {
	[ $? -ne 0 ] && SOAK_FAILED=1
	if [ -n "$DPID" ]; then
		kill -KILL "$DPID" 2>/dev/null || true
		wait "$DPID" 2>/dev/null || true
	fi
	if [ -f "$CP_WORK/daemon.err" ] && [ -n "${SOAK_FAILED:-}" ]; then
		cp "$CP_WORK/daemon.err" "$CP_BUILD_DIR/soak-daemon.log" 2>/dev/null &&
		    echo "--- the daemon's whole log: $CP_BUILD_DIR/soak-daemon.log" >&2
		tail -n 30 "$CP_WORK/daemon.err" >&2 || true
	fi
	cp_cleanup
}

sim_start --seed 11 --latency 5 --latency-jitter 5 --error-rate 0.1 \
    --drop-rate 0.05 --rate-limit 20
trap soak_cleanup EXIT

# write_desired STEP: the desired files of step STEP, written atomically
# (a temporary file renamed), in two files of which one is in a folder.
# Projects soak-1..soak-N with N = 12 + STEP % 8, each with "production"
# (prod, default) and "staging" (dev); on odd steps soak-1..3 also have a
# preview "review/N"; on steps divisible by 3 soak-2 is `state: absent`.
# Its project names go to $CP_WORK/want.names, "project reference" pairs
# to $CP_WORK/want.refs.
write_desired() {
	local s=$1 n=$((12 + $1 % 8)) i f
	mkdir -p "$CP_DESIRED/more"
	: >"$CP_WORK/want.names"
	: >"$CP_WORK/want.refs"
	for f in main more/rest; do
		echo "projects:" >"$CP_DESIRED/$f.tmp"
	done
	for i in $(seq 1 $n); do
		if [ $i -le 6 ]; then f=main; else f=more/rest; fi
		if [ $i = 2 ] && [ $((s % 3)) = 0 ]; then
			printf '  - name: soak-%d\n    state: absent\n' $i >>"$CP_DESIRED/$f.tmp"
			continue
		fi
		printf '  - name: soak-%d\n    deployments:\n      - reference: production\n        type: prod\n        default: true\n      - reference: staging\n        type: dev\n' $i >>"$CP_DESIRED/$f.tmp"
		echo "soak-$i" >>"$CP_WORK/want.names"
		printf 'soak-%d production\nsoak-%d staging\n' $i $i >>"$CP_WORK/want.refs"
		if [ $((s % 2)) = 1 ] && [ $i -le 3 ]; then
			printf '      - reference: review/%d\n        type: preview\n' $s >>"$CP_DESIRED/$f.tmp"
			printf 'soak-%d review/%d\n' $i $s >>"$CP_WORK/want.refs"
		fi
	done
	mv "$CP_DESIRED/main.tmp" "$CP_DESIRED/main.yaml"
	mv "$CP_DESIRED/more/rest.tmp" "$CP_DESIRED/more/rest.yaml"
}

now() { date +%s; }
dget() { curl -sS --max-time 20 "$DURL$1"; }
reconciles() {
	dget /metrics | awk '/^convex_provisioner_reconcile_total[{ ]/ { n += $NF } END { printf "%d", n }'
}
metric() { dget /metrics | awk -v k="$1" '$1 == k { print $2 }'; }
rss_kb() { awk '/^VmRSS:/ { print $2 }' /proc/"$DPID"/status; }
fds() { ls /proc/"$DPID"/fd | wc -l; }
# fds_idle: open descriptors between reconciles (the fewest of three reads,
# so a connection that is just closing does not count).
fds_idle() {
	local i best=999999 n
	for i in 1 2 3; do
		for _ in $(seq 1 100); do
			[ "$(dget /status | jq -r .reconcile.running)" = false ] && break
			sleep 0.1
		done
		n=$(fds)
		[ "$n" -lt "$best" ] && best=$n
		sleep 0.2
	done
	echo "$best"
}
alive() { kill -0 "$DPID" 2>/dev/null || e2e_fail "the daemon exited during the soak"; }
# check_retry: once the error count moves, another reconcile must finish
# within the backoff (capped at the interval) plus a generous margin.
check_retry() {
	local e t
	e=$(metric 'convex_provisioner_reconcile_total{result="error"}')
	t=$(reconciles)
	if [ "$retry_by" -gt 0 ] && [ "$t" -gt "$retry_after" ]; then
		retry_by=0
	fi
	if [ "$e" -gt "$last_err" ]; then
		last_err=$e
		retry_by=$(($(now) + INTERVAL + 60))
		retry_after=$t
	fi
	if [ "$retry_by" -gt 0 ] && [ "$(now)" -gt "$retry_by" ]; then
		e2e_fail "a failed reconcile (error count $e) was not retried within $((INTERVAL + 60)) s"
	fi
	return 0
}

step=0
write_desired $step
CONVEX_ACCESS_TOKEN=$SIM_TOKEN "$CP_BIN" -c "$CP_WORK/config.yaml" --api-url "$SIM_URL" \
    --desired "$CP_DESIRED" --state-dir "$CP_STATE" --listen 127.0.0.1:0 \
    --interval ${INTERVAL}s --prune owned --max-deletes 100 run \
    >"$CP_WORK/daemon.out" 2>"$CP_WORK/daemon.err" &
DPID=$!
for _ in $(seq 1 300); do
	port=$(sed -n 's/.*status endpoint on .* (port \([0-9][0-9]*\)).*/\1/p' "$CP_WORK/daemon.err" | head -n 1)
	[ -n "$port" ] && break
	alive
	sleep 0.1
done
[ -n "$port" ] || e2e_fail "no status port in the daemon's log"
DURL=http://127.0.0.1:$port

# The start: after the first successful reconcile.
end=$(($(now) + 120))
until [ "$(metric 'convex_provisioner_reconcile_total{result="ok"}')" -ge 1 ] 2>/dev/null; do
	alive
	[ "$(now)" -lt "$end" ] || e2e_fail "no successful reconcile within 120 s"
	sleep 0.5
done
rss0=$(rss_kb)
fd0=$(fds_idle)
t0=$(now)
echo "soak: ${DURATION}s, files change every ${CHANGE}s, interval ${INTERVAL}s"
echo "start: RSS $rss0 KiB, $fd0 open descriptors"

# The soak. Each second: the daemon is alive; its reconcile count never
# stands still for longer than a retry may wait (the backoff is capped at
# the interval) plus one reconcile's worth of retries.
last_n=$(reconciles)
last_change=$(now)
last_err=$(metric 'convex_provisioner_reconcile_total{result="error"}')
retry_by=0      # a failed reconcile must be followed by another one by then
retry_after=0   # ... that is, the count must pass this
next_change=$((t0 + CHANGE))
fd_max=$fd0
rss_max=$rss0
while [ "$(now)" -lt $((t0 + DURATION)) ]; do
	alive
	if [ "$(now)" -ge "$next_change" ]; then
		step=$((step + 1))
		write_desired $step
		next_change=$(($(now) + CHANGE))
		# The trend, every minute or so: flat, or growing?
		if [ $((step % (60 / CHANGE))) = 0 ]; then
			echo "  $(($(now) - t0)) s: RSS $(rss_kb) KiB, $(fds) descriptors, $(reconciles) reconciles"
		fi
	fi
	n=$(reconciles)
	if [ "$n" != "$last_n" ]; then
		last_n=$n
		last_change=$(now)
	elif [ $(($(now) - last_change)) -gt $((2 * INTERVAL + 60)) ]; then
		e2e_fail "no reconcile finished for $(($(now) - last_change)) s"
	fi
	check_retry
	f=$(fds)
	[ "$f" -gt "$fd_max" ] && fd_max=$f
	r=$(rss_kb)
	[ "$r" -gt "$rss_max" ] && rss_max=$r
	sleep 1
done
rss1=$(rss_kb)
fd1=$(fds_idle)
echo "end:   RSS $rss1 KiB, $fd1 open descriptors (peaks during the soak: RSS $rss_max KiB, $fd_max descriptors)"
echo "desired-state changes: $step"

# Flat: generous bounds, far below what a leak per request would add over
# thousands of requests.
rss_bound=$((rss0 + (rss0 / 2 > 16384 ? rss0 / 2 : 16384)))
# Under ASan the quarantine (8 MiB, above) fills up over the first minutes.
grep -q -a __asan_init "$CP_BIN" && rss_bound=$((rss_bound + 8192))
[ "$rss1" -le "$rss_bound" ] || e2e_fail "RSS grew from $rss0 to $rss1 KiB (bound $rss_bound)"
[ "$fd1" -le $((fd0 + 16)) ] || e2e_fail "open descriptors grew from $fd0 to $fd1"

# The faults happened.
stats=$(sim_stats)
echo "simulator: $(echo "$stats" | jq -c '{total, faults}')"
for k in error drop rateLimited; do
	[ "$(echo "$stats" | jq ".faults.$k")" -gt 0 ] || e2e_fail "no $k fault was injected: the soak did not test"
done

# Every failed reconcile was retried (check_retry, each second), and the
# metric agrees with the log: each failure is one "reconcile failed after"
# (observation) or "reconcile error in" (an action) line.
ok=$(metric 'convex_provisioner_reconcile_total{result="ok"}')
err=$(metric 'convex_provisioner_reconcile_total{result="error"}')
blk=$(metric 'convex_provisioner_reconcile_total{result="blocked"}')
logged=$(grep -c -E ' reconcile failed after | reconcile error in ' "$CP_WORK/daemon.err" || true)
retries=$(grep -c ' retrying in ' "$CP_WORK/daemon.err" || true)
echo "reconciles: $ok ok, $err error, $blk blocked; $logged failures and $retries scheduled retries in the log"
assert_eq "$logged" "$err" "failed reconciles in the log vs reconcile_total{result=\"error\"}"
[ "$err" -gt 0 ] || e2e_fail "no reconcile failed: the faults did not reach the daemon"
[ "$((ok + err + blk))" -ge $((DURATION / INTERVAL / 2)) ] || e2e_fail "only $((ok + err + blk)) reconciles in ${DURATION}s"

# Faults off, one more reconcile: the team is the last desired state.
curl -sS --max-time 20 -X POST --data-binary '{"errorRate":0,"dropRate":0,"rateLimit":0}' \
    "$SIM_BASE/_sim/config" >/dev/null
n0=$(metric 'convex_provisioner_reconcile_total{result="ok"}')
end=$(($(now) + 120))
until [ "$(metric 'convex_provisioner_reconcile_total{result="ok"}')" -ge $((n0 + 2)) ]; do
	alive
	[ "$(now)" -lt "$end" ] || e2e_fail "no successful reconcile within 120 s once the faults stopped"
	curl -sS --max-time 20 -X POST "$DURL/reconcile" >/dev/null || true
	sleep 1
done
check_retry
[ "$retry_by" = 0 ] || e2e_fail "the last failed reconcile was never retried"
sim_state >"$CP_WORK/final.json"
cp "$CP_STATE/ledger.json" "$CP_WORK/ledger.json"
# Every declared project and deployment is live, exactly once.
jq -r '.projects[].name' "$CP_WORK/final.json" | sort >"$CP_WORK/live.names"
sort "$CP_WORK/want.names" >"$CP_WORK/want.sorted"
missing=$(comm -23 "$CP_WORK/want.sorted" "$CP_WORK/live.names")
[ -z "$missing" ] || e2e_fail "declared projects not live: $missing"
assert_eq "$(duplicate_names)" 0 "duplicate project names"
jq -r '.projects as $p | .deployments[] | select(.kind == "cloud") | .projectId as $id
    | "\(($p[] | select(.id == $id) | .name)) \(.reference)"' "$CP_WORK/final.json" | sort >"$CP_WORK/live.refs"
sort "$CP_WORK/want.refs" >"$CP_WORK/want.refs.sorted"
missing=$(comm -23 "$CP_WORK/want.refs.sorted" "$CP_WORK/live.refs")
[ -z "$missing" ] || e2e_fail "declared deployments not live: $missing"
assert_eq "$(uniq -d "$CP_WORK/live.refs" | wc -l)" 0 "deployments live twice"

# What is live but no longer declared must be what `prune owned` may not
# touch: nothing the ledger says this tool created. Such leftovers come
# from creates whose answer was lost (the API made the resource, the tool
# never learnt its id): there can be no more of them than such creates.
extra_p=$(comm -13 "$CP_WORK/want.sorted" "$CP_WORK/live.names")
n_extra_p=0
for name in $extra_p; do
	n_extra_p=$((n_extra_p + 1))
	id=$(jq --arg n "$name" '.projects[] | select(.name == $n) | .id' "$CP_WORK/final.json")
	assert_eq "$(jq --argjson id "$id" '[.projects[] | select(.id == $id and .created)] | length' "$CP_WORK/ledger.json")" 0 \
	    "undeclared project $name that the ledger owns (prune owned should have deleted it)"
done
n_extra_d=0
while read -r proj ref; do
	grep -qx "$proj" "$CP_WORK/want.sorted" || continue   # went with its project
	n_extra_d=$((n_extra_d + 1))
	name=$(jq -r --arg p "$proj" --arg r "$ref" '(.projects[] | select(.name == $p) | .id) as $id
	    | .deployments[] | select(.kind == "cloud" and .projectId == $id and .reference == $r)
	    | .name' "$CP_WORK/final.json")
	assert_eq "$(jq --arg n "$name" '[.deployments[] | select(.name == $n and .created)] | length' "$CP_WORK/ledger.json")" 0 \
	    "undeclared deployment $proj/$ref that the ledger owns (prune owned should have deleted it)"
done < <(comm -13 "$CP_WORK/want.refs.sorted" "$CP_WORK/live.refs")
amb_p=$(grep -c 'create project error.*outcome unknown' "$CP_WORK/daemon.err" || true)
amb_d=$(grep -c 'create deployment error.*outcome unknown' "$CP_WORK/daemon.err" || true)
[ "$n_extra_p" -le "$amb_p" ] || e2e_fail "$n_extra_p undeclared projects left, but only $amb_p creates had an unknown outcome"
[ "$n_extra_d" -le "$amb_d" ] || e2e_fail "$n_extra_d undeclared deployments left, but only $amb_d creates had an unknown outcome"
echo "converged: $(wc -l <"$CP_WORK/want.names") projects and $(wc -l <"$CP_WORK/want.refs") deployments as declared, no duplicates;" \
    "left alone (made by a create whose answer was lost, so not in the ledger): $n_extra_p projects, $n_extra_d deployments"

kill -TERM "$DPID"
rc=0
wait "$DPID" || rc=$?
DPID=
if grep -q -e 'Sanitizer' -e 'runtime error:' "$CP_WORK/daemon.err"; then
	grep -A20 -e 'Sanitizer' -e 'runtime error:' "$CP_WORK/daemon.err" | head -n 40 >&2
	e2e_fail "a sanitizer report in the daemon's log"
fi
assert_eq "$rc" 0 "the daemon's exit code after SIGTERM"
echo "ok"
