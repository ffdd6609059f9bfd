/* test_reconcile.c: the reconcile sequence (daemon/reconcile/reconcile.c):
 * discover the team, observe, plan, and for apply execute, on a real loop
 * against convex-api-sim. `plan` changes nothing on the API nor on disk;
 * `apply` converges a small team and a second plan is empty; a failed
 * observation acts on nothing and says why; the exit code of each real
 * outcome (SPEC section 4: plan 0/1/2, apply 0/1/3); one reconcile at a
 * time (-EBUSY); a stop skips what was not started. Create intents
 * (issue 14): creates whose answers were lost are adopted by the next
 * observation, completions lost with the ledger are recovered the same
 * way, a conflict is kept in the file, and no create is sent when its
 * intent (or the ledger) cannot be written. */
#include "test_reconcile_common.h"

#include <signal.h>
#include <sys/resource.h>
#include <time.h>

#include "intents.h"
#include "ledger.h"
#include "reconcile.h"

struct waiter {
	int calls;
	struct reconcile_outcome *out;
};

static void
on_reconciled(void *arg, struct reconcile_outcome *out)
{
	struct waiter *w = arg;

	w->calls++;
	w->out = out;
}

struct rig {
	struct rec_env *e;
	struct reconciler r;
	struct reconcile_config cfg;
	char state_dir[400];
};

/* A reconciler over e's client, its state in e->dir/state (not made yet). */
static void
rig_init(struct rig *g, struct rec_env *e, int64_t team, enum prune_mode prune,
    unsigned max_deletes)
{
	memset(g, 0, sizeof(*g));
	g->e = e;
	snprintf(g->state_dir, sizeof(g->state_dir), "%s/state", e->dir);
	g->cfg.team_id = team;
	g->cfg.plan.prune = prune;
	g->cfg.plan.max_deletes = max_deletes;
	g->cfg.state_dir = g->state_dir;
	g->cfg.concurrency = 4;
	assert_int_equal(reconciler_init(&g->r, &e->loop, e->c, &g->cfg), 0);
}

/* One reconcile, to its end; the outcome belongs to the caller. */
static struct reconcile_outcome *
reconcile(struct rig *g, const struct desired_state *ds, enum reconcile_mode mode)
{
	struct waiter w = { 0 };

	assert_int_equal(reconcile_start(&g->r, ds, mode, on_reconciled, &w), 0);
	assert_int_equal(w.calls, 0);
	rec_run_until(g->e, &w.calls, 1, 20000);
	run_for(&g->e->loop, 20);
	assert_int_equal(w.calls, 1);
	assert_non_null(w.out);
	assert_int_equal(w.out->mode, mode);
	assert_false(g->r.busy);
	return w.out;
}

static long
writes_now(struct rec_env *e)
{
	cJSON *s = rec_stats(e);
	long n = stat_writes(s);

	cJSON_Delete(s);
	return n;
}

static void
path_in(const struct rig *g, const char *name, char *out, size_t n)
{
	snprintf(out, n, "%s/%s", g->state_dir, name);
}

/* ---- plan ------------------------------------------------------------------ */

/*
 * A plan with creates and deletes to do: the outcome lists them (exit 2),
 * and nothing changed: no request but GETs, the team identical, no state
 * folder made.
 */
static void
test_plan_changes_nothing(void **state)
{
	struct rec_env *e = rec_start(NULL);
	struct desired_state ds = { 0 };
	struct desired_project *p;
	struct reconcile_outcome *out;
	struct rig g;
	char *before, *after;
	cJSON *s;
	(void)state;

	rec_client(e);
	rec_admin_post(e, "/_sim/seed",
	    "{\"projects\":3,\"deploymentsPerProject\":2,\"prefix\":\"p\"}");
	p = ds_project(&ds, "p1");
	ds_deployment(p, "production", DEP_PROD);
	ds_deployment(p, "development", DEP_DEV);
	ds_deployment(p, "staging", DEP_DEV);
	ds_deployment(ds_project(&ds, "n1"), "staging", DEP_DEV);
	rig_init(&g, e, 1, PRUNE_ALL, 10);
	before = rec_state_text(e);

	out = reconcile(&g, &ds, RECONCILE_PLAN);
	assert_int_equal(out->rc, 0);
	assert_int_equal(out->plan.n_actions, 5);
	assert_int_equal(plan_count(&out->plan, PLAN_CREATE), 3);
	assert_int_equal(plan_count(&out->plan, PLAN_DELETE), 2);
	assert_null(out->results);
	assert_int_equal(out->n_ok + out->n_failed + out->n_skipped, 0);
	assert_int_equal(out->observed.n_projects, 3);
	assert_int_equal(out->observed.n_deployments, 6);
	assert_int_equal(reconcile_exit_code(out), 2);

	s = rec_stats(e);
	assert_int_equal(stat_writes(s), 0);
	assert_true(stat_num(s, "total", NULL) >= 2);   /* it did look */
	cJSON_Delete(s);
	after = rec_state_text(e);
	assert_string_equal(after, before);
	assert_false(file_exists(g.state_dir));
	free(before);
	free(after);
	reconcile_outcome_free(out);
	reconciler_cleanup(&g.r);
	desired_state_free(&ds);
	rec_stop(e);
}

/* ---- apply --------------------------------------------------------------------- */

/*
 * A small team from one partial project: apply (team discovered from the
 * token) creates what is missing and exits 0; the ledger and the trail
 * record it; a second plan is empty; a second apply sends nothing.
 */
static void
test_apply_converges(void **state)
{
	const char *args[] = { "--team-id", "7", NULL };
	struct rec_env *e = rec_start(args);
	struct desired_state ds = { 0 };
	struct desired_project *p;
	struct reconcile_outcome *out;
	struct ledger disk = { 0 };
	struct rig g;
	char path[600], err[256];
	long writes;
	cJSON *st, *s, *lines;
	(void)state;

	rec_client(e);
	rec_admin_post(e, "/_sim/seed",
	    "{\"projects\":1,\"deploymentsPerProject\":2,\"prefix\":\"shop\"}");
	p = ds_project(&ds, "shop1");
	ds_deployment(p, "production", DEP_PROD);
	ds_deployment(p, "development", DEP_DEV);
	ds_deployment(p, "staging", DEP_DEV);
	p = ds_project(&ds, "blog");
	ds_deployment(p, "production", DEP_PROD);
	ds_deployment(p, "staging", DEP_DEV);
	ds_deployment(ds_project(&ds, "docs"), "staging", DEP_DEV);
	rig_init(&g, e, 0, PRUNE_OWNED, 10);

	out = reconcile(&g, &ds, RECONCILE_APPLY);
	if (out->rc != 0)
		fail_msg("apply: %s", out->error);
	assert_int_equal(out->team_id, 7);
	assert_int_equal(g.r.team, 7);
	assert_int_equal(out->plan.n_actions, 6);
	assert_non_null(out->results);
	assert_int_equal(out->n_ok, 6);
	assert_int_equal(out->n_failed, 0);
	assert_int_equal(out->n_skipped, 0);
	assert_int_equal(out->ledger_rc, 0);
	assert_int_equal(reconcile_exit_code(out), 0);
	reconcile_outcome_free(out);

	st = rec_state(e);
	assert_int_equal(state_count(st, "projects"), 3);
	assert_int_equal(state_count(st, "deployments"), 6);
	for (size_t i = 0; i < ds.n_projects; i++) {
		int64_t id = state_project_id(st, ds.projects[i].name);

		assert_int_not_equal(id, 0);
		for (size_t j = 0; j < ds.projects[i].n_deployments; j++) {
			const cJSON *d = state_deployment(st, id,
			    ds.projects[i].deployments[j].reference);

			assert_non_null(d);
			assert_string_equal(json_str(d, "deploymentType"),
			    dep_type_name(ds.projects[i].deployments[j].type));
		}
	}
	cJSON_Delete(st);
	path_in(&g, "ledger.json", path, sizeof(path));
	assert_int_equal(ledger_load(path, &disk, err, sizeof(err)), 0);
	assert_int_equal(disk.n_projects, 2);       /* blog, docs */
	assert_int_equal(disk.n_deployments, 4);
	ledger_free(&disk);
	path_in(&g, "actions.jsonl", path, sizeof(path));
	lines = audit_lines(path);
	assert_non_null(lines);
	assert_int_equal(cJSON_GetArraySize(lines), 6);
	cJSON_Delete(lines);

	/* Converged: nothing to plan, nothing to send. */
	writes = writes_now(e);
	out = reconcile(&g, &ds, RECONCILE_PLAN);
	assert_int_equal(out->rc, 0);
	assert_int_equal(out->plan.n_actions, 0);
	assert_int_equal(out->plan.n_drift, 0);
	assert_int_equal(out->plan.n_blocked, 0);
	assert_int_equal(reconcile_exit_code(out), 0);
	reconcile_outcome_free(out);
	out = reconcile(&g, &ds, RECONCILE_APPLY);
	assert_int_equal(out->rc, 0);
	assert_int_equal(out->plan.n_actions, 0);
	assert_int_equal(reconcile_exit_code(out), 0);
	reconcile_outcome_free(out);
	s = rec_stats(e);
	assert_int_equal(stat_writes(s), writes);
	assert_int_equal(stat_count(s, "GET /token_details", NULL), 1);  /* once */
	cJSON_Delete(s);

	reconciler_cleanup(&g.r);
	desired_state_free(&ds);
	rec_stop(e);
}

/* ---- a failed observation -------------------------------------------------------- */

static void
fail_from_now_on(struct rec_env *e, const char *route, int status)
{
	(void)route;
	if (status == 200 && e->hook_fired++ == 0)
		rec_admin_post(e, "/_sim/config", "{\"errorRate\":1}");
}

/*
 * 230 projects; only p1 is declared, with prune all: a complete view would
 * delete 229 projects and create one. The listing fails after its first
 * page: apply acts on nothing at all, writes no ledger or trail, and says
 * why (exit 1).
 */
static void
test_failed_observation_acts_on_nothing(void **state)
{
	const char *args[] = { "--latency", "40", NULL };
	struct rec_env *e = rec_start(args);
	struct desired_state ds = { 0 };
	struct reconcile_outcome *out;
	struct rig g;
	char path[600];
	cJSON *s;
	(void)state;

	e->cfg.max_tries = 2;
	e->hook = fail_from_now_on;
	rec_client(e);
	rec_admin_post(e, "/_sim/seed",
	    "{\"projects\":230,\"deploymentsPerProject\":1,\"prefix\":\"p\"}");
	ds_deployment(ds_project(&ds, "p1"), "production", DEP_PROD);
	ds_deployment(ds_project(&ds, "fresh"), "staging", DEP_DEV);
	rig_init(&g, e, 1, PRUNE_ALL, 1000);

	out = reconcile(&g, &ds, RECONCILE_APPLY);
	assert_int_equal(out->rc, -EIO);
	print_message("error: %s\n", out->error);
	assert_true(starts_with(out->error,
	    "observation failed, nothing was changed: listing the team's "));
	assert_non_null(strstr(out->error, "HTTP 50"));
	assert_non_null(strstr(out->error, "(GET /teams/1/"));
	assert_int_equal(out->plan.n_actions, 0);
	assert_null(out->results);
	assert_int_equal(out->observed.n_projects, 0);
	assert_int_equal(out->observed.n_deployments, 0);
	assert_int_equal(reconcile_exit_code(out), 1);
	reconcile_outcome_free(out);

	s = rec_stats(e);
	assert_true(e->hook_fired >= 1);        /* a page had arrived */
	assert_int_equal(stat_writes(s), 0);
	assert_int_equal(stat_num(s, "creates", "project"), 0);
	assert_int_equal(stat_num(s, "deletes", "project"), 0);
	cJSON_Delete(s);
	path_in(&g, "ledger.json", path, sizeof(path));
	assert_false(file_exists(path));
	path_in(&g, "actions.jsonl", path, sizeof(path));
	assert_false(file_exists(path));
	reconciler_cleanup(&g.r);
	desired_state_free(&ds);
	rec_stop(e);
}

/* ---- exit codes ------------------------------------------------------------------ */

static int
exit_of(struct rig *g, const struct desired_state *ds, enum reconcile_mode mode,
    struct reconcile_outcome **keep)
{
	struct reconcile_outcome *out = reconcile(g, ds, mode);
	int code = reconcile_exit_code(out);

	if (keep != NULL)
		*keep = out;
	else
		reconcile_outcome_free(out);
	return code;
}

/*
 * Each code from a real outcome: plan 2 (changes), apply 0, plan 0;
 * a guard holding a delete back: plan 2, apply 3, the project kept; a
 * failed create with the guard still holding: apply 1 (an error outranks
 * a guard); a failed observation: plan 1, apply 1.
 */
static void
test_exit_codes(void **state)
{
	struct rec_env *e = rec_start(NULL);
	struct desired_state ds = { 0 }, with_blank = { 0 };
	struct reconcile_outcome *out;
	struct rig g;
	long writes;
	cJSON *st;
	(void)state;

	rec_client(e);
	ds_deployment(ds_project(&ds, "a"), "staging", DEP_DEV);
	ds_deployment(ds_project(&with_blank, "a"), "staging", DEP_DEV);
	ds_project(&with_blank, "   ");
	rig_init(&g, e, 1, PRUNE_ALL, 0);

	assert_int_equal(exit_of(&g, &ds, RECONCILE_PLAN, NULL), 2);
	assert_int_equal(exit_of(&g, &ds, RECONCILE_APPLY, NULL), 0);
	assert_int_equal(exit_of(&g, &ds, RECONCILE_PLAN, NULL), 0);

	/* An undeclared project; prune all with max_deletes 0 holds it. */
	rec_admin_post(e, "/_sim/seed", "{\"projects\":1,\"prefix\":\"u\"}");
	assert_int_equal(exit_of(&g, &ds, RECONCILE_PLAN, &out), 2);
	assert_int_equal(out->plan.n_actions, 0);
	assert_int_equal(out->plan.n_blocked, 1);
	assert_int_equal(out->plan.blocked[0].guard, GUARD_MAX_DELETES);
	reconcile_outcome_free(out);
	writes = writes_now(e);
	assert_int_equal(exit_of(&g, &ds, RECONCILE_APPLY, NULL), 3);
	assert_int_equal(writes_now(e), writes);
	st = rec_state(e);
	assert_int_not_equal(state_project_id(st, "u1"), 0);
	cJSON_Delete(st);

	/* A create fails while the guard still holds: 1 outranks 3. */
	assert_int_equal(exit_of(&g, &with_blank, RECONCILE_APPLY, &out), 1);
	assert_int_equal(out->n_failed, 1);
	assert_int_equal(out->plan.n_blocked, 1);
	reconcile_outcome_free(out);

	/* The observation fails. */
	rec_admin_post(e, "/_sim/config", "{\"errorRate\":1}");
	assert_int_equal(exit_of(&g, &ds, RECONCILE_PLAN, &out), 1);
	assert_true(out->rc < 0);
	reconcile_outcome_free(out);
	assert_int_equal(exit_of(&g, &ds, RECONCILE_APPLY, &out), 1);
	assert_true(out->rc < 0);
	reconcile_outcome_free(out);

	reconciler_cleanup(&g.r);
	desired_state_free(&ds);
	desired_state_free(&with_blank);
	rec_stop(e);
}

/* ---- one at a time ---------------------------------------------------------------- */

/* A second start while one runs is refused (-EBUSY, no callback) and does
 * not disturb the first; once it has ended, a new one starts. */
static void
test_busy(void **state)
{
	const char *args[] = { "--latency", "150", NULL };
	struct rec_env *e = rec_start(args);
	struct desired_state ds = { 0 };
	struct reconcile_outcome *out;
	struct waiter w = { 0 }, refused = { 0 };
	struct rig g;
	(void)state;

	rec_client(e);
	ds_deployment(ds_project(&ds, "a"), "staging", DEP_DEV);
	rig_init(&g, e, 1, PRUNE_NONE, 10);

	assert_int_equal(reconcile_start(&g.r, &ds, RECONCILE_APPLY, on_reconciled, &w), 0);
	assert_true(g.r.busy);
	assert_int_equal(reconcile_start(&g.r, &ds, RECONCILE_PLAN, on_reconciled,
	    &refused), -EBUSY);
	run_for(&e->loop, 100);                 /* observing */
	assert_int_equal(reconcile_start(&g.r, &ds, RECONCILE_APPLY, on_reconciled,
	    &refused), -EBUSY);
	rec_run_until(e, &w.calls, 1, 20000);
	run_for(&e->loop, 20);
	assert_int_equal(w.calls, 1);
	assert_int_equal(refused.calls, 0);
	assert_int_equal(w.out->rc, 0);
	assert_int_equal(w.out->n_ok, 2);
	assert_int_equal(reconcile_exit_code(w.out), 0);
	reconcile_outcome_free(w.out);

	out = reconcile(&g, &ds, RECONCILE_PLAN);
	assert_int_equal(out->rc, 0);
	assert_int_equal(out->plan.n_actions, 0);
	reconcile_outcome_free(out);
	reconciler_cleanup(&g.r);
	desired_state_free(&ds);
	rec_stop(e);
}

/* ---- stopping ----------------------------------------------------------------------- */

/*
 * A stop while actions run (one at a time, 200 ms each): the one in flight
 * finishes, the rest are skipped, apply exits 1.
 */
static void
test_stop_during_actions(void **state)
{
	const char *args[] = { "--latency", "200", NULL };
	struct rec_env *e = rec_start(args);
	struct desired_state ds = { 0 };
	struct waiter w = { 0 };
	struct rig g;
	int polls = 0;
	cJSON *s;
	(void)state;

	rec_client(e);
	ds_project(&ds, "a");
	ds_project(&ds, "b");
	ds_project(&ds, "c");
	rig_init(&g, e, 1, PRUNE_NONE, 10);
	g.r.cfg.concurrency = 1;
	assert_int_equal(reconcile_start(&g.r, &ds, RECONCILE_APPLY, on_reconciled, &w), 0);
	/* Until the first create is at the simulator. */
	for (;;) {
		long in;

		run_for(&e->loop, 20);
		s = rec_stats(e);
		in = stat_num(s, "in_flight", NULL);
		cJSON_Delete(s);
		if (g.r.exec != NULL && in == 1)
			break;
		assert_true(++polls < 500);
	}
	reconcile_stop_starting(&g.r);
	rec_run_until(e, &w.calls, 1, 20000);
	assert_int_equal(w.out->rc, 0);
	assert_int_equal(w.out->plan.n_actions, 3);
	assert_int_equal(w.out->n_ok, 1);
	assert_int_equal(w.out->n_skipped, 2);
	assert_int_equal(reconcile_exit_code(w.out), 1);
	reconcile_outcome_free(w.out);
	s = rec_stats(e);
	assert_int_equal(stat_count(s, "POST /teams/{team}/create_project", NULL), 1);
	cJSON_Delete(s);
	reconciler_cleanup(&g.r);
	desired_state_free(&ds);
	rec_stop(e);
}

/*
 * A stop that comes while an apply is still observing ends it after the
 * plan, before any action: nothing is sent, every action is SKIPPED, and
 * the apply is "not converged" (exit 1), as a stop during the actions is
 * (test_stop_during_actions). This test found the bug where such an apply
 * exited 0 and the daemon stamped last_success.
 */
static void
test_stop_while_observing(void **state)
{
	const char *args[] = { "--latency", "150", NULL };
	struct rec_env *e = rec_start(args);
	struct desired_state ds = { 0 };
	struct waiter w = { 0 };
	struct rig g;
	int code;
	(void)state;

	rec_client(e);
	ds_deployment(ds_project(&ds, "a"), "staging", DEP_DEV);
	rig_init(&g, e, 1, PRUNE_NONE, 10);
	assert_int_equal(reconcile_start(&g.r, &ds, RECONCILE_APPLY, on_reconciled, &w), 0);
	run_for(&e->loop, 30);                  /* the listings are out */
	assert_int_equal(w.calls, 0);
	reconcile_stop_starting(&g.r);
	rec_run_until(e, &w.calls, 1, 20000);
	assert_int_equal(w.out->rc, 0);
	assert_int_equal(w.out->plan.n_actions, 2);
	assert_int_equal(writes_now(e), 0);     /* nothing was sent */
	assert_int_equal(w.out->n_skipped, 2);
	assert_int_equal(w.out->n_ok + w.out->n_failed, 0);
	code = reconcile_exit_code(w.out);
	reconcile_outcome_free(w.out);
	reconciler_cleanup(&g.r);
	desired_state_free(&ds);
	rec_stop(e);
	assert_int_equal(code, 1);
}

/* ---- create intents (issue 14) -------------------------------------------- */

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
load_intents_of(const struct rig *g, struct intents *in)
{
	char path[600], err[300] = "";
	size_t bad = 0;
	bool clean = false;

	path_in(g, "intents.jsonl", path, sizeof(path));
	if (intents_load(path, in, &bad, &clean, err, sizeof(err)) != 0)
		fail_msg("intents: %s", err);
	assert_int_equal(bad, 0);
	assert_true(clean);
}

static void
load_ledger_of(const struct rig *g, struct ledger *l)
{
	char path[600], err[256] = "";

	path_in(g, "ledger.json", path, sizeof(path));
	if (ledger_load(path, l, err, sizeof(err)) != 0)
		fail_msg("ledger: %s", err);
}

/*
 * The answers of one project create and one deployment create are lost
 * (the simulator acts, then drops the connection). The apply fails those
 * two (ambiguous) and skips the lost project's deployments; their intents
 * stay in the file. The next apply adopts both (recorded as created), makes
 * what was skipped, empties the file, and nothing was ever created twice.
 */
static void
test_lost_answers_adopted(void **state)
{
	struct rec_env *e = rec_start(NULL);
	struct desired_state ds = { 0 };
	struct desired_project *p;
	struct reconcile_outcome *out;
	struct intents in;
	struct ledger disk = { 0 };
	struct rig g;
	char path[600];
	struct stat st;
	cJSON *s;
	(void)state;

	rec_client(e);
	p = ds_project(&ds, "alpha");
	ds_deployment(p, "production", DEP_PROD);
	ds_deployment(p, "staging", DEP_DEV);
	ds_deployment(ds_project(&ds, "beta"), "staging", DEP_DEV);
	rec_admin_post(e, "/_sim/script", "{\"route\":\"POST /teams/{team}/create_project\","
	    "\"responses\":[{\"act\":true,\"drop\":true}]}");
	rec_admin_post(e, "/_sim/script", "{\"route\":\"POST /projects/{id}/create_deployment\","
	    "\"responses\":[{\"act\":true,\"drop\":true}]}");
	rig_init(&g, e, 1, PRUNE_OWNED, 10);
	g.r.cfg.concurrency = 1;       /* one at a time: which one is lost is known */

	out = reconcile(&g, &ds, RECONCILE_APPLY);
	assert_int_equal(out->rc, 0);
	assert_int_equal(out->plan.n_actions, 5);
	assert_int_equal(out->n_failed, 2);      /* alpha, beta/staging */
	assert_int_equal(out->n_skipped, 2);     /* alpha's two */
	assert_int_equal(out->n_ok, 1);          /* beta */
	assert_true(out->results[find_action(&out->plan, PLAN_CREATE, PLAN_PROJECT,
	    "alpha", NULL)].ambiguous);
	assert_int_equal(reconcile_exit_code(out), 1);
	reconcile_outcome_free(out);
	load_intents_of(&g, &in);
	assert_int_equal(in.n, 2);
	assert_int_equal(in.items[0].kind, INTENT_PROJECT);
	assert_string_equal(in.items[0].project, "alpha");
	assert_int_equal(in.items[1].kind, INTENT_DEPLOYMENT);
	assert_string_equal(in.items[1].project, "beta");
	assert_string_equal(in.items[1].reference, "staging");
	intents_free(&in);
	load_ledger_of(&g, &disk);
	assert_int_equal(disk.n_projects, 1);
	assert_int_equal(disk.n_deployments, 0);
	ledger_free(&disk);

	out = reconcile(&g, &ds, RECONCILE_APPLY);
	if (out->rc != 0)
		fail_msg("%s", out->error);
	assert_int_equal(out->intents.adopted, 2);
	assert_int_equal(out->plan.n_actions, 2);   /* alpha's two, skipped before */
	assert_int_equal(out->n_ok, 2);
	assert_int_equal(reconcile_exit_code(out), 0);
	reconcile_outcome_free(out);
	load_ledger_of(&g, &disk);
	assert_int_equal(disk.n_projects, 2);
	assert_int_equal(disk.n_deployments, 3);
	for (size_t i = 0; i < disk.n_projects; i++)
		assert_true(disk.projects[i].created);
	for (size_t i = 0; i < disk.n_deployments; i++)
		assert_true(disk.deployments[i].created);
	ledger_free(&disk);
	path_in(&g, "intents.jsonl", path, sizeof(path));
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 0);          /* all resolved */

	s = rec_stats(e);
	assert_int_equal(stat_num(s, "creates", "project"), 2);
	assert_int_equal(stat_num(s, "creates", "deployment"), 3);
	cJSON_Delete(s);
	reconciler_cleanup(&g.r);
	desired_state_free(&ds);
	rec_stop(e);
}

/*
 * Completions lost with the ledger (the executor saves it at spaced times;
 * a kill between two saves loses the last completions): the intents of the
 * batch are still in the file, so the next observation adopts them. A plan
 * shows the adoption (prune owned then deletes them, with allow_empty) and
 * writes nothing; the apply saves it.
 */
static void
test_lost_completions(void **state)
{
	struct rec_env *e = rec_start(NULL);
	struct desired_state ds = { 0 }, empty = { 0 };
	struct reconcile_outcome *out;
	struct intents in = { 0 };
	struct ledger disk = { 0 };
	struct rig g;
	char path[600], err[300] = "";
	struct stat st;
	long writes;
	(void)state;

	rec_client(e);
	ds_deployment(ds_project(&ds, "one"), "production", DEP_PROD);
	ds_deployment(ds_project(&ds, "two"), "production", DEP_PROD);
	ds_deployment(ds_project(&ds, "three"), "production", DEP_PROD);
	rig_init(&g, e, 1, PRUNE_OWNED, 10);
	g.cfg.plan.allow_empty = true;
	g.r.cfg.plan.allow_empty = true;
	out = reconcile(&g, &ds, RECONCILE_APPLY);
	assert_int_equal(reconcile_exit_code(out), 0);
	reconcile_outcome_free(out);

	/* The kill: the ledger as it was before the batch, the intents as
	 * the batch left them. */
	path_in(&g, "ledger.json", path, sizeof(path));
	assert_int_equal(unlink(path), 0);
	for (size_t i = 0; i < ds.n_projects; i++) {
		assert_int_equal(intents_add(&in, INTENT_PROJECT, ds.projects[i].name, 0,
		    NULL, now_ms() - 2000), 0);
		assert_int_equal(intents_add(&in, INTENT_DEPLOYMENT, ds.projects[i].name, 0,
		    "production", now_ms() - 2000), 0);
	}
	path_in(&g, "intents.jsonl", path, sizeof(path));
	assert_int_equal(intents_save(path, &in, err, sizeof(err)), 0);
	intents_free(&in);

	/* plan: adopted in memory, so owned prunes them; nothing written. */
	writes = writes_now(e);
	out = reconcile(&g, &empty, RECONCILE_PLAN);
	assert_int_equal(out->rc, 0);
	assert_int_equal(out->intents.adopted, 6);
	assert_int_equal(plan_count(&out->plan, PLAN_DELETE), 3);
	reconcile_outcome_free(out);
	path_in(&g, "ledger.json", path, sizeof(path));
	assert_false(file_exists(path));
	load_intents_of(&g, &in);
	assert_int_equal(in.n, 6);
	intents_free(&in);

	/* apply of the files: nothing to send, the adoption saved. */
	out = reconcile(&g, &ds, RECONCILE_APPLY);
	assert_int_equal(out->rc, 0);
	assert_int_equal(out->intents.adopted, 6);
	assert_int_equal(out->plan.n_actions, 0);
	assert_int_equal(reconcile_exit_code(out), 0);
	reconcile_outcome_free(out);
	assert_int_equal(writes_now(e), writes);
	load_ledger_of(&g, &disk);
	assert_int_equal(disk.n_projects, 3);
	assert_int_equal(disk.n_deployments, 3);
	ledger_free(&disk);
	path_in(&g, "intents.jsonl", path, sizeof(path));
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 0);

	reconciler_cleanup(&g.r);
	desired_state_free(&ds);
	rec_stop(e);
}

/*
 * Two live projects carry the name of a lost create: the plan's conflict
 * guard holds the name, nothing is adopted, and the intent stays in the
 * file marked as a conflict. When a person has removed one, the intent is
 * dropped and the survivor is not recorded as ours.
 */
static void
test_conflict_kept(void **state)
{
	struct rec_env *e = rec_start(NULL);
	struct desired_state ds = { 0 };
	struct reconcile_outcome *out;
	struct intents in = { 0 };
	struct ledger disk = { 0 };
	struct sim_response r;
	struct rig g;
	char path[600], err[300] = "", del[64];
	int64_t id;
	cJSON *st;
	(void)state;

	rec_client(e);
	ds_project(&ds, "dup");
	rig_init(&g, e, 1, PRUNE_OWNED, 10);
	assert_int_equal(intents_add(&in, INTENT_PROJECT, "dup", 0, NULL, now_ms() - 1000), 0);
	assert_int_equal(mkdir(g.state_dir, 0700), 0);
	path_in(&g, "intents.jsonl", path, sizeof(path));
	assert_int_equal(intents_save(path, &in, err, sizeof(err)), 0);
	intents_free(&in);
	for (int k = 0; k < 2; k++) {
		assert_int_equal(sim_person(&e->sim, "POST", "/teams/1/create_project",
		    "{\"projectName\":\"dup\"}", &r), 0);
		assert_int_equal(r.status, 200);
		sim_response_free(&r);
	}

	out = reconcile(&g, &ds, RECONCILE_APPLY);
	assert_int_equal(out->rc, 0);
	assert_int_equal(out->intents.conflicts, 1);
	assert_int_equal(out->intents.adopted, 0);
	assert_int_equal(out->plan.n_blocked, 1);
	assert_int_equal(out->plan.blocked[0].guard, GUARD_CONFLICT);
	assert_int_equal(reconcile_exit_code(out), 3);
	reconcile_outcome_free(out);
	load_intents_of(&g, &in);
	assert_int_equal(in.n, 1);
	assert_true(in.items[0].conflict);
	intents_free(&in);
	load_ledger_of(&g, &disk);
	assert_int_equal(disk.n_projects, 0);
	ledger_free(&disk);

	st = rec_state(e);
	id = json_i64(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(st, "projects"), 0), "id");
	cJSON_Delete(st);
	snprintf(del, sizeof(del), "/projects/%lld/delete", (long long)id);
	assert_int_equal(sim_person(&e->sim, "POST", del, "{}", &r), 0);
	assert_int_equal(r.status, 200);
	sim_response_free(&r);
	out = reconcile(&g, &ds, RECONCILE_APPLY);
	assert_int_equal(reconcile_exit_code(out), 0);
	assert_int_equal(out->intents.adopted, 0);
	reconcile_outcome_free(out);
	load_intents_of(&g, &in);
	assert_int_equal(in.n, 0);
	load_ledger_of(&g, &disk);
	assert_int_equal(disk.n_projects, 0);       /* not ours */
	ledger_free(&disk);

	reconciler_cleanup(&g.r);
	desired_state_free(&ds);
	rec_stop(e);
}

/*
 * A state folder that takes no more bytes (RLIMIT_FSIZE stands for a full
 * disk here; tests/e2e/state_full.sh uses a real one): with room for the
 * ledger but not for the batch of intents, nothing is created; without
 * room for the ledger, nothing at all is done. Either way the apply fails
 * (exit 1) saying why and that nothing was done; with room again it
 * converges.
 */
static void
test_not_durable_sends_nothing(void **state)
{
	struct rec_env *e = rec_start(NULL);
	struct desired_state ds = { 0 };
	struct reconcile_outcome *out;
	struct rlimit old, lim;
	struct rig g;
	char path[600], name[32];
	struct stat st;
	(void)state;

	rec_client(e);
	for (int i = 0; i < 20; i++) {
		snprintf(name, sizeof(name), "proj-%d", i);
		ds_deployment(ds_project(&ds, name), "production", DEP_PROD);
	}
	rig_init(&g, e, 1, PRUNE_OWNED, 10);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, SIG_IGN);

	static const struct {
		rlim_t bytes;
		const char *says;
	} rows[] = {
		{ 1000, "the create intents could not be made durable" },
		{ 10, "ledger.json" },
	};
	for (size_t k = 0; k < sizeof(rows) / sizeof(rows[0]); k++) {
		lim = old;
		lim.rlim_cur = rows[k].bytes;
		assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
		out = reconcile(&g, &ds, RECONCILE_APPLY);
		assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
		print_message("refused: %s\n", out->error);
		assert_true(out->rc < 0);
		assert_non_null(strstr(out->error, rows[k].says));
		assert_non_null(strstr(out->error, "nothing was done"));
		assert_int_equal(reconcile_exit_code(out), 1);
		reconcile_outcome_free(out);
		assert_int_equal(writes_now(e), 0);
		/* No torn line left behind. */
		path_in(&g, "intents.jsonl", path, sizeof(path));
		assert_true(stat(path, &st) != 0 || st.st_size == 0);
	}
	signal(SIGXFSZ, SIG_DFL);

	out = reconcile(&g, &ds, RECONCILE_APPLY);
	assert_int_equal(reconcile_exit_code(out), 0);
	assert_int_equal(out->n_ok, 40);
	reconcile_outcome_free(out);
	reconciler_cleanup(&g.r);
	desired_state_free(&ds);
	rec_stop(e);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plan_changes_nothing),
		cmocka_unit_test(test_apply_converges),
		cmocka_unit_test(test_failed_observation_acts_on_nothing),
		cmocka_unit_test(test_exit_codes),
		cmocka_unit_test(test_busy),
		cmocka_unit_test(test_stop_during_actions),
		cmocka_unit_test(test_stop_while_observing),
		cmocka_unit_test(test_lost_answers_adopted),
		cmocka_unit_test(test_lost_completions),
		cmocka_unit_test(test_conflict_kept),
		cmocka_unit_test(test_not_durable_sends_nothing),
	};

	log_init(LOG_LVL_INFO, LOG_FMT_TEXT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
