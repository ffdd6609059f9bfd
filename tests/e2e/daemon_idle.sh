#!/usr/bin/env bash
# Idle means idle: between reconciles (--interval 60s) and after a scrape of
# the status endpoint, the daemon neither wakes up nor burns CPU for 5 s
# (sampled from /proc, without touching the daemon). As a control, the same
# measure sees the pings of a watchdog (WATCHDOG_USEC=1 s: two a second).
set -eu
. "$CP_SOURCE_DIR/tests/e2e/daemon_lib.sh"
dm_sim_start --seed 12

desired shop.yaml <<'YAML'
projects:
  - name: shop
YAML

# wakeups: voluntary context switches of every thread (a sleeping loop
# that wakes up switches once per wake-up); cputicks: utime + stime.
wakeups() {
	cat /proc/"$DM_PID"/task/*/status | awk '/^voluntary_ctxt_switches:/ { n += $2 } END { print n }'
}
cputicks() {
	cat /proc/"$DM_PID"/task/*/stat | awk '{ n += $14 + $15 } END { print n }'
}
# settle: the first reconcile is over and the endpoint was scraped (its
# connection closed), so whatever follows is the idle state.
settle() {
	dm_wait_reconciles 1 30
	wait_for 10 "the reconcile to end" '[ "$(dm_status .reconcile.running)" = false ]'
	dm_get /metrics >/dev/null
	dm_get /status >/dev/null
	sleep 0.5   # let the closed connections be reaped before measuring
}

# 1. No watchdog asked for: 5 s without a wake-up.
dm_start --interval 60s
settle
w0=$(wakeups)
c0=$(cputicks)
sleep 5
w1=$(wakeups)
c1=$(cputicks)
echo "idle: $((w1 - w0)) wake-ups, $((c1 - c0)) ticks of CPU in 5 s"
[ $((w1 - w0)) -le 2 ] || e2e_fail "$((w1 - w0)) wake-ups in 5 s of idle"
[ $((c1 - c0)) -lt 5 ] || e2e_fail "$((c1 - c0)) ticks of CPU in 5 s of idle"
assert_eq "$(dm_reconciles)" 1 "reconciles (the timer is a minute away)"
dm_stop 15

# 2. The control: a watchdog every 500 ms is seen by the same measure.
nl_start
DM_ENV+=(WATCHDOG_USEC=1000000)
dm_start --interval 60s
settle
w0=$(wakeups)
sleep 3
w1=$(wakeups)
echo "with a watchdog: $((w1 - w0)) wake-ups in 3 s"
[ $((w1 - w0)) -ge 4 ] || e2e_fail "the measure missed the watchdog: $((w1 - w0)) wake-ups in 3 s"
dm_stop 15
echo "ok"
