#!/usr/bin/env bash
# An inotify queue overflow is survived: the events are lost, yet the change
# behind them is loaded at once (the overflow starts a check of the files),
# the overflow is logged once with what to do and counted, /status says
# follow poll, and the watch goes on reporting the next changes. SIGHUP sets
# the watch up again (follow watch). The overflow comes from the test hook
# CP_TEST_WATCH_FAULT=overflow: the first events the watch reads are dropped
# and IN_Q_OVERFLOW read in their place, as the kernel does when its queue
# (fs.inotify.max_queued_events, a machine-wide setting this test does not
# touch) is full. --interval 1h: no timer helps.
set -eu
. "$CP_SOURCE_DIR/tests/e2e/daemon_lib.sh"
dm_sim_start --seed 24

m() { dm_metric "convex_provisioner_$1"; }
reloads() { m "desired_reloads_total{trigger=\"$1\"}"; }

desired shop.yaml <<'YAML'
projects:
  - name: shop
YAML
DM_ENV=(CP_TEST_WATCH_FAULT=overflow)
dm_start --interval 1h
wait_for 30 "shop in the simulator" '[ "$(live_projects_named shop)" = 1 ]'
wait_for 10 "the first reconcile to end" '[ "$(dm_status .reconcile.running)" = false ]'
assert_eq "$(dm_status .desired.follow)" watch "follow before the overflow"
dm_log_has 'test hook CP_TEST_WATCH_FAULT=overflow' || e2e_fail "the hook is not logged"

desired blog.yaml <<'YAML'
projects:
  - name: blog
YAML
start=$(now_ms)
wait_for 10 "blog in the simulator" '[ "$(live_projects_named blog)" = 1 ]'
echo "converged $(($(now_ms) - start)) ms after a change whose events were lost"
dm_log_has 'the inotify event queue overflowed.*raise fs.inotify.max_queued_events' ||
    e2e_fail "the overflow is not logged with what to do"
assert_eq "$(m 'watch_failures_total{reason="overflow"}')" 1 "overflows counted"
# (one, or two when the check at the overflow read the file while it was
# being written and its last event came after the overflow)
r1=$(reloads watch)
[ "$r1" -ge 1 ] && [ "$r1" -le 2 ] || e2e_fail "reloads after the overflow: $r1"
assert_eq "$(dm_status .desired.follow)" poll "follow after the overflow"

# The watch still reports the next change; the overflow is not logged again.
desired news.yaml <<'YAML'
projects:
  - name: news
YAML
wait_for 10 "news in the simulator" '[ "$(live_projects_named news)" = 1 ]'
[ "$(reloads watch)" -gt "$r1" ] || e2e_fail "no reload by the watch after the overflow"
assert_eq "$(grep -c 'the inotify event queue overflowed' "$DM_ERR")" 1 "times the overflow is logged"

# SIGHUP: the watch is set up again.
wait_for 10 "the reconcile to end" '[ "$(dm_status .reconcile.running)" = false ]'
kill -HUP "$DM_PID"
wait_for 10 "follow watch after SIGHUP" '[ "$(dm_status .desired.follow)" = watch ]'
assert_eq "$(reloads sighup)" 1 "reloads by SIGHUP"
# A file an env value is read from ({file: PATH}) is outside the folder
# fingerprint (only a load finds it): a file event reloads when what it
# holds changed (the level check reads it again).
wait_for 10 "the reload's reconcile" '[ "$(dm_status .reconcile.running)" = false ]'
echo 'first' >"$CP_DESIRED/news-key.txt"
desired news.yaml <<'YAML'
projects:
  - name: news
    env:
      prod:
        API_KEY: {file: news-key.txt}
YAML
wait_for 10 "the env reload" '[ "$(reloads watch)" -gt "$r1" ]'
wait_for 10 "the reconcile to end" '[ "$(dm_status .reconcile.running)" = false ]'
sleep 1.5   # the debounce of the last events is over
# shellcheck disable=SC2034 # read by the condition wait_for evaluates
r2=$(reloads watch)
echo 'second' >"$CP_DESIRED/news-key.txt"
wait_for 10 "a reload for the key file" '[ "$(reloads watch)" -gt "$r2" ]'
dm_stop 15
echo "ok"
