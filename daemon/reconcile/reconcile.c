/* reconcile.c: sequences one reconcile: discover the team (once), load the
 * ledger, observe, plan, and for `apply` execute. Only one reconcile runs at
 * a time (reconcile_start answers -EBUSY otherwise): two overlapping ones
 * would each act on a view the other is changing, which is exactly how
 * duplicates are made. The daemon coalesces triggers instead of queueing. */
#include "reconcile.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ledger.h"
#include "log.h"
#include "observe.h"

static char *
join(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = malloc(n);

	if (p != NULL)
		snprintf(p, n, "%s/%s", dir, name);
	return p;
}

int
reconciler_init(struct reconciler *r, uv_loop_t *loop, struct api_client *c,
    const struct reconcile_config *cfg)
{
	memset(r, 0, sizeof(*r));
	r->loop = loop;
	r->client = c;
	r->cfg = *cfg;
	r->team = cfg->team_id;
	/* Our own copies: the settings they came from may be replaced. */
	r->state_dir = strdup(cfg->state_dir);
	r->cfg.state_dir = r->state_dir;
	r->ledger_path = join(cfg->state_dir, "ledger.json");
	r->audit_path = join(cfg->state_dir, "actions.jsonl");
	if (r->state_dir == NULL || r->ledger_path == NULL || r->audit_path == NULL) {
		reconciler_cleanup(r);
		return -ENOMEM;
	}
	return 0;
}

void
reconciler_cleanup(struct reconciler *r)
{
	if (r == NULL)
		return;
	ledger_clear(&r->ledger);
	free(r->state_dir);
	free(r->ledger_path);
	free(r->audit_path);
	r->state_dir = r->ledger_path = r->audit_path = NULL;
}

void
reconcile_outcome_free(struct reconcile_outcome *o)
{
	if (o == NULL)
		return;
	execute_results_free(o->results, o->plan.n_actions);
	plan_free(&o->plan);
	observed_state_free(&o->observed);
	free(o);
}

int
reconcile_exit_code(const struct reconcile_outcome *o)
{
	if (o->rc != 0)
		return 1;
	if (o->mode == RECONCILE_PLAN)
		return (o->plan.n_actions > 0 || o->plan.n_blocked > 0) ? 2 : 0;
	if (o->n_failed > 0 || o->n_skipped > 0 || o->ledger_rc != 0)
		return 1;
	return o->plan.n_blocked > 0 ? 3 : 0;
}

static void
finish(struct reconciler *r)
{
	struct reconcile_outcome *out = r->out;

	out->seconds = (double)(uv_now(r->loop) - r->started_ms) / 1000.0;
	r->busy = false;
	r->out = NULL;
	r->exec = NULL;
	r->ds = NULL;
	r->done(r->done_arg, out);
}

static void __attribute__((format(printf, 3, 4)))
fail(struct reconciler *r, int rc, const char *fmt, ...)
{
	va_list ap;

	r->out->rc = rc < 0 ? rc : -EIO;
	va_start(ap, fmt);
	vsnprintf(r->out->error, sizeof(r->out->error), fmt, ap);
	va_end(ap);
	finish(r);
}

static void
on_executed(void *arg, int ledger_rc)
{
	struct reconciler *r = arg;
	struct reconcile_outcome *out = r->out;

	out->ledger_rc = ledger_rc;
	for (size_t i = 0; i < out->plan.n_actions; i++) {
		switch (out->results[i].state) {
		case ACTION_OK: out->n_ok++; break;
		case ACTION_FAILED: out->n_failed++; break;
		default: out->n_skipped++; break;
		}
	}
	finish(r);
}

static void
on_action(void *arg, const struct plan_action *a, const struct action_result *res)
{
	struct reconciler *r = arg;

	if (r->on_action)
		r->on_action(r->on_action_arg, a, res);
}

/* The state folder is made on first use (0700: the ledger says what is
 * ours, the audit trail names resources). */
static int
ensure_state_dir(const char *dir)
{
	if (mkdir(dir, 0700) == 0 || errno == EEXIST)
		return 0;
	return -errno;
}

static void
execute(struct reconciler *r)
{
	struct reconcile_outcome *out = r->out;
	struct execute_paths paths = { r->ledger_path, r->audit_path };
	int rc;

	out->results = calloc(out->plan.n_actions + 1, sizeof(*out->results));
	if (out->results == NULL) {
		fail(r, -ENOMEM, "%s", "out of memory");
		return;
	}
	if (out->plan.n_actions == 0 && !r->stopping) {
		/* Nothing to do, but protect marks may have changed. */
		char err[256] = "";
		if ((rc = ledger_save(r->ledger_path, &r->ledger, err, sizeof(err))) != 0)
			log_errorx("ledger: %s: %s", err, strerror(-rc));
		on_executed(r, rc);
		return;
	}
	rc = execute_start(r->loop, r->client, r->team, r->cfg.concurrency,
	    &out->plan, &r->ledger,
	    &paths, out->results, on_action, on_executed, r, &r->exec);
	if (rc != 0)
		fail(r, rc, "cannot start the actions: %s", strerror(-rc));
	else if (r->stopping)
		execute_stop_starting(r->exec);
}

static void
on_observed(void *arg, int rc, const char *error, struct observed_state *os)
{
	struct reconciler *r = arg;
	struct reconcile_outcome *out = r->out;

	if (rc != 0) {
		fail(r, rc, "observation failed, nothing was changed: %s", error);
		return;
	}
	out->observed = *os;
	memset(os, 0, sizeof(*os));

	if (ledger_sync(&r->ledger, r->ds, &out->observed) < 0) {
		fail(r, -ENOMEM, "%s", "out of memory");
		return;
	}
	if ((rc = plan_build(r->ds, &out->observed, &r->ledger, &r->cfg.plan, &out->plan)) != 0) {
		fail(r, rc, "planning failed: %s", strerror(-rc));
		return;
	}
	if (out->mode == RECONCILE_PLAN) {
		finish(r);
		return;
	}
	/* A stopped apply still goes through the executor: it marks every
	 * action SKIPPED, so the outcome says "not converged" (exit 1). */
	execute(r);
}

static void
observe(struct reconciler *r)
{
	int rc = observe_start(r->client, r->team, r->ds, &r->ledger,
	    r->cfg.plan.prune, on_observed, r);

	if (rc != 0)
		fail(r, rc, "cannot start the observation: %s", strerror(-rc));
}

static void
on_team(void *arg, int rc, const struct api_error *err, int64_t team_id)
{
	struct reconciler *r = arg;
	char detail[700];

	if (rc != 0) {
		if (err != NULL)
			api_error_format(err, detail, sizeof(detail));
		else
			snprintf(detail, sizeof(detail), "%s", strerror(-rc));
		fail(r, rc, "cannot discover the team (GET /token_details): %s", detail);
		return;
	}
	log_info("team %lld discovered from the token", (long long)team_id);
	r->team = team_id;
	r->out->team_id = team_id;
	observe(r);
}

/* Reads the ledger afresh for every reconcile: the file is the truth. A
 * corrupt ledger is reported and treated as empty, which only means `owned`
 * prunes nothing; for apply it is moved aside so it can be recovered. */
static int
load_ledger(struct reconciler *r, enum reconcile_mode mode)
{
	char err[256] = "", moved[4200];
	int rc;

	ledger_clear(&r->ledger);
	rc = ledger_load(r->ledger_path, &r->ledger, err, sizeof(err));
	if (rc == -EBADMSG) {
		log_errorx("ledger %s is corrupt (%s): treating it as empty, so prune "
		    "\"owned\" deletes nothing", r->ledger_path, err);
		if (mode == RECONCILE_APPLY &&
		    ledger_quarantine(r->ledger_path, moved, sizeof(moved)) == 0)
			log_warnx("ledger: the corrupt file was moved to %s", moved);
		return 0;
	}
	if (rc != 0)
		log_errorx("ledger %s: %s", r->ledger_path, err);
	return rc;
}

int
reconcile_start(struct reconciler *r, const struct desired_state *ds,
    enum reconcile_mode mode, reconcile_done_cb done, void *arg)
{
	int rc;

	if (r->busy)
		return -EBUSY;
	if (mode == RECONCILE_APPLY && (rc = ensure_state_dir(r->cfg.state_dir)) != 0) {
		log_errorx("state_dir %s: %s", r->cfg.state_dir, strerror(-rc));
		return rc;
	}
	if ((rc = load_ledger(r, mode)) != 0)
		return rc;
	if ((r->out = calloc(1, sizeof(*r->out))) == NULL)
		return -ENOMEM;
	r->out->mode = mode;
	r->out->team_id = r->team;
	r->busy = true;
	r->stopping = false;
	r->ds = ds;
	r->done = done;
	r->done_arg = arg;
	r->exec = NULL;
	uv_update_time(r->loop);
	r->started_ms = uv_now(r->loop);

	if (r->team == 0) {
		rc = api_token_details(r->client, on_team, r);
		if (rc != 0) {
			free(r->out);
			r->out = NULL;
			r->busy = false;
			return rc;
		}
		return 0;
	}
	rc = observe_start(r->client, r->team, ds, &r->ledger, r->cfg.plan.prune,
	    on_observed, r);
	if (rc != 0) {
		free(r->out);
		r->out = NULL;
		r->busy = false;
	}
	return rc;
}

void
reconcile_stop_starting(struct reconciler *r)
{
	r->stopping = true;
	if (r->exec != NULL)
		execute_stop_starting(r->exec);
}
