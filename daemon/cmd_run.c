/* cmd_run.c: `run`, the daemon. One libuv loop carries everything: the API
 * client (curl multi), the status endpoint (libmicrohttpd), the file
 * watcher, signals and timers. Reconciles never overlap: every trigger (the
 * timer, a file change, SIGHUP, POST /reconcile) either starts one now or,
 * while one runs, marks exactly one more as pending. Handlers only mark and
 * arm; the work happens in start_reconcile and on_reconciled.
 *
 * The desired state is level-triggered: every reconcile starts by comparing
 * the fingerprint of the files with the one taken when they were last
 * loaded, and reloads them when it differs. File events only make that
 * happen sooner; where inotify sees nothing (NFS, a full event queue, the
 * watch limit) the next reconcile still works from the current files. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "commands.h"
#include "daemon.h"
#include "desired.h"
#include "desired_fingerprint.h"
#include "diag.h"
#include "lock.h"
#include "log.h"

#define BACKOFF_FIRST_MS 5000
#define SHUTDOWN_GRACE_MS 10000

/* Test hooks, read from the environment at start (docs/testing.md); each
 * logs a warning when set, so none is ever on unnoticed. */
#define TEST_START_DELAY_ENV "CP_TEST_START_DELAY_MS"  /* after the first load */
#define TEST_WATCH_FAULT_ENV "CP_TEST_WATCH_FAULT"     /* overflow, limit, error */

static void start_reconcile(struct daemon *d);

/* Loader and settings diagnostics go through the logger, so that under
 * journald and with --log-format json they are lines like any other. */
static void
log_diag(const struct diag *dg)
{
	char line[1024];

	for (size_t i = 0; i < dg->n; i++) {
		diag_format(&dg->items[i], line, sizeof(line));
		if (dg->items[i].level == DIAG_ERROR)
			log_errorx("%s", line);
		else
			log_warnx("%s", line);
	}
	if (dg->dropped > 0)
		log_errorx("%zu more diagnostics not shown", dg->dropped);
}

/* ---- the desired state ----------------------------------------------- */

static void
errors_free(struct daemon *d)
{
	for (size_t i = 0; i < d->n_desired_errors; i++)
		free(d->desired_errors[i]);
	free(d->desired_errors);
	d->desired_errors = NULL;
	d->n_desired_errors = 0;
}

/* Keeps the loader's errors as strings for /status and the metric. */
static void
errors_keep(struct daemon *d, const struct diag *dg)
{
	char line[1024];

	errors_free(d);
	d->desired_errors = calloc(dg->n + 1, sizeof(char *));
	if (d->desired_errors == NULL)
		return;
	for (size_t i = 0; i < dg->n; i++) {
		if (dg->items[i].level != DIAG_ERROR)
			continue;
		diag_format(&dg->items[i], line, sizeof(line));
		if ((d->desired_errors[d->n_desired_errors] = strdup(line)) != NULL)
			d->n_desired_errors++;
	}
}

static void
desired_release(struct daemon *d, struct desired_state *ds)
{
	if (ds == NULL || ds == d->desired || ds == d->in_use)
		return;
	desired_state_free(ds);
	free(ds);
}

/* Loads the desired state. Invalid files never replace the last valid
 * state: the errors are logged, kept for /status and counted in the
 * metric, and the daemon goes on with what it had. The fingerprint is
 * taken first, so that a change made while the files are read differs
 * from it at the next check. Returns 0 when the new state is in place. */
static int
load_desired(struct daemon *d)
{
	struct desired_state *ds = calloc(1, sizeof(*ds)), *old;
	struct diag dg;
	int rc;

	if (ds == NULL)
		return -ENOMEM;
	/* valid or not, these files are the ones seen: a broken file is
	 * reported once, not at every reconcile */
	d->fp_ok = desired_fingerprint_take(d->settings.desired, &d->fp_seen) == 0;
	desired_sources_free(&d->sources);
	diag_init(&dg);
	rc = desired_load_sources(d->settings.desired, NULL, 0, &d->sources, ds, &dg);
	if (rc == -ENOMEM)
		d->fp_ok = false;       /* the sources may be missing: recheck */
	if (rc != 0) {
		log_diag(&dg);
		errors_keep(d, &dg);
		if (d->desired != NULL)
			log_warnx("the desired state is invalid (%zu errors): keeping the "
			    "last valid one; nothing will be deleted because of this",
			    diag_errors(&dg));
		metrics_set(d->metrics, METRIC_DESIRED_STATE_ERRORS, (double)diag_errors(&dg));
		desired_state_free(ds);
		free(ds);
		diag_free(&dg);
		return rc < 0 ? rc : -EINVAL;
	}
	diag_free(&dg);
	/* Before the state is used or anything about it logged: its env
	 * values are masked in every output (a failure keeps the old state). */
	if (cmd_register_secrets(ds) != 0) {
		desired_state_free(ds);
		free(ds);
		return -ENOMEM;
	}
	if (d->n_desired_errors > 0)
		log_info("the desired state is valid again");
	errors_free(d);
	metrics_set(d->metrics, METRIC_DESIRED_STATE_ERRORS, 0);
	metrics_set(d->metrics, METRIC_DESIRED_PROJECTS, (double)ds->n_projects);
	old = d->desired;
	d->desired = ds;
	d->desired_loaded = (int64_t)time(NULL);
	d->fp_loaded = d->fp_seen;
	if (!d->fp_ok)
		memset(&d->fp_loaded, 0, sizeof(d->fp_loaded));
	desired_release(d, old);
	log_info("desired state loaded from %s: %zu projects, %zu deployments",
	    d->settings.desired, ds->n_projects, desired_count_deployments(ds));
	return 0;
}

/* The level check: reloads when the files differ from those of the last
 * load (or the fingerprint could not be taken, or `force`). `trigger` is
 * what asked, METRICS_TRIGGER_*. 1: a new valid state is in place; 0:
 * nothing changed; < 0: the reload failed and the last valid state stays. */
static int
refresh_desired(struct daemon *d, const char *trigger, bool force)
{
	struct log_field f = { "trigger", trigger };
	bool changed = true;
	int rc;

	/* The folder's files by their stat data; the files env values come
	 * from (anywhere, found only by a load) by what they hold. */
	if (d->fp_ok &&
	    (desired_fingerprint_check(d->settings.desired, &d->fp_seen, &changed) != 0 ||
	    (!changed && desired_sources_changed(&d->sources, &changed) != 0)))
		changed = true;
	if (!changed && !force)
		return 0;
	if (strcmp(trigger, METRICS_TRIGGER_WATCH) == 0)
		log_fields(LOG_LVL_INFO, &f, 1, "a change under %s: reloading the "
		    "desired state", d->settings.desired);
	else
		log_fields(LOG_LVL_INFO, &f, 1, "the files under %s changed since "
		    "they were loaded: reloading the desired state",
		    d->settings.desired);
	metrics_reload(d->metrics, trigger);
	rc = load_desired(d);
	return rc == 0 ? 1 : rc;
}

/* ---- the API client and the reconciler -------------------------------- */

static void
on_client_closed(void *arg)
{
	(void)arg;
}

static int
client_open(struct daemon *d)
{
	struct api_config acfg;
	struct api_error aerr = { 0 };
	struct reconcile_config rcfg;
	char err[512];
	int rc;

	cmd_api_config(&d->settings, d->token.value, &acfg);
	acfg.on_request = daemon_on_request;
	acfg.on_request_arg = d;
	if ((rc = api_client_new(d->loop, &acfg, &d->client, &aerr)) != 0) {
		api_error_format(&aerr, err, sizeof(err));
		log_errorx("API client: %s", err);
		return rc;
	}
	cmd_reconcile_config(&d->settings, &rcfg);
	if ((rc = reconciler_init(&d->rec, d->loop, d->client, &rcfg)) != 0) {
		api_client_close(d->client, on_client_closed, NULL);
		d->client = NULL;
		return rc;
	}
	d->rec.on_action = daemon_on_action;
	d->rec.on_action_arg = d;
	d->rec_ready = true;
	return 0;
}

static void
client_close(struct daemon *d)
{
	if (d->rec_ready) {
		reconciler_cleanup(&d->rec);
		d->rec_ready = false;
	}
	if (d->client != NULL) {
		api_client_close(d->client, on_client_closed, NULL);
		d->client = NULL;
	}
}

/* ---- scheduling -------------------------------------------------------- */

/* After a failure: 5 s, doubling, capped at the interval (SPEC section 6). */
static uint64_t
backoff_next(uint64_t cur_ms, uint64_t cap_ms)
{
	uint64_t next = cur_ms ? cur_ms * 2 : BACKOFF_FIRST_MS;

	return next > cap_ms ? cap_ms : next;
}

static uint64_t
jittered(uint64_t interval_ms, unsigned pct)
{
	uint64_t spread = interval_ms * pct / 100;

	if (spread == 0)
		return interval_ms;
	/* interval ± spread, uniformly; rand() is seeded at start. */
	return interval_ms - spread + (uint64_t)((double)rand() / RAND_MAX * (double)(2 * spread));
}

static void
on_timer(uv_timer_t *t)
{
	struct daemon *d = t->data;

	d->next_trigger = METRICS_TRIGGER_TIMER;
	start_reconcile(d);
}

static void
schedule(struct daemon *d, uint64_t ms)
{
	uv_timer_start(&d->timer, on_timer, ms, 0);
	d->next_reconcile = (int64_t)time(NULL) + (int64_t)(ms / 1000);
}

/* Every trigger comes here: start now, or coalesce into one more. `label`
 * (METRICS_TRIGGER_*) names it for the check that starts the reconcile. */
static void
trigger(struct daemon *d, const char *why, const char *label)
{
	if (d->stopping)
		return;
	d->next_trigger = label;
	if (d->running) {
		if (!d->pending)
			log_debug("%s: a reconcile is running, one more will follow", why);
		d->pending = true;
		return;
	}
	log_debug("%s: reconcile now", why);
	start_reconcile(d);
}

static void shutdown_finish(struct daemon *d);

static void
on_reconciled(void *arg, struct reconcile_outcome *o)
{
	struct daemon *d = arg;
	struct desired_state *used = d->in_use;

	d->running = false;
	d->in_use = NULL;
	desired_release(d, used);
	/* rc 0: the observation was complete (an action may still fail). */
	if (o->rc == 0) {
		uv_update_time(d->loop);
		d->last_observation_ms = uv_now(d->loop);
		d->last_observation = (int64_t)time(NULL);
	}
	daemon_report(d, o);
	if (reconcile_exit_code(o) == 0)
		d->last_success = (int64_t)time(NULL);
	if (reconcile_exit_code(o) == 1)
		d->backoff_ms = backoff_next(d->backoff_ms, d->settings.interval_ms);
	else
		d->backoff_ms = 0;
	reconcile_outcome_free(o);

	if (d->stopping) {
		shutdown_finish(d);
		return;
	}
	if (d->reload_client) {
		/* New API settings wait for the reconcile that used the old ones. */
		d->reload_client = false;
		client_close(d);
		if (client_open(d) != 0)
			log_errorx("cannot apply the new API settings: retrying at the next trigger");
	}
	if (d->pending) {
		d->pending = false;
		start_reconcile(d);
		return;
	}
	if (d->backoff_ms) {
		log_info("retrying in %.0fs", (double)d->backoff_ms / 1000);
		schedule(d, d->backoff_ms);
	} else {
		schedule(d, jittered(d->settings.interval_ms, d->settings.jitter_pct));
	}
}

static void
start_reconcile(struct daemon *d)
{
	int rc;

	if (d->stopping || d->running)
		return;
	uv_timer_stop(&d->timer);
	/* whatever asked for it, the files are looked at first */
	refresh_desired(d, d->next_trigger ? d->next_trigger : METRICS_TRIGGER_TIMER,
	    false);
	d->next_trigger = NULL;
	if (!d->rec_ready && client_open(d) != 0) {
		schedule(d, d->settings.interval_ms);
		return;
	}
	d->in_use = d->desired;
	d->running = true;
	rc = reconcile_start(&d->rec, d->desired, RECONCILE_APPLY, on_reconciled, d);
	if (rc != 0) {
		d->running = false;
		d->in_use = NULL;
		log_errorx("cannot start a reconcile: %s", strerror(-rc));
		metrics_reconcile(d->metrics, METRICS_RESULT_ERROR, 0, 0);
		d->backoff_ms = backoff_next(d->backoff_ms, d->settings.interval_ms);
		schedule(d, d->backoff_ms);
	}
}

/* ---- triggers ---------------------------------------------------------- */

static void
on_files_changed(void *arg)
{
	struct daemon *d = arg;

	if (d->stopping)
		return;
	if (refresh_desired(d, METRICS_TRIGGER_WATCH, false) == 1)
		trigger(d, "desired state changed", METRICS_TRIGGER_WATCH);
	else
		log_debug("a change under %s, none to the files the loader reads",
		    d->settings.desired);
}

static int
on_post_reconcile(void *arg)
{
	struct daemon *d = arg;

	if (d->stopping)
		return -ESHUTDOWN;
	trigger(d, "POST /reconcile", METRICS_TRIGGER_API);
	return 0;
}

static int
start_status(struct daemon *d)
{
	struct status_handlers h = {
		.ready = daemon_ready,
		.status_json = daemon_status_json,
		.reconcile = on_post_reconcile,
		.arg = d,
	};
	char err[256] = "";
	int rc = status_start(d->loop, d->settings.listen, d->metrics, &h, &d->status,
	    err, sizeof(err));

	if (rc != 0)
		log_errorx("status endpoint on %s: %s", d->settings.listen, err);
	return rc;
}

/* What inotify could not do: logged once per kind with what to do about
 * it, counted every time; from then on the check before each reconcile is
 * relied on (follow "poll") until a reload sets the watch up again. */
static void
on_watch_problem(void *arg, enum watch_problem p, const char *path, int err)
{
	struct daemon *d = arg;
	const char *desired = d->settings.desired;

	metrics_watch_failure(d->metrics, watch_problem_name(p));
	d->watch_degraded = true;
	if (d->watch_logged[p])
		return;
	d->watch_logged[p] = true;
	switch (p) {
	case WATCH_OVERFLOW:
		log_warnx("watch %s: the inotify event queue overflowed and changes "
		    "were lost: checking the files now, and before every reconcile "
		    "as always (follow: poll until a reload). If it happens again, "
		    "raise fs.inotify.max_queued_events (sysctl), then reload "
		    "(SIGHUP)", desired);
		break;
	case WATCH_LIMIT:
		if (err == 0)
			log_warnx("watch %s: more than %d folders; changes beyond "
			    "them are found by the check before each reconcile, up "
			    "to one interval late (follow: poll)", desired,
			    WATCH_MAX_DIRS);
		else
			log_warnx("watch %s: cannot watch %s: %s: the inotify watch "
			    "limit is reached; changes there are found by the check "
			    "before each reconcile, up to one interval late (follow: "
			    "poll). Raise fs.inotify.max_user_watches (sysctl; it "
			    "counts every watch of the user), then reload (SIGHUP)",
			    desired, path, strerror(err));
		break;
	default:
		log_warnx("watch %s: cannot watch %s: %s; changes there are found "
		    "by the check before each reconcile, up to one interval late "
		    "(follow: poll)", desired, path, strerror(err));
		break;
	}
}

/* (Re)starts the watch as the settings ask; a watch that cannot start
 * leaves the daemon following by the check alone. */
static void
start_watch(struct daemon *d)
{
	struct watch_params p = {
		.debounce_ms = WATCH_DEBOUNCE_MS,
		.changed = on_files_changed,
		.problem = on_watch_problem,
		.arg = d,
		.fault = d->watch_fault,
	};
	int rc;

	watch_stop(d->watch);
	d->watch = NULL;
	d->watch_degraded = false;
	memset(d->watch_logged, 0, sizeof(d->watch_logged));
	if (d->settings.follow == FOLLOW_POLL) {
		log_info("follow: poll: changes under %s are found by the check "
		    "before each reconcile", d->settings.desired);
		return;
	}
	rc = watch_start(d->loop, d->settings.desired, &p, &d->watch);
	if (rc == 0)
		return;
	if (rc == -ENOSPC || rc == -EMFILE) {
		metrics_watch_failure(d->metrics, METRICS_WATCH_LIMIT);
		log_warnx("cannot watch %s: %s: the inotify %s limit is reached; "
		    "changes are found by the check before each reconcile, up to "
		    "one interval late (follow: poll). Raise %s (sysctl), then "
		    "reload (SIGHUP)", d->settings.desired, strerror(-rc),
		    rc == -ENOSPC ? "watch" : "instance",
		    rc == -ENOSPC ? "fs.inotify.max_user_watches" :
		    "fs.inotify.max_user_instances");
	} else {
		metrics_watch_failure(d->metrics, METRICS_WATCH_ERROR);
		log_warnx("cannot watch %s: %s; changes are found by the check "
		    "before each reconcile, up to one interval late (follow: poll)",
		    d->settings.desired, strerror(-rc));
	}
}

static bool
same(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

/* SIGHUP: settings file and desired state again; flags and environment keep
 * their precedence (settings_reload). Bad settings keep the old ones. */
static void
reload(struct daemon *d)
{
	struct settings ns;
	struct diag dg;
	struct token nt = { 0 };
	char err[512];
	bool api_changed, desired_changed, listen_changed, follow_changed;

	notify_reloading();
	log_info("SIGHUP: reloading the settings and the desired state");
	diag_init(&dg);
	if (settings_reload(&d->settings, &ns, &dg) != 0) {
		log_diag(&dg);
		log_errorx("the settings file is invalid: keeping the current settings");
		diag_free(&dg);
		settings_free(&ns);
	} else {
		diag_free(&dg);
		if (!same(ns.state_dir, d->settings.state_dir))
			log_warnx("state_dir changed: it takes effect at the next start");
		api_changed = !same(ns.api_url, d->settings.api_url) ||
		    !same(ns.ca_file, d->settings.ca_file) ||
		    !same(ns.token_file, d->settings.token_file) ||
		    ns.team_id != d->settings.team_id ||
		    ns.concurrency != d->settings.concurrency ||
		    ns.request_timeout_ms != d->settings.request_timeout_ms ||
		    ns.prune != d->settings.prune || ns.max_deletes != d->settings.max_deletes ||
		    ns.allow_empty != d->settings.allow_empty ||
		    ns.drift != d->settings.drift ||
		    !same(ns.keys_dir, d->settings.keys_dir);
		desired_changed = !same(ns.desired, d->settings.desired);
		listen_changed = !same(ns.listen, d->settings.listen);
		follow_changed = ns.follow != d->settings.follow;
		/* The state folder (and so the lock) never moves under a run. */
		free(ns.state_dir);
		ns.state_dir = strdup(d->settings.state_dir);
		settings_free(&d->settings);
		d->settings = ns;
		log_init(d->settings.log_level, d->settings.log_format);
		if (listen_changed) {
			status_stop(d->status);
			d->status = NULL;
			start_status(d);
		}
		/* a watch that failed is tried again: the limit may have
		 * been raised */
		if (desired_changed || follow_changed ||
		    (d->settings.follow == FOLLOW_WATCH &&
		    (d->watch == NULL || d->watch_degraded)))
			start_watch(d);
		/* A rotated token is picked up on every reload. */
		if (token_load(d->settings.token_file, &nt, err, sizeof(err)) == 0) {
			if (strcmp(nt.value, d->token.value) != 0) {
				log_info("token changed (now from %s)", nt.source);
				api_changed = true;
			}
			token_free(&d->token);
			d->token = nt;
		} else {
			log_errorx("token: %s: keeping the current one", err);
		}
		if (api_changed) {
			if (d->running) {
				d->reload_client = true;
			} else {
				client_close(d);
				if (client_open(d) != 0)
					log_errorx("cannot apply the new API settings");
			}
		}
	}
	metrics_reload(d->metrics, METRICS_TRIGGER_SIGHUP);
	load_desired(d);
	notify_ready();
	trigger(d, "SIGHUP", METRICS_TRIGGER_SIGHUP);
}

/* ---- shutdown ---------------------------------------------------------- */

static void
on_grace(uv_timer_t *t)
{
	struct daemon *d = t->data;

	log_warnx("requests still in flight after %d s: cancelling them",
	    SHUTDOWN_GRACE_MS / 1000);
	if (d->client != NULL)
		api_cancel_all(d->client);
}

static void
shutdown_finish(struct daemon *d)
{
	uv_timer_stop(&d->grace);
	uv_close((uv_handle_t *)&d->timer, NULL);
	uv_close((uv_handle_t *)&d->grace, NULL);
	uv_close((uv_handle_t *)&d->sighup, NULL);
	uv_close((uv_handle_t *)&d->sigterm, NULL);
	uv_close((uv_handle_t *)&d->sigint, NULL);
	status_stop(d->status);
	d->status = NULL;
	watch_stop(d->watch);
	d->watch = NULL;
	notify_watchdog_stop(d->watchdog);
	d->watchdog = NULL;
	client_close(d);
	log_info("stopped");
}

static void
on_signal(uv_signal_t *s, int signum)
{
	struct daemon *d = s->data;

	if (signum == SIGHUP) {
		if (!d->stopping)
			reload(d);
		return;
	}
	if (d->stopping)
		return;
	d->stopping = true;
	notify_stopping();
	log_info("%s: stopping", signum == SIGTERM ? "SIGTERM" : "SIGINT");
	uv_timer_stop(&d->timer);
	if (!d->running) {
		shutdown_finish(d);
		return;
	}
	/* Nothing new starts; what is in flight gets the grace period, and
	 * the executor saves the ledger as each action finishes. */
	reconcile_stop_starting(&d->rec);
	uv_timer_start(&d->grace, on_grace, SHUTDOWN_GRACE_MS, 0);
}

/* ---- start ------------------------------------------------------------- */

static int
init_handles(struct daemon *d)
{
	if (uv_timer_init(d->loop, &d->timer) != 0 ||
	    uv_timer_init(d->loop, &d->grace) != 0 ||
	    uv_signal_init(d->loop, &d->sighup) != 0 ||
	    uv_signal_init(d->loop, &d->sigterm) != 0 ||
	    uv_signal_init(d->loop, &d->sigint) != 0)
		return -1;
	d->timer.data = d->grace.data = d;
	d->sighup.data = d->sigterm.data = d->sigint.data = d;
	uv_signal_start(&d->sighup, on_signal, SIGHUP);
	uv_signal_start(&d->sigterm, on_signal, SIGTERM);
	uv_signal_start(&d->sigint, on_signal, SIGINT);
	return 0;
}

static int
prepare_state_dir(struct daemon *d)
{
	char err[512];

	if (mkdir(d->settings.state_dir, 0700) != 0 && errno != EEXIST) {
		log_errorx("state_dir %s: %s", d->settings.state_dir, strerror(errno));
		return -1;
	}
	d->lock_fd = lock_acquire(d->settings.state_dir, err, sizeof(err));
	if (d->lock_fd < 0) {
		log_errorx("%s", err);
		return -1;
	}
	return 0;
}

/* The test hooks of the environment (see TEST_*_ENV). 0, or -EINVAL
 * (logged) for a value that is not understood. */
static int
read_test_hooks(struct daemon *d, uint64_t *start_delay_ms)
{
	const char *v;
	char *end;

	*start_delay_ms = 0;
	if ((v = getenv(TEST_WATCH_FAULT_ENV)) != NULL && *v != '\0') {
		if (watch_fault_parse(v, &d->watch_fault) != 0) {
			log_errorx("%s=%s: expected overflow, limit or error",
			    TEST_WATCH_FAULT_ENV, v);
			return -EINVAL;
		}
		log_warnx("test hook %s=%s: the file watch fails on purpose",
		    TEST_WATCH_FAULT_ENV, v);
	}
	if ((v = getenv(TEST_START_DELAY_ENV)) != NULL && *v != '\0') {
		errno = 0;
		*start_delay_ms = strtoull(v, &end, 10);
		if (errno != 0 || *end != '\0' || *v == '-' ||
		    *start_delay_ms > 600000) {
			log_errorx("%s=%s: expected milliseconds, at most 600000",
			    TEST_START_DELAY_ENV, v);
			return -EINVAL;
		}
		log_warnx("test hook %s=%s: the start pauses after the first load",
		    TEST_START_DELAY_ENV, v);
	}
	return 0;
}

static void
daemon_free(struct daemon *d)
{
	desired_release(d, d->in_use);
	if (d->desired != NULL) {
		desired_state_free(d->desired);
		free(d->desired);
	}
	errors_free(d);
	desired_sources_free(&d->sources);
	daemon_last_free(&d->last);
	metrics_free(d->metrics);
	token_free(&d->token);
	lock_release(d->lock_fd);
	settings_free(&d->settings);
}

int
cmd_run(const struct settings *s, int argc, char **argv)
{
	struct daemon d;
	uv_loop_t loop;
	char err[512];
	struct diag dg;
	uint64_t start_delay_ms;
	int rc = 1;

	if (argc > 1) {
		fprintf(stderr, "error: %s takes no argument\n", argv[0]);
		return 1;
	}
	memset(&d, 0, sizeof(d));
	d.lock_fd = -1;
	d.loop = &loop;
	d.started = (int64_t)time(NULL);
	srand((unsigned)time(NULL) ^ (unsigned)getpid());
	/* Our own copy: SIGHUP replaces it. */
	diag_init(&dg);
	if (settings_reload(s, &d.settings, &dg) != 0) {
		log_diag(&dg);
		diag_free(&dg);
		settings_free(&d.settings);
		return 1;
	}
	diag_free(&dg);
	if ((d.metrics = metrics_new()) == NULL || uv_loop_init(&loop) != 0) {
		metrics_free(d.metrics);
		settings_free(&d.settings);
		return 1;
	}
	if (init_handles(&d) != 0)
		goto out;
	if (read_test_hooks(&d, &start_delay_ms) != 0 || prepare_state_dir(&d) != 0)
		goto stop;
	/* The watch first: a change from here on is an event, even one made
	 * while the files are read. The check of the first reconcile covers a
	 * daemon without a watch. */
	start_watch(&d);
	if (load_desired(&d) != 0) {
		log_errorx("%s: the first desired state is invalid: not starting",
		    d.settings.desired);
		goto stop;
	}
	if (start_delay_ms > 0) {
		struct timespec pause = { (time_t)(start_delay_ms / 1000),
		    (long)(start_delay_ms % 1000) * 1000000L };

		while (nanosleep(&pause, &pause) != 0 && errno == EINTR)
			;
	}
	if (token_load(d.settings.token_file, &d.token, err, sizeof(err)) != 0) {
		log_errorx("token: %s", err);
		goto stop;
	}
	log_info("token from %s", d.token.source);
	/* A state file that is not a regular file, or a ledger from a newer
	 * version: refuse to start rather than fail every reconcile. */
	if (client_open(&d) != 0 || reconcile_check_state(&d.rec) != 0 ||
	    start_status(&d) != 0)
		goto stop;
	if (notify_watchdog_start(&loop, &d.watchdog) != 0)
		log_warnx("cannot start the watchdog timer");
	log_info("convex-provisioner %s running: prune %s, drift %s, interval %.0fs, "
	    "follow %s", CP_VERSION, prune_mode_name(d.settings.prune),
	    drift_mode_name(d.settings.drift),
	    (double)d.settings.interval_ms / 1000, daemon_follow(&d));
	notify_ready();
	d.next_trigger = METRICS_TRIGGER_TIMER;
	start_reconcile(&d);
	rc = 0;
	uv_run(&loop, UV_RUN_DEFAULT);
	goto out;
stop:
	shutdown_finish(&d);
	uv_run(&loop, UV_RUN_DEFAULT);
out:
	if (uv_loop_close(&loop) != 0) {
		log_errorx("internal error: a libuv handle was left open");
		rc = 1;
	}
	daemon_free(&d);
	return rc;
}
