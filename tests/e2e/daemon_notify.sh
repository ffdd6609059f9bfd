#!/usr/bin/env bash
# `run` and the systemd notify protocol, read from a socket of our own as
# NOTIFY_SOCKET: READY=1 once loaded, STATUS= after each reconcile, WATCHDOG=1
# every half WATCHDOG_USEC, RELOADING=1 (with MONOTONIC_USEC=) then READY=1
# around a SIGHUP, STOPPING=1 on SIGTERM, exit 0; no READY=1 at all when the
# first desired state is invalid.
set -eu
. "$CP_SOURCE_DIR/tests/e2e/daemon_lib.sh"
dm_sim_start --seed 3

desired shop.yaml <<'YAML'
projects:
  - name: shop
YAML

nl_start
DM_ENV+=(WATCHDOG_USEC=400000)
dm_start --interval 1h

# 1. READY=1, then a STATUS= line once the first reconcile has created shop.
wait_for 20 "READY=1" nl_has_at_least 1 '^READY=1$'
wait_for 30 "a STATUS= line" nl_has_at_least 1 '^STATUS='
assert_eq "$(live_projects_named shop)" 1 "shop created"
status=$(cut -d' ' -f2- "$NL_OUT" | grep -m1 '^STATUS=')
# (observed: what the reconcile saw before it created shop)
echo "$status" | grep -E -q '^STATUS=ok: 0 projects observed, 1 created, 0 updated, 0 deleted, 0 failed, 0 drifted, 0 blocked$' ||
    e2e_fail "first STATUS line: $status"
# READY came before any STATUS (it means loaded, not reconciled).
first=$(cut -d' ' -f2- "$NL_OUT" | grep -v '^WATCHDOG=1$' | head -n 1)
assert_eq "$first" "READY=1" "first message other than WATCHDOG"

# 2. The watchdog: WATCHDOG_USEC=400000 asks for a ping every 200 ms. Five
#    consecutive pings must fit in 2 s (they take 0.8 s when on time).
wait_for 20 "6 watchdog pings" nl_has_at_least 6 '^WATCHDOG=1$'
span=$(grep ' WATCHDOG=1$' "$NL_OUT" | tail -n 5 | awk 'NR == 1 { a = $1 } END { print $1 - a }')
[ "$span" -le 2000 ] || e2e_fail "5 watchdog pings took ${span} ms"

# 3. SIGHUP: RELOADING=1 with MONOTONIC_USEC= in the same datagram, then
#    READY=1 again, and the reconcile it triggers reports a STATUS=.
statuses=$(nl_count '^STATUS=')
kill -HUP "$DM_PID"
wait_for 20 "RELOADING=1" nl_has_at_least 1 '^RELOADING=1'
reloading=$(cut -d' ' -f2- "$NL_OUT" | grep -m1 '^RELOADING=1')
case $reloading in
'RELOADING=1\nMONOTONIC_USEC='[0-9]*) ;;
*) e2e_fail "reload datagram: $reloading" ;;
esac
# MONOTONIC_USEC is CLOCK_MONOTONIC, the clock of the listener's stamps.
usec=${reloading##*MONOTONIC_USEC=}
stamp=$(grep -m1 ' RELOADING=1' "$NL_OUT" | cut -d' ' -f1)
skew=$((stamp - usec / 1000))
[ "$skew" -ge 0 ] && [ "$skew" -le 5000 ] || e2e_fail "MONOTONIC_USEC $usec is not near the receive time $stamp ms"
wait_for 20 "READY=1 after the reload" nl_has_at_least 2 '^READY=1$'
wait_for 30 "a STATUS= line after the reload" nl_has_at_least $((statuses + 1)) '^STATUS='
order=$(cut -d' ' -f2- "$NL_OUT" | grep -E '^(READY|RELOADING)=' | cut -c1-11 | tr '\n' ' ')
assert_eq "$order" "READY=1 RELOADING=1 READY=1 " "order of READY and RELOADING"

# 4. SIGTERM: STOPPING=1, exit 0, and nothing after STOPPING but pings.
dm_stop 15
wait_for 10 "STOPPING=1" nl_has_at_least 1 '^STOPPING=1$'
last=$(cut -d' ' -f2- "$NL_OUT" | grep -v '^WATCHDOG=1$' | tail -n 1)
assert_eq "$last" "STOPPING=1" "last message"
assert_eq "$(nl_count '^STOPPING=1$')" 1 "STOPPING messages"

# 5. A first desired state that does not load: exit 1 and never READY=1.
: >"$NL_OUT"
desired shop.yaml <<'YAML'
projects:
  - name: shop
    colour: blue
YAML
dm_spawn --interval 1h
dm_wait_exit 30
assert_eq "$DM_RC" 1 "exit code with an invalid first desired state"
grep -q 'shop.yaml:3:5: error' "$DM_ERR" || e2e_fail "no file:line:col for the unknown key: $(cat "$DM_ERR")"
assert_eq "$(nl_count '^READY=1$')" 0 "READY=1 without a valid desired state"
echo "ok"
