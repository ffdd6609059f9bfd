/* reconcile.c: sequences one reconcile: discover the team (once), load the
 * ledger and the open create intents, observe, resolve the intents against
 * the observation (adoptions into the ledger, conflicts for the plan),
 * plan, and for `apply`: save the ledger, make the intents of the plan's
 * creates durable (one fsync), execute, then drop the intents that the
 * execution settled. Nothing is sent when either write fails. Only one
 * reconcile runs at a time (reconcile_start answers -EBUSY otherwise): two
 * overlapping ones would each act on a view the other is changing, which
 * is exactly how duplicates are made. The daemon coalesces triggers
 * instead of queueing. */
#include "reconcile.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cdefs.h"
#include "intents.h"
#include "keyfile.h"
#include "ledger.h"
#include "log.h"
#include "observe.h"
#include "readfile.h"

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
	r->intents_path = join(cfg->state_dir, "intents.jsonl");
	r->keys_dir = cfg->keys_dir ? strdup(cfg->keys_dir) : join(cfg->state_dir, "keys");
	r->cfg.keys_dir = r->keys_dir;
	if (r->state_dir == NULL || r->ledger_path == NULL || r->audit_path == NULL ||
	    r->intents_path == NULL || r->keys_dir == NULL) {
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
	ledger_free(&r->ledger);
	intents_free(&r->intents);
	free(r->state_dir);
	free(r->ledger_path);
	free(r->audit_path);
	free(r->intents_path);
	free(r->keys_dir);
	r->state_dir = r->ledger_path = r->audit_path = r->intents_path = NULL;
	r->keys_dir = NULL;
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

static void CP_PRINTF(3, 4)
fail(struct reconciler *r, int rc, const char *fmt, ...)
{
	va_list ap;

	r->out->rc = rc < 0 ? rc : -EIO;
	va_start(ap, fmt);
	vsnprintf(r->out->error, sizeof(r->out->error), fmt, ap);
	va_end(ap);
	finish(r);
}

static int64_t
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Rewrites intents.jsonl when what is open changed. Only called once the
 * ledger holding every adoption and completion is saved: an intent dropped
 * before its record is durable would be lost with a crash. A failure is
 * not an error: the intents left are resolved again next time. */
static void
save_intents(struct reconciler *r)
{
	char err[600] = "";

	if (!r->intents_dirty && r->intents_clean)
		return;
	if (intents_save(r->intents_path, &r->intents, err, sizeof(err)) != 0) {
		log_warnx("intents: %s (the next observation resolves them again)", err);
		return;
	}
	r->intents_dirty = false;
	r->intents_clean = true;
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
	/* The batch: what was never sent, and what is done and saved, is
	 * settled; a failed create waits for the next observation. */
	if (intents_settle(&r->intents, &out->plan, out->results, ledger_rc == 0))
		r->intents_dirty = true;
	if (ledger_rc == 0)
		save_intents(r);
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

/* The intents of every create of the plan, written and fsynced once for
 * the batch (appended, or with the open ones in a rewrite when the file
 * changed), before the first create is sent. Fails the reconcile when they
 * cannot be made durable: then nothing at all is sent. */
static int
write_batch(struct reconciler *r)
{
	struct reconcile_outcome *out = r->out;
	size_t from = r->intents.n;
	char err[600] = "";
	int n, rc;

	if ((n = intents_from_plan(&r->intents, &out->plan, wall_ms())) < 0) {
		fail(r, n, "%s", "out of memory");
		return n;
	}
	if (n == 0) {
		save_intents(r);   /* what the observation resolved */
		return 0;
	}
	if (r->intents_clean && !r->intents_dirty)
		rc = intents_append(r->intents_path, &r->intents, from, err, sizeof(err));
	else
		rc = intents_save(r->intents_path, &r->intents, err, sizeof(err));
	if (rc != 0) {
		/* What is on disk now is unknown: rewrite it next time. */
		r->intents_clean = false;
		r->intents_dirty = true;
		fail(r, rc, "the create intents could not be made durable (%s): no "
		    "create was sent, nothing was done", err);
		return rc;
	}
	r->intents_clean = true;
	r->intents_dirty = false;
	log_debug("intents: %d create%s recorded in %s before sending", n,
	    n == 1 ? "" : "s", r->intents_path);
	return 0;
}

/* The secret files of deploy keys follow the declared names (SPEC
 * section 8): moved before any action, so a delete or a new key finds
 * them where the files say. A failure is reported, never fatal: the file
 * is found at its old path again next time (keyfile_locate). */
static void
follow_key_renames(struct reconciler *r)
{
	char err[3000] = "";
	size_t moved = 0;

	if (keyfile_follow_renames(r->keys_dir, r->ds, &moved, err, sizeof(err)) != 0)
		log_warnx("deploy key files: %s", err);
	if (moved > 0)
		log_info("deploy key files: %zu moved to the path of their renamed "
		    "project or deployment", moved);
}

static void
execute(struct reconciler *r)
{
	struct reconcile_outcome *out = r->out;
	struct execute_paths paths = { r->ledger_path, r->audit_path, r->keys_dir };
	char err[256] = "";
	int rc;

	out->results = calloc(out->plan.n_actions + 1, sizeof(*out->results));
	if (out->results == NULL) {
		fail(r, -ENOMEM, "%s", "out of memory");
		return;
	}
	/* The ledger before any action: what the observation adopted and the
	 * protect marks become durable, and a state folder that takes no
	 * write (a full disk, a read-only mount) stops the apply here, with
	 * nothing done. With nothing to do, the save is all there is. */
	if ((rc = ledger_save(r->ledger_path, &r->ledger, err, sizeof(err))) != 0) {
		if (out->plan.n_actions > 0) {
			fail(r, rc, "the ledger could not be saved (%s): nothing was done", err);
			return;
		}
		log_errorx("ledger: %s", err);
		on_executed(r, rc);
		return;
	}
	follow_key_renames(r);
	if (out->plan.n_actions == 0 && !r->stopping) {
		on_executed(r, 0);
		return;
	}
	if (!r->stopping && write_batch(r) != 0)
		return;
	rc = execute_start(r->loop, r->client, r->team, r->cfg.concurrency,
	    &out->plan, &r->ledger,
	    &paths, out->results, on_action, on_executed, r, &r->exec);
	if (rc != 0)
		fail(r, rc, "cannot start the actions: %s", strerror(-rc));
	else if (r->stopping)
		execute_stop_starting(r->exec);
}

static void
on_intent(void *arg, enum intent_event ev, const struct intent *it, int64_t id,
    const char *name)
{
	struct reconciler *r = arg;
	const char *kind = intent_kind_name(it->kind);
	const char *ref = it->reference != NULL ? it->reference : "";
	const char *slash = it->reference != NULL ? "/" : "";
	const char *sp = it->name != NULL ? " " : "";
	const char *what = it->name != NULL ? it->name : "";
	const char *note = r->out->mode == RECONCILE_PLAN ? " (plan: not saved)" : "";

	switch (ev) {
	case INTENT_ADOPTED:
		if (it->kind == INTENT_PROJECT)
			log_info("adopted project \"%s\" (%lld): made by an earlier "
			    "create whose answer was lost, now recorded as created by "
			    "this tool%s", it->project, (long long)id, note);
		else if (it->kind == INTENT_DEPLOYMENT)
			log_info("adopted deployment \"%s/%s\" (%s): made by an "
			    "earlier create whose answer was lost, now recorded as "
			    "created by this tool%s", it->project, ref,
			    name != NULL ? name : "?", note);
		else
			log_info("adopted %s \"%s/%s\" %s (%s): made by an earlier "
			    "create whose answer was lost%s%s", kind, it->project, ref,
			    what, name != NULL ? name : "?",
			    it->kind == INTENT_DEPLOY_KEY ? ", now recorded as created "
			    "by this tool" : "", note);
		break;
	case INTENT_LOST_SECRET:
		log_warnx("deploy key \"%s/%s\" %s (%s) was made by a create of "
		    "this tool whose answer, and so its secret, was lost: it is "
		    "deleted and created again, and the new secret written%s",
		    it->project, ref, what, name != NULL ? name : "?", note);
		break;
	case INTENT_CONFLICT:
		log_warnx("%lld live resources match the lost create of %s "
		    "\"%s%s%s\"%s%s: which one this tool made cannot be told; "
		    "nothing is done to it until only one is left (docs/recovery.md)",
		    (long long)id, kind, it->project, slash, ref, sp, what);
		break;
	case INTENT_CONFLICT_GONE:
		log_info("the conflict over %s \"%s%s%s\"%s%s is over: its create "
		    "intent is dropped, and what is left is not recorded as ours "
		    "(a person chose what stayed)%s", kind, it->project, slash, ref,
		    sp, what, note);
		break;
	case INTENT_EXPIRED:
		log_info("the create intent of %s \"%s%s%s\"%s%s is older than "
		    "%lld h: dropped unexamined%s", kind, it->project, slash, ref,
		    sp, what, INTENTS_MAX_AGE_MS / 3600000, note);
		break;
	}
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

	/* Complete, so the intents can be resolved against it: adoptions go
	 * into the ledger (saved before any action), conflicts to the plan. */
	if (intents_resolve(&r->intents, r->ds, &out->observed, &r->ledger,
	    wall_ms(), &out->intents, on_intent, r) != 0) {
		fail(r, -ENOMEM, "%s", "out of memory");
		return;
	}
	if (out->intents.changed)
		r->intents_dirty = true;
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
	if (r->gate != NULL) {
		char msg[sizeof(out->error)] = "";

		if (r->gate(r->gate_arg, out, msg, sizeof(msg)) != 0) {
			fail(r, -ECANCELED, "%s", msg);
			return;
		}
	}
	/* A stopped apply still goes through the executor: it marks every
	 * action SKIPPED, so the outcome says "not converged" (exit 1). */
	execute(r);
}

static void
observe(struct reconciler *r)
{
	int rc = observe_start_keys(r->client, r->team, r->ds, &r->ledger,
	    r->cfg.plan.prune, r->cfg.plan.max_deletes, r->keys_dir, on_observed, r);

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

/* The files this tool writes in state_dir must be regular files (or not
 * exist yet): a FIFO there would block an open forever (and with it the
 * record of what was created), a link could point anywhere. Checked before
 * any request, so a refusal never leaves an action unrecorded. */
static const char *const state_files[] = {
	"ledger.json", "ledger.json.tmp", "intents.jsonl", "intents.jsonl.tmp",
	"actions.jsonl", "lock",
};

static int
check_state_files(const struct reconciler *r)
{
	char path[4200];
	struct stat st;

	for (size_t i = 0; i < CP_NELEM(state_files); i++) {
		snprintf(path, sizeof(path), "%s/%s", r->state_dir, state_files[i]);
		if (lstat(path, &st) != 0) {
			if (errno == ENOENT || errno == ENOTDIR)
				continue;
			log_errorx("%s: %s: nothing was done", path, strerror(errno));
			return -errno;
		}
		if (!S_ISREG(st.st_mode)) {
			log_errorx("%s is %s, not a regular file: refusing to run, "
			    "nothing was done (remove it; see docs/recovery.md)",
			    path, readfile_kind((unsigned)st.st_mode));
			return S_ISLNK(st.st_mode) ? -ELOOP : -EINVAL;
		}
	}
	return 0;
}

/* Reads the ledger afresh for every reconcile: the file is the truth. A
 * damaged ledger (not JSON, wrong shapes, data after the document, a NUL in
 * a name) is reported and treated as empty, which only means `owned`
 * prunes nothing; for apply it is moved aside so it can be recovered. A
 * ledger written by a newer version is not damage: its marks cannot be
 * read here, so nothing at all is done until the program is upgraded. Any
 * other error (reading it failed, it is not a regular file) also stops the
 * reconcile before any request. */
static int
load_ledger(struct reconciler *r, enum reconcile_mode mode)
{
	char err[256] = "", moved[4200];
	int rc;

	ledger_free(&r->ledger);
	rc = ledger_load(r->ledger_path, &r->ledger, err, sizeof(err));
	if (rc == -EBADMSG) {
		log_errorx("ledger %s is corrupt (%s): treating it as empty, so prune "
		    "\"owned\" deletes nothing", r->ledger_path, err);
		if (mode == RECONCILE_APPLY) {
			if ((rc = ledger_quarantine(r->ledger_path, moved,
			    sizeof(moved))) == 0)
				log_warnx("ledger: the corrupt file was moved to %s",
				    moved);
			else
				log_errorx("ledger: cannot move the corrupt file "
				    "aside: %s", strerror(-rc));
		}
		return 0;
	}
	if (rc == -EPROTONOSUPPORT)
		log_errorx("ledger %s was %s: refusing to run, nothing was done; "
		    "upgrade convex-provisioner (this is version %s)",
		    r->ledger_path, err, CP_VERSION);
	else if (rc != 0)
		log_errorx("ledger %s %s: nothing was done", r->ledger_path, err);
	return rc;
}

/* Reads the open create intents afresh for every reconcile, as the
 * ledger. A line that is not understood (torn by a crash, damage, a newer
 * version) is skipped with a warning: an intent lost only leaves its
 * resource unowned, the safe side; the next rewrite drops it. A file that
 * cannot be read stops the reconcile before any request. */
static int
load_intents(struct reconciler *r)
{
	char err[300] = "";
	size_t bad = 0;
	bool clean = true;
	int rc;

	intents_free(&r->intents);
	rc = intents_load(r->intents_path, &r->intents, &bad, &clean, err, sizeof(err));
	if (rc == -EFBIG) {
		log_errorx("intents %s: %s: ignored (an intent lost only leaves its "
		    "resource unowned)", r->intents_path, err);
		clean = false;
	} else if (rc != 0) {
		log_errorx("intents %s: %s: nothing was done", r->intents_path, err);
		return rc;
	} else if (bad > 0) {
		log_warnx("intents %s: %s (an intent lost only leaves its resource "
		    "unowned)", r->intents_path, err);
	}
	r->intents_clean = clean;
	r->intents_dirty = false;
	return 0;
}

int
reconcile_check_state(struct reconciler *r)
{
	int rc;

	if ((rc = check_state_files(r)) != 0)
		return rc;
	ledger_free(&r->ledger);
	/* Damage is no reason not to start: the first reconcile moves it
	 * aside. A newer version, or a ledger that cannot be read, is. */
	if ((rc = load_ledger(r, RECONCILE_PLAN)) == 0)
		rc = load_intents(r);
	ledger_free(&r->ledger);
	intents_free(&r->intents);
	return rc;
}

/* The protect marks the files declare, on what the ledger recorded, before
 * any request: durable even if the observation then fails (ledger.h). A
 * plan marks them in memory only. */
static int
mark_declared(struct reconciler *r, const struct desired_state *ds,
    enum reconcile_mode mode)
{
	char err[256] = "";
	int rc = ledger_mark_declared(&r->ledger, ds);

	if (rc < 0) {
		log_errorx("out of memory");
		return rc;
	}
	if (rc == 0 || mode != RECONCILE_APPLY)
		return 0;
	if ((rc = ledger_save(r->ledger_path, &r->ledger, err, sizeof(err))) != 0)
		log_errorx("ledger %s: %s: nothing was done", r->ledger_path, err);
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
	if ((rc = check_state_files(r)) != 0 || (rc = load_ledger(r, mode)) != 0 ||
	    (rc = load_intents(r)) != 0 || (rc = mark_declared(r, ds, mode)) != 0)
		return rc;
	if ((r->out = calloc(1, sizeof(*r->out))) == NULL) {
		log_errorx("out of memory");
		return -ENOMEM;
	}
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
	/* Retries wait within a bound per reconcile, not per call (api.h). */
	api_retry_budget_reset(r->client);

	if (r->team == 0)
		rc = api_token_details(r->client, on_team, r);
	else
		rc = observe_start_keys(r->client, r->team, ds, &r->ledger,
		    r->cfg.plan.prune, r->cfg.plan.max_deletes, r->keys_dir, on_observed, r);
	if (rc != 0) {
		log_errorx("cannot send the first request: %s", strerror(-rc));
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
