/* execute.c: the executor. Dependencies are simple and fixed: a deployment
 * create waits for its project's create; deployment deletes wait for every
 * create; project deletes wait for every deployment delete. Everything else
 * runs at once and the API client's queue bounds the concurrency. */
#include "execute.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_update.h"
#include "audit.h"
#include "keyfile.h"
#include "ledger.h"
#include "log.h"
#include "plan_print.h"

/* Actions come in plan order: creates of projects, creates of deployments,
 * deletes of deployments, deletes of projects. A phase starts when the
 * previous phases have nothing left pending or running. */
enum phase { PHASE_CREATES = 0, PHASE_DEPLOYMENT_DELETES, PHASE_PROJECT_DELETES, PHASE_DONE };

struct execution {
	uv_loop_t *loop;
	struct api_client *client;
	int64_t team;
	const struct plan *plan;
	struct ledger *ledger;
	struct execute_paths paths;
	struct action_result *results;
	execute_action_cb on_action;
	execute_done_cb done;
	void *arg;

	enum phase phase;
	size_t outstanding;     /* actions of this phase not finished yet */
	size_t running;         /* sent, not finished */
	size_t limit;           /* running at most (the API's concurrency) */
	size_t *ready;          /* FIFO of actions free to go, waiting for a slot */
	size_t ready_head, ready_tail;
	size_t *first_child;    /* per project create: its deployment creates */
	size_t *next_sibling;
	bool stopping;
	bool ledger_dirty;
	int ledger_rc;
	uv_timer_t flush;       /* coalesces ledger saves (see ledger_changed) */
	uint64_t saved_at;      /* uv_hrtime() when the last save ended, or 0 */
	uint64_t save_ns;       /* how long that save took */
	bool finished;          /* done called; free in the close callback */
};

/* One in-flight request's context. */
struct exec_call {
	struct execution *x;
	size_t index;
};

static void advance(struct execution *x);
static void release_children(struct execution *x, size_t parent);
/* SPEC section 9: env, domains, deploy keys (at the end of this file). */
static int send_extras(struct execution *x, struct exec_call *call,
    int64_t project_id);
static void audit_extras(struct execution *x, const struct plan_action *a,
    const struct action_result *r);

/* The action whose result names an action's project and deployment: its
 * parent, past the deletes it only waits for (a domain moved to a
 * deployment created in this plan waits for both: the plan chains them).
 * PLAN_NO_PARENT: the action names them itself. */
static size_t
source_of(const struct execution *x, const struct plan_action *a)
{
	size_t p = a->parent;

	while (p != PLAN_NO_PARENT && p < x->plan->n_actions &&
	    (x->plan->actions[p].kind == PLAN_DOMAIN ||
	    x->plan->actions[p].op == PLAN_DELETE))
		p = x->plan->actions[p].parent;
	return p < x->plan->n_actions ? p : PLAN_NO_PARENT;
}

static enum phase
own_phase(const struct plan_action *a)
{
	/* Only the deletes that destroy data wait: everything else (creates,
	 * updates, renames, env, domains and deploy keys, their deletes too)
	 * goes in the first phase, ordered by its parent. */
	if (a->op != PLAN_DELETE ||
	    (a->kind != PLAN_PROJECT && a->kind != PLAN_DEPLOYMENT))
		return PHASE_CREATES;
	return a->kind == PLAN_DEPLOYMENT ? PHASE_DEPLOYMENT_DELETES : PHASE_PROJECT_DELETES;
}

/* An action runs in the latest phase of itself and what it waits for: a
 * domain moved off a deployment deleted in this plan is created after
 * that delete (plan.c's domain_moves). */
static enum phase
phase_of(const struct execution *x, const struct plan_action *a)
{
	enum phase ph = own_phase(a);

	for (size_t p = a->parent; p != PLAN_NO_PARENT && p < x->plan->n_actions;
	    p = x->plan->actions[p].parent) {
		enum phase pp = own_phase(&x->plan->actions[p]);

		if (pp > ph)
			ph = pp;
	}
	return ph;
}

static void
set_error(struct action_result *r, enum action_state st, const char *msg)
{
	r->state = st;
	free(r->error);
	r->error = strdup(msg);
}

static void
save_ledger(struct execution *x)
{
	char err[256] = "";
	int rc;

	uint64_t t0;

	if (!x->ledger_dirty || x->paths.ledger == NULL)
		return;
	x->ledger_dirty = false;
	t0 = uv_hrtime();
	rc = ledger_save(x->paths.ledger, x->ledger, err, sizeof(err));
	x->saved_at = uv_hrtime();
	x->save_ns = x->saved_at - t0;
	if (rc != 0) {
		log_errorx("ledger: %s", err);
		x->ledger_rc = rc;
	} else {
		x->ledger_rc = 0;
	}
}

/* Also the kick after a stop: advance() is a no-op while work is left. */
static void
on_flush(uv_timer_t *t)
{
	save_ledger(t->data);
	advance(t->data);
}

/*
 * Several completions share one save. A save rewrites (and fsyncs) the
 * whole ledger on the loop, so saving after every loop turn costs
 * creates x ledger size: quadratic in a large converge. The next save
 * waits SAVE_SPACING times as long as the last one took: a small ledger
 * is still saved every turn, and saving never takes more than about a
 * tenth of the loop's time however large the ledger or slow the disk.
 */
#define SAVE_SPACING 9
#define SAVE_WAIT_MAX_MS 1000

static uint64_t
save_delay_ms(const struct execution *x)
{
	uint64_t next = x->saved_at + SAVE_SPACING * x->save_ns, now = uv_hrtime();
	uint64_t ms;

	if (x->saved_at == 0 || now >= next)
		return 0;
	ms = (next - now + 999999) / 1000000;
	return ms < SAVE_WAIT_MAX_MS ? ms : SAVE_WAIT_MAX_MS;
}

static void
ledger_changed(struct execution *x)
{
	x->ledger_dirty = true;
	if (!uv_is_active((uv_handle_t *)&x->flush))
		uv_timer_start(&x->flush, on_flush, save_delay_ms(x), 0);
}

static void
audit(struct execution *x, const struct plan_action *a, const struct action_result *r)
{
	cJSON *changes = a->n_changes > 0 ? plan_changes_cjson(a) : NULL;
	struct audit_entry e = {
		.op = plan_op_name(a->op),
		.kind = a->kind == PLAN_PROJECT ? "project" : "deployment",
		.project = a->project,
		.project_id = a->project_id ? a->project_id : r->project_id,
		.reference = a->reference,
		.name = a->kind == PLAN_DEPLOYMENT ?
		    (a->deployment_name ? a->deployment_name : r->deployment_name) : NULL,
		.result = r->state == ACTION_OK ? "ok" : "error",
		.error = r->state == ACTION_OK ? NULL : r->error,
		.changes = changes,
	};
	int rc;

	if (a->kind != PLAN_PROJECT && a->kind != PLAN_DEPLOYMENT) {
		cJSON_Delete(changes);
		audit_extras(x, a, r);
		return;
	}
	if (x->paths.audit == NULL) {
		cJSON_Delete(changes);
		return;
	}
	rc = audit_append(x->paths.audit, &e);
	cJSON_Delete(changes);
	if (rc != 0)
		log_errorx("audit: cannot append to %s: %s", x->paths.audit, strerror(-rc));
}

static void
finished_one(struct execution *x, size_t i)
{
	const struct plan_action *a = &x->plan->actions[i];
	struct action_result *r = &x->results[i];

	audit(x, a, r);
	if (x->on_action)
		x->on_action(x->arg, a, r);
}

static void
call_failed(struct execution *x, size_t i, int rc, const struct api_error *err)
{
	struct action_result *r = &x->results[i];
	char msg[700];

	if (err != NULL)
		api_error_format(err, msg, sizeof(msg));
	else
		snprintf(msg, sizeof(msg), "%s", strerror(-rc));
	set_error(r, ACTION_FAILED, msg);
	r->ambiguous = err != NULL && err->ambiguous;
}

static struct exec_call *
call_new(struct execution *x, size_t i)
{
	struct exec_call *call = malloc(sizeof(*call));

	if (call != NULL) {
		call->x = x;
		call->index = i;
	}
	return call;
}

static void pump(struct execution *x);

/* Common tail of every completion callback. */
static void
call_done(struct exec_call *call)
{
	struct execution *x = call->x;

	finished_one(x, call->index);
	free(call);
	x->running--;
	x->outstanding--;
	pump(x);
	advance(x);
}

static void
on_project_created(void *arg, int rc, const struct api_error *err,
    int64_t project_id, const char *slug)
{
	struct exec_call *call = arg;
	struct execution *x = call->x;
	const struct plan_action *a = &x->plan->actions[call->index];
	struct action_result *r = &x->results[call->index];

	(void)slug;
	if (rc == 0) {
		r->state = ACTION_OK;
		r->project_id = project_id;
		/* Record protect now: the next reconcile may already find the
		 * project gone from the files, and must still refuse to delete it. */
		if (ledger_add_project(x->ledger, project_id, a->project) != 0)
			log_errorx("ledger: out of memory recording project \"%s\"", a->project);
		else if (a->want_project != NULL && a->want_project->protect)
			ledger_find_project(x->ledger, project_id)->protect = true;
		ledger_changed(x);
	} else {
		call_failed(x, call->index, rc, err);
	}
	release_children(x, call->index);
	call_done(call);
}

static void
on_deployment_created(void *arg, int rc, const struct api_error *err,
    struct observed_deployment *dep)
{
	struct exec_call *call = arg;
	struct execution *x = call->x;
	const struct plan_action *a = &x->plan->actions[call->index];
	struct action_result *r = &x->results[call->index];

	if (rc == 0 && dep != NULL) {
		r->state = ACTION_OK;
		r->deployment_name = strdup(dep->name);
		r->project_id = dep->project_id;
		if (ledger_add_deployment(x->ledger, dep->name, dep->project_id,
		    a->project, a->reference) != 0)
			log_errorx("ledger: out of memory recording deployment \"%s\"", dep->name);
		else if (a->want != NULL && a->want->protect)
			ledger_find_deployment(x->ledger, dep->name)->protect = true;
		ledger_changed(x);
	} else {
		call_failed(x, call->index, rc ? rc : -EIO, err);
	}
	/* What create does not take is patched right after it; its domains
	 * and deploy keys go now too. Or never. */
	release_children(x, call->index);
	call_done(call);
}

static void
on_deleted(void *arg, int rc, const struct api_error *err)
{
	struct exec_call *call = arg;
	struct execution *x = call->x;
	const struct plan_action *a = &x->plan->actions[call->index];
	struct action_result *r = &x->results[call->index];

	if (rc == 0) {
		r->state = ACTION_OK;
		if (a->kind == PLAN_PROJECT)
			ledger_remove_project(x->ledger, a->project_id);
		else
			ledger_remove_deployment(x->ledger, a->deployment_name);
		ledger_changed(x);
	} else {
		call_failed(x, call->index, rc, err);
	}
	/* A domain that this deployment held may wait for it (plan.c). */
	release_children(x, call->index);
	call_done(call);
}

/* ---- updates and renames (SPEC section 8) ---- */

static bool
is_patch(const struct plan_action *a)
{
	return (a->op == PLAN_UPDATE || a->op == PLAN_RENAME) &&
	    (a->kind == PLAN_PROJECT || a->kind == PLAN_DEPLOYMENT);
}

/* The ledger entry of what was renamed follows it. */
static void
follow_rename(struct execution *x, const struct plan_action *a,
    const struct action_result *r)
{
	int rc = 0;

	for (size_t i = 0; i < a->n_changes; i++) {
		const struct plan_change *c = &a->changes[i];

		if (c->field == PLAN_FIELD_NAME && a->kind == PLAN_PROJECT)
			rc = ledger_rename_project(x->ledger, r->project_id, c->to_str);
		else if (c->field == PLAN_FIELD_REFERENCE && a->kind == PLAN_DEPLOYMENT)
			rc = ledger_rename_deployment(x->ledger, r->deployment_name, c->to_str);
		else
			continue;
		if (rc < 0)
			log_errorx("ledger: out of memory recording the rename of \"%s\"",
			    a->project);
		else if (rc > 0)
			ledger_changed(x);
	}
}

static void
on_updated(void *arg, int rc, const struct api_error *err)
{
	struct exec_call *call = arg;
	struct execution *x = call->x;
	struct action_result *r = &x->results[call->index];

	if (rc == 0) {
		r->state = ACTION_OK;
		follow_rename(x, &x->plan->actions[call->index], r);
	} else {
		call_failed(x, call->index, rc, err);
	}
	/* A deployment made the default waits for this one (the old default
	 * unset first). */
	release_children(x, call->index);
	call_done(call);
}

/* One PATCH with only the changed fields. A deployment created in this
 * run takes its name from its create's result; the result keeps the
 * project id and deployment name for the children and the output. */
static int
send_update(struct execution *x, size_t i, struct exec_call *call, int64_t project_id)
{
	const struct plan_action *a = &x->plan->actions[i];
	struct action_result *r = &x->results[i];
	const char *name = a->deployment_name;
	struct api_deployment_patch dp;
	struct api_project_patch pp = { 0 };

	r->project_id = project_id;
	if (a->kind == PLAN_PROJECT) {
		for (size_t k = 0; k < a->n_changes; k++) {
			if (a->changes[k].field == PLAN_FIELD_NAME)
				pp.name = a->changes[k].to_str;
			else if (a->changes[k].field == PLAN_FIELD_SLUG)
				pp.slug = a->changes[k].to_str;
		}
		return api_update_project(x->client, project_id, &pp, on_updated, call);
	}
	if (name == NULL && a->parent != PLAN_NO_PARENT && a->parent < x->plan->n_actions)
		name = x->results[a->parent].deployment_name;
	if (name == NULL)
		return -EINVAL;
	if (r->deployment_name == NULL && (r->deployment_name = strdup(name)) == NULL)
		return -ENOMEM;
	api_deployment_patch_init(&dp);
	for (size_t k = 0; k < a->n_changes; k++) {
		const struct plan_change *c = &a->changes[k];

		switch (c->field) {
		case PLAN_FIELD_REFERENCE:
			dp.reference = c->to_str;
			break;
		case PLAN_FIELD_CLASS:
			dp.class_name = c->to_str;
			break;
		case PLAN_FIELD_DEFAULT:
			dp.is_default = (int)c->to_num;
			break;
		case PLAN_FIELD_DASHBOARD_EDIT_CONFIRMATION:
			dp.dashboard_edit_confirmation = (int)c->to_num;
			break;
		case PLAN_FIELD_SEND_LOGS_TO_CLIENT:
			dp.send_logs_to_client = (int)c->to_num;
			break;
		case PLAN_FIELD_EXPIRES_AT:
			dp.set_expires = true;
			dp.expires_at = c->to_num;
			break;
		default:
			break;
		}
	}
	return api_patch_deployment(x->client, name, &dp, on_updated, call);
}

static int
send_action(struct execution *x, size_t i, int64_t project_id)
{
	const struct plan_action *a = &x->plan->actions[i];
	struct exec_call *call = call_new(x, i);
	int rc;

	if (call == NULL)
		return -ENOMEM;
	if (a->kind != PLAN_PROJECT && a->kind != PLAN_DEPLOYMENT)
		rc = send_extras(x, call, project_id);
	else if (is_patch(a))
		rc = send_update(x, i, call, project_id);
	else if (a->op == PLAN_CREATE && a->kind == PLAN_PROJECT)
		rc = api_create_project(x->client, x->team, a->project, on_project_created, call);
	else if (a->op == PLAN_CREATE)
		rc = api_create_deployment(x->client, project_id, a->want,
		    on_deployment_created, call);
	else if (a->kind == PLAN_PROJECT)
		rc = api_delete_project(x->client, a->project_id, on_deleted, call);
	else
		rc = api_delete_deployment(x->client, a->deployment_name, on_deleted, call);
	if (rc != 0)
		free(call);
	return rc;
}

/* An action that ends without an answer (never sent, or refused before
 * sending): its deployments, if it is a project create, end with it. */
static void
end_unsent(struct execution *x, size_t i)
{
	x->outstanding--;
	finished_one(x, i);
	release_children(x, i);
}

/* Marks an action finished without sending it. */
static void
skip(struct execution *x, size_t i, const char *why)
{
	set_error(&x->results[i], ACTION_SKIPPED, why);
	end_unsent(x, i);
}

/* The executor, not the API client's queue, holds back what is over the
 * limit: so a stop can skip what was never sent. */
static void
pump(struct execution *x)
{
	while (x->ready_head < x->ready_tail && (x->limit == 0 || x->running < x->limit)) {
		size_t i = x->ready[x->ready_head++];
		const struct plan_action *a = &x->plan->actions[i];
		size_t src = source_of(x, a);
		int64_t project_id = src == PLAN_NO_PARENT ?
		    a->project_id : x->results[src].project_id;
		int rc;

		if (x->stopping) {
			skip(x, i, "not started: shutting down");
			continue;
		}
		x->results[i].state = ACTION_RUNNING;
		x->running++;
		if ((rc = send_action(x, i, project_id)) != 0) {
			x->running--;
			/* Unless the sender said why already (send_extras). */
			if (x->results[i].state != ACTION_FAILED)
				call_failed(x, i, rc, NULL);
			end_unsent(x, i);
		}
	}
}

static void
start_one(struct execution *x, size_t i)
{
	if (x->stopping) {
		skip(x, i, "not started: shutting down");
		return;
	}
	x->ready[x->ready_tail++] = i;
	pump(x);
}

/* Why a child did not start: what it waited for failed. */
static const char *
parent_failed(const struct plan_action *par, const struct plan_action *a)
{
	/* A domain's delete waits for a create only when the domain moves to
	 * what the create makes (plan.c, wait_for_delete). */
	if (a->op == PLAN_DELETE && a->kind == PLAN_DOMAIN)
		return "not started: the deployment the domain moves to could not "
		    "be created (the domain stays where it is)";
	if (par->op == PLAN_CREATE && par->kind == PLAN_PROJECT)
		return "not started: its project could not be created";
	if (par->op == PLAN_CREATE && par->kind == PLAN_DEPLOYMENT)
		return "not started: its deployment could not be created";
	if (par->kind == PLAN_DOMAIN)
		return "not started: the domain's old entry could not be deleted";
	if (par->kind == PLAN_DEPLOY_KEY)
		return "not started: the key whose secret was lost could not be "
		    "deleted first";
	if (par->op == PLAN_DELETE && a->kind == PLAN_PROJECT)
		return "not started: the project that holds the slug could not be "
		    "deleted";
	if (par->op == PLAN_DELETE && par->kind == PLAN_PROJECT)
		return "not started: the project that holds the domain could not "
		    "be deleted";
	if (par->op == PLAN_DELETE)
		return "not started: the deployment that holds the domain could not "
		    "be deleted";
	return "not started: the old default could not be unset first";
}

/* A child whose parent has finished: it goes now, or never. A delete of a
 * deployment or project goes even when the create it waited for failed:
 * it was planned for its own sake, only its order was borrowed (plan.c,
 * wait_for_delete; random schedules, seed 112223: the create refused in
 * `drift: report`, the delete waited for it on every run). What waits for
 * that delete and is named by the failed create does not go. */
static void
start_child(struct execution *x, size_t parent, size_t c)
{
	const struct plan_action *a = &x->plan->actions[c];
	size_t src;

	if (x->results[parent].state != ACTION_OK && !(a->op == PLAN_DELETE &&
	    (a->kind == PLAN_PROJECT || a->kind == PLAN_DEPLOYMENT))) {
		skip(x, c, parent_failed(&x->plan->actions[parent], a));
		return;
	}
	src = source_of(x, a);
	if (a->op != PLAN_DELETE && src != PLAN_NO_PARENT && src != parent &&
	    x->results[src].state != ACTION_OK) {
		skip(x, c, parent_failed(&x->plan->actions[src], a));
		return;
	}
	start_one(x, c);
}

/* A parent finished (a project create: its deployments; a create: the
 * patch of what it could not take; an unset default: the new default).
 * A child of a later phase (the delete of a deployment that holds a
 * domain moved to a deployment just created: plan.c) waits for its phase:
 * start_phase. */
static void
release_children(struct execution *x, size_t parent)
{
	for (size_t c = x->first_child[parent]; c != PLAN_NO_PARENT; c = x->next_sibling[c])
		if (phase_of(x, &x->plan->actions[c]) <= x->phase)
			start_child(x, parent, c);
}

/* Starts a phase: every action of it that does not wait for a parent, or
 * whose parent finished in an earlier phase. */
static void
start_phase(struct execution *x)
{
	const struct plan *p = x->plan;

	x->outstanding = 0;
	for (size_t i = 0; i < p->n_actions; i++)
		if (phase_of(x, &p->actions[i]) == x->phase)
			x->outstanding++;
	for (size_t i = 0; i < p->n_actions; i++) {
		const struct plan_action *a = &p->actions[i];

		if (phase_of(x, a) != x->phase)
			continue;
		if (a->parent == PLAN_NO_PARENT)
			start_one(x, i);
		else if (a->parent < p->n_actions &&
		    phase_of(x, &p->actions[a->parent]) < x->phase)
			start_child(x, a->parent, i);
	}
}

static void
on_flush_closed(uv_handle_t *h)
{
	struct execution *x = h->data;

	free(x->first_child);
	free(x->next_sibling);
	free(x->ready);
	free(x);
}

/* Moves to the next phase whenever the current one has nothing left. */
static void
advance(struct execution *x)
{
	while (x->outstanding == 0 && x->phase != PHASE_DONE) {
		x->phase++;
		if (x->phase != PHASE_DONE)
			start_phase(x);
	}
	if (x->phase != PHASE_DONE || x->finished)
		return;
	x->finished = true;
	uv_timer_stop(&x->flush);
	save_ledger(x);
	x->done(x->arg, x->ledger_rc);
	uv_close((uv_handle_t *)&x->flush, on_flush_closed);
}

static void
on_start(uv_timer_t *t)
{
	struct execution *x = t->data;

	/* The flush timer doubles as the kick-off, so the done callback never
	 * runs inside execute_start. */
	uv_timer_stop(t);
	x->phase = PHASE_CREATES;
	start_phase(x);
	advance(x);
}

int
execute_start(uv_loop_t *loop, struct api_client *c, int64_t team,
    unsigned max_in_flight, const struct plan *plan, struct ledger *ledger,
    const struct execute_paths *paths, struct action_result *results,
    execute_action_cb on_action, execute_done_cb done, void *arg,
    struct execution **out)
{
	struct execution *x = calloc(1, sizeof(*x));
	int rc;

	if (x == NULL)
		return -ENOMEM;
	x->loop = loop;
	x->client = c;
	x->team = team;
	x->plan = plan;
	x->ledger = ledger;
	x->paths = *paths;
	x->results = results;
	x->on_action = on_action;
	x->done = done;
	x->arg = arg;
	x->limit = max_in_flight;
	x->first_child = malloc((plan->n_actions + 1) * sizeof(size_t));
	x->next_sibling = malloc((plan->n_actions + 1) * sizeof(size_t));
	x->ready = malloc((plan->n_actions + 1) * sizeof(size_t));
	if (x->first_child == NULL || x->next_sibling == NULL || x->ready == NULL) {
		rc = -ENOMEM;
		goto fail;
	}
	/* Children lists, built backwards so each keeps plan order. */
	for (size_t i = 0; i < plan->n_actions; i++)
		x->first_child[i] = x->next_sibling[i] = PLAN_NO_PARENT;
	for (size_t i = plan->n_actions; i-- > 0;) {
		size_t parent = plan->actions[i].parent;
		if (parent == PLAN_NO_PARENT || parent >= plan->n_actions)
			continue;
		x->next_sibling[i] = x->first_child[parent];
		x->first_child[parent] = i;
	}
	if ((rc = uv_timer_init(loop, &x->flush)) != 0)
		goto fail;
	x->flush.data = x;
	uv_timer_start(&x->flush, on_start, 0, 0);
	if (out)
		*out = x;
	return 0;
fail:
	free(x->first_child);
	free(x->next_sibling);
	free(x->ready);
	free(x);
	return rc;
}

void
execute_stop_starting(struct execution *x)
{
	if (x == NULL || x->finished)
		return;
	x->stopping = true;
	while (x->ready_head < x->ready_tail)
		skip(x, x->ready[x->ready_head++], "not started: shutting down");
	/* The phases move on from the loop, never from inside this call. */
	if (!uv_is_active((uv_handle_t *)&x->flush))
		uv_timer_start(&x->flush, on_flush, 0, 0);
}

void
execute_results_free(struct action_result *r, size_t n)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		free(r[i].deployment_name);
		free(r[i].error);
	}
	free(r);
}

/* ---- env, domains, deploy keys (SPEC section 9) ------------------------- */

/* The live deployment an action is about: its own, or (a domain or key of
 * a deployment created in this plan) its parent's result. */
static const char *
deployment_of(const struct execution *x, const struct plan_action *a)
{
	size_t src;

	if (a->deployment_name != NULL)
		return a->deployment_name;
	if ((src = source_of(x, a)) != PLAN_NO_PARENT)
		return x->results[src].deployment_name;
	return NULL;
}

static void
audit_extras(struct execution *x, const struct plan_action *a,
    const struct action_result *r)
{
	size_t src = source_of(x, a);
	struct audit_entry e = {
		.op = plan_op_name(a->op),
		.kind = plan_kind_name(a->kind),
		.project = a->project,
		.project_id = a->project_id ? a->project_id :
		    (src != PLAN_NO_PARENT ? x->results[src].project_id : 0),
		.reference = a->reference,
		.name = a->kind == PLAN_ENV ? NULL : deployment_of(x, a),
		.result = r->state == ACTION_OK ? "ok" : "error",
		.error = r->state == ACTION_OK ? NULL : r->error,
		.domain = a->kind == PLAN_DOMAIN ? a->domain : NULL,
		.destination = a->kind == PLAN_DOMAIN ?
		    desired_destination_name(a->destination) : NULL,
		.key = a->kind == PLAN_DEPLOY_KEY ? a->key_name : NULL,
		.env = a->kind == PLAN_ENV ? a->env : NULL,
		.n_env = a->kind == PLAN_ENV ? a->n_env : 0,
	};
	int rc;

	if (x->paths.audit == NULL)
		return;
	if ((rc = audit_append(x->paths.audit, &e)) != 0)
		log_errorx("audit: cannot append to %s: %s", x->paths.audit, strerror(-rc));
}

/* Env updates and domains: nothing to record but the result. */
static void
on_extras_done(void *arg, int rc, const struct api_error *err)
{
	struct exec_call *call = arg;
	struct execution *x = call->x;

	if (rc == 0)
		x->results[call->index].state = ACTION_OK;
	else
		call_failed(x, call->index, rc, err);
	/* A domain created again after its delete waits for this one. */
	release_children(x, call->index);
	call_done(call);
}

/* A new key: recorded as ours, and its secret (registered with the
 * scrubber by the API client) written to its file and nowhere else. */
static void
on_key_created(void *arg, int rc, const struct api_error *err, const char *secret)
{
	struct exec_call *call = arg;
	struct execution *x = call->x;
	const struct plan_action *a = &x->plan->actions[call->index];
	struct action_result *r = &x->results[call->index];
	const char *dep = deployment_of(x, a);
	char why[600], msg[900];

	if (rc != 0 || secret == NULL) {
		call_failed(x, call->index, rc ? rc : -EIO, err);
		call_done(call);
		return;
	}
	if (ledger_add_deploy_key(x->ledger, dep, a->key_name) != 0)
		log_errorx("ledger: out of memory recording deploy key \"%s\"", a->key_name);
	ledger_changed(x);
	if (keyfile_write(x->paths.keys_dir, a->project, a->reference,
	    a->key_name, secret, why, sizeof(why)) != 0) {
		snprintf(msg, sizeof(msg), "the key was created but its secret could "
		    "not be saved (%s); it is shown only once: delete the key and "
		    "apply again (docs/recovery.md)", why);
		set_error(r, ACTION_FAILED, msg);
	} else {
		r->state = ACTION_OK;
	}
	call_done(call);
}

static void
on_key_deleted(void *arg, int rc, const struct api_error *err)
{
	struct exec_call *call = arg;
	struct execution *x = call->x;
	const struct plan_action *a = &x->plan->actions[call->index];
	char why[600];

	if (rc == 0) {
		x->results[call->index].state = ACTION_OK;
		ledger_remove_deploy_key(x->ledger, a->deployment_name, a->key_name);
		ledger_changed(x);
		/* A revoked secret is of no use to anyone: its file goes too. */
		if (x->paths.keys_dir != NULL &&
		    keyfile_remove(x->paths.keys_dir, a->project, a->reference,
		    a->key_name, why, sizeof(why)) != 0)
			log_warnx("deploy key \"%s\" deleted, but its file stays: %s",
			    a->key_name, why);
	} else {
		call_failed(x, call->index, rc, err);
	}
	/* A key whose secret was lost is created again after this one. */
	release_children(x, call->index);
	call_done(call);
}

/* The creates (a domain, a key) are sent from here alone, so a record of
 * intent (SPEC section 11) can be made before each one is sent. */
static int
send_extras_create(struct execution *x, struct exec_call *call,
    const struct plan_action *a, const char *dep)
{
	char why[600];
	int rc;

	if (a->kind == PLAN_DOMAIN)
		return api_create_custom_domain(x->client, dep, a->domain,
		    a->destination, on_extras_done, call);
	/* The key's folder first: a secret that could not be saved would be
	 * lost (the API shows it once), so no folder, no key. */
	if (x->paths.keys_dir == NULL) {
		set_error(&x->results[call->index], ACTION_FAILED,
		    "no keys_dir: the key's secret would have nowhere to go");
		return -ENOENT;
	}
	if ((rc = keyfile_prepare(x->paths.keys_dir, a->project, a->reference,
	    a->key_name, why, sizeof(why))) != 0) {
		set_error(&x->results[call->index], ACTION_FAILED, why);
		return rc;
	}
	/* A file left there belongs to a key that is no longer live (the
	 * plan creates only a key it did not find): its secret is revoked.
	 * Gone before the create, so a create whose answer is lost never
	 * looks held (intents.h: a key with a secret file is completed). */
	if ((rc = keyfile_remove(x->paths.keys_dir, a->project, a->reference,
	    a->key_name, why, sizeof(why))) != 0) {
		set_error(&x->results[call->index], ACTION_FAILED, why);
		return rc;
	}
	return api_create_deploy_key(x->client, dep, a->key_name, on_key_created, call);
}

static int
send_extras(struct execution *x, struct exec_call *call, int64_t project_id)
{
	const struct plan_action *a = &x->plan->actions[call->index];
	const char *dep = deployment_of(x, a);

	if (a->kind == PLAN_ENV)
		return api_update_env(x->client, project_id, a->env, a->n_env,
		    on_extras_done, call);
	if (dep == NULL)
		return -EINVAL;
	if (a->op == PLAN_CREATE)
		return send_extras_create(x, call, a, dep);
	if (a->kind == PLAN_DOMAIN)
		return api_delete_custom_domain(x->client, dep, a->domain,
		    a->destination, on_extras_done, call);
	return api_delete_deploy_key(x->client, dep, a->key_name, on_key_deleted, call);
}
