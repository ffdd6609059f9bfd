#!/usr/bin/env bash
# The inotify watch limit reached (ENOSPC from inotify_add_watch): logged
# once with what to do, counted in watch_failures_total{reason="limit"},
# /status says follow poll, and a change in the folder that could not be
# watched is still picked up by the next timer reconcile. Raising the limit
# and reloading (SIGHUP) sets the watch up again.
#
# The limit is real where the machine allows it: the daemon runs in a user
# namespace of its own (unshare -U -r), whose per-user watch limit
# (/proc/sys/user/max_inotify_watches, Linux 5.11 and later) is set to 2:
# the watches of the parent folder and of the desired folder, none for its
# sub-folder. The machine's own limit is never touched. Where no such
# namespace can be made, the test hook CP_TEST_WATCH_FAULT=limit makes
# every folder's watch fail with ENOSPC instead.
set -eu
. "$CP_SOURCE_DIR/tests/e2e/daemon_lib.sh"
dm_sim_start --seed 23

m() { dm_metric "convex_provisioner_$1"; }
reloads() { m "desired_reloads_total{trigger=\"$1\"}"; }

desired shop.yaml <<'YAML'
projects:
  - name: shop
YAML
desired teams/blog.yaml <<'YAML'
projects:
  - name: blog
YAML

if unshare -U -r sh -c 'echo 2 >/proc/sys/user/max_inotify_watches' 2>/dev/null; then
	real=1
	echo "the real ENOSPC: a user namespace with max_inotify_watches 2"
	# shellcheck disable=SC2016  # $@ is the inner shell's
	DM_WRAP=(unshare -U -r sh -c 'echo 2 >/proc/sys/user/max_inotify_watches && exec "$@"' sh)
	want_failures=1     # teams/
else
	real=0
	echo "no user namespace with its own inotify limit: ENOSPC through CP_TEST_WATCH_FAULT=limit"
	DM_ENV=(CP_TEST_WATCH_FAULT=limit)
	want_failures=2     # the desired folder and teams/
fi
# The interval in the settings file, so that a reload can change it.
echo 'interval: 3s' >"$CP_WORK/config.yaml"
dm_start
wait_for 30 "blog in the simulator" '[ "$(live_projects_named blog)" = 1 ]'
dm_log_has 'the inotify watch limit is reached.*Raise fs.inotify.max_user_watches' ||
    e2e_fail "the limit is not logged with what to do"
assert_eq "$(m 'watch_failures_total{reason="limit"}')" "$want_failures" "watch failures (limit)"
assert_eq "$(dm_status .desired.follow)" poll "follow in /status"

# A change in the folder without a watch: the timer's check finds it.
fixture blog.yaml teams/blog.yaml
wait_for 20 "blog's deployment" '[ "$(live_refs live)" = 1 ]'
assert_eq "$(reloads timer)" 1 "reloads by the timer's check"
assert_eq "$(reloads watch)" 0 "reloads by the watch"
n=$(dm_reconciles)
dm_wait_reconciles $((n + 2)) 30
assert_eq "$(grep -c 'the inotify watch limit is reached' "$DM_ERR")" 1 "times the limit is logged"
assert_eq "$(m 'watch_failures_total{reason="limit"}')" "$want_failures" "failures counted again"

if [ "$real" = 1 ]; then
	# The remedy the log gives: raise the limit, then reload. The reload
	# also sets the interval to an hour, so that the change below can only
	# come through the watch, now on teams/ too.
	nsenter -U -t "$DM_PID" sh -c 'echo 100 >/proc/sys/user/max_inotify_watches'
	echo 'interval: 1h' >"$CP_WORK/config.yaml"
	kill -HUP "$DM_PID"
	wait_for 10 "follow watch again" '[ "$(dm_status .desired.follow)" = watch ]'
	wait_for 10 "the reload's reconcile" '[ "$(dm_status .reconcile.running)" = false ]'
	assert_eq "$(m 'watch_failures_total{reason="limit"}')" 1 "no new failure after the reload"
	fixture blog-preview.yaml teams/blog.yaml
	wait_for 15 "the preview deployment" '[ "$(live_refs preview-1)" = 1 ]'
	assert_eq "$(reloads watch)" 1 "reloads by the watch after the limit was raised"
	assert_eq "$(reloads timer)" 1 "reloads by the timer's check"
fi
dm_stop 15
echo "ok"
