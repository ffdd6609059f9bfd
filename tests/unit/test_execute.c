/* test_execute.c: the executor (daemon/reconcile/execute.c) on a real loop
 * against convex-api-sim: the phases in order, a new project's deployments
 * sent as soon as its id is known, the children of a failed project create
 * skipped and never sent, a stop while actions wait behind the concurrency
 * limit, the limit itself (1, 4, 16) as the simulator measured it, the
 * ledger and the audit trail, a delete answered 404, ambiguous creates, a
 * deploy key replaced (its create waits for its delete), a domain moved to
 * a new deployment off a deleted one (a delete that waits for a create).
 *
 * The plans come from plan_build over the simulator's own state (read from
 * /_sim/state, not through observe.c), so only the executor is under test. */
#include "test_reconcile_common.h"

#include "execute.h"
#include "keyfile.h"
#include "ledger.h"
#include "plan.h"

#define MAX_ACTIONS 128

struct run {
	struct rec_env *e;
	struct desired_state ds;
	struct observed_state os;
	struct ledger ledger;
	struct plan_settings set;
	struct plan plan;
	struct action_result *results;
	struct execution *x;
	bool persist;            /* ledger and audit trail in e->dir */

	size_t order[MAX_ACTIONS];    /* action indexes, in the order they ended */
	int actions;             /* on_action calls */
	int done;                /* done calls */
	int ledger_rc;
	int audit_base;          /* lines in the trail before the run */
	int audit_short;         /* on_action calls that found the trail short */
	bool ledger_on_disk;     /* at done: the file equals the ledger in memory */
	int actions_at_done;
};

static void
on_action(void *arg, const struct plan_action *a, const struct action_result *res)
{
	struct run *r = arg;
	size_t i = (size_t)(a - r->plan.actions);

	assert_true(i < r->plan.n_actions);
	assert_ptr_equal(res, &r->results[i]);
	assert_true(res->state == ACTION_OK || res->state == ACTION_FAILED ||
	    res->state == ACTION_SKIPPED);
	assert_true(r->actions < MAX_ACTIONS);
	r->order[r->actions++] = i;
	if (r->persist) {
		/* The line of this action is written before anyone hears of it. */
		cJSON *lines = audit_lines(r->e->audit_path);

		if (lines == NULL || cJSON_GetArraySize(lines) != r->audit_base + r->actions)
			r->audit_short++;
		cJSON_Delete(lines);
	}
}

static void
on_done(void *arg, int ledger_rc)
{
	struct run *r = arg;

	r->done++;
	r->ledger_rc = ledger_rc;
	r->actions_at_done = r->actions;
	if (r->persist) {
		struct ledger disk = { 0 };
		char err[256] = "", *a, *b;

		assert_int_equal(ledger_load(r->e->ledger_path, &disk, err, sizeof(err)), 0);
		a = ledger_to_json(&disk);
		b = ledger_to_json(&r->ledger);
		r->ledger_on_disk = a != NULL && b != NULL && strcmp(a, b) == 0;
		free(a);
		free(b);
		ledger_free(&disk);
	}
}

static void
run_init(struct run *r, struct rec_env *e)
{
	memset(r, 0, sizeof(*r));
	r->e = e;
	r->set.prune = PRUNE_NONE;
	r->set.max_deletes = 100;
}

/* The plan of r->ds over what the simulator holds now. */
static void
run_plan(struct run *r)
{
	observed_from_sim(r->e, &r->os);
	assert_int_equal(plan_build(&r->ds, &r->os, &r->ledger, &r->set, &r->plan), 0);
	assert_int_equal(r->plan.n_blocked, 0);
	r->results = calloc(r->plan.n_actions + 1, sizeof(*r->results));
	assert_non_null(r->results);
}

static void
run_start(struct run *r, unsigned limit)
{
	struct execute_paths none = { NULL, NULL, NULL };
	struct execute_paths files = { r->e->ledger_path, r->e->audit_path, NULL };
	cJSON *lines = audit_lines(r->e->audit_path);

	r->audit_base = lines != NULL ? cJSON_GetArraySize(lines) : 0;
	cJSON_Delete(lines);

	assert_int_equal(execute_start(&r->e->loop, r->e->c, 1, limit, &r->plan,
	    &r->ledger, r->persist ? &files : &none, r->results, on_action,
	    on_done, r, &r->x), 0);
	assert_int_equal(r->actions, 0);        /* nothing from inside the call */
	assert_int_equal(r->done, 0);
}

static void
run_wait(struct run *r)
{
	rec_run_until(r->e, &r->done, 1, 20000);
	assert_int_equal(r->done, 1);
	/* Every action ended exactly once, before the done callback. */
	assert_int_equal(r->actions, (int)r->plan.n_actions);
	assert_int_equal(r->actions_at_done, (int)r->plan.n_actions);
	for (size_t i = 0; i < r->plan.n_actions; i++) {
		int seen = 0;

		for (int k = 0; k < r->actions; k++)
			seen += r->order[k] == i;
		assert_int_equal(seen, 1);
	}
	if (r->persist) {
		assert_int_equal(r->audit_short, 0);
		assert_true(r->ledger_on_disk);
	}
}

static void
run_free(struct run *r)
{
	execute_results_free(r->results, r->plan.n_actions);
	plan_free(&r->plan);
	observed_state_free(&r->os);
	desired_state_free(&r->ds);
	ledger_free(&r->ledger);
}

/* Where action i ended among the callbacks. */
static int
ended_at(const struct run *r, size_t i)
{
	for (int k = 0; k < r->actions; k++)
		if (r->order[k] == i)
			return k;
	fail_msg("action %zu never ended", i);
	return -1;
}

static int
phase_rank(const struct plan_action *a)
{
	if (a->op == PLAN_CREATE)
		return 0;
	return a->kind == PLAN_DEPLOYMENT ? 1 : 2;
}

static const char *
state_name(enum action_state s)
{
	switch (s) {
	case ACTION_OK: return "ok";
	case ACTION_FAILED: return "failed";
	case ACTION_SKIPPED: return "skipped";
	case ACTION_RUNNING: return "running";
	default: return "pending";
	}
}

static void
expect_state(const struct run *r, size_t i, enum action_state want)
{
	const struct action_result *res = &r->results[i];

	if (res->state != want)
		fail_msg("action %zu (%s/%s): %s, want %s (%s)", i, r->plan.actions[i].project,
		    r->plan.actions[i].reference ? r->plan.actions[i].reference : "",
		    state_name(res->state), state_name(want), res->error ? res->error : "");
}

/* ---- the phases ------------------------------------------------------------ */

/*
 * A plan with every kind of action: two new projects (three deployments
 * between them), a deployment created in a live project, a deployment
 * deleted (state: absent) and two projects deleted (one absent, one
 * pruned). The callbacks and the simulator's own log must show: every
 * create before the deployment delete, the deployment delete before the
 * project deletes; a deployment create after its project's.
 */
static void
test_phases_in_order(void **state)
{
	const char *args[] = { "--verbose", "--latency", "30", NULL };
	struct rec_env *e = rec_start_logged(args);
	struct run r;
	struct desired_project *p;
	size_t c_alpha, c_beta, c_alpha_rv, c_alpha_st, c_beta_st, c_p1_st;
	size_t d_dev, d_p2, d_p3;
	char line[256], *log;
	size_t last_create = 0, del_dep, first_pdel;
	cJSON *st, *s;
	int64_t alpha, beta, p1;
	(void)state;

	rec_client(e);
	rec_admin_post(e, "/_sim/seed",
	    "{\"projects\":3,\"deploymentsPerProject\":2,\"prefix\":\"p\"}");
	run_init(&r, e);
	r.set.prune = PRUNE_ALL;
	p = ds_project(&r.ds, "p1");
	ds_deployment(p, "production", DEP_PROD);
	ds_deployment(p, "development", DEP_DEV)->absent = true;
	ds_deployment(p, "staging", DEP_DEV);
	p = ds_project(&r.ds, "alpha");
	ds_deployment(p, "staging", DEP_DEV);
	ds_deployment(p, "review", DEP_DEV);
	p = ds_project(&r.ds, "beta");
	ds_deployment(p, "staging", DEP_DEV);
	ds_project(&r.ds, "p2")->absent = true;
	/* p3 is undeclared: prune all deletes it. */
	run_plan(&r);

	assert_int_equal(r.plan.n_actions, 9);
	c_alpha = find_action(&r.plan, PLAN_CREATE, PLAN_PROJECT, "alpha", NULL);
	c_beta = find_action(&r.plan, PLAN_CREATE, PLAN_PROJECT, "beta", NULL);
	c_alpha_rv = find_action(&r.plan, PLAN_CREATE, PLAN_DEPLOYMENT, "alpha", "review");
	c_alpha_st = find_action(&r.plan, PLAN_CREATE, PLAN_DEPLOYMENT, "alpha", "staging");
	c_beta_st = find_action(&r.plan, PLAN_CREATE, PLAN_DEPLOYMENT, "beta", "staging");
	c_p1_st = find_action(&r.plan, PLAN_CREATE, PLAN_DEPLOYMENT, "p1", "staging");
	d_dev = find_action(&r.plan, PLAN_DELETE, PLAN_DEPLOYMENT, "p1", "development");
	d_p2 = find_action(&r.plan, PLAN_DELETE, PLAN_PROJECT, "p2", NULL);
	d_p3 = find_action(&r.plan, PLAN_DELETE, PLAN_PROJECT, "p3", NULL);
	assert_int_equal(r.plan.actions[c_alpha_rv].parent, c_alpha);
	assert_int_equal(r.plan.actions[c_beta_st].parent, c_beta);
	assert_int_equal(r.plan.actions[c_p1_st].parent, PLAN_NO_PARENT);

	run_start(&r, 8);
	run_wait(&r);
	for (size_t i = 0; i < r.plan.n_actions; i++)
		expect_state(&r, i, ACTION_OK);

	/* The callbacks: phases never go back; children after parents. */
	for (int k = 1; k < r.actions; k++)
		assert_true(phase_rank(&r.plan.actions[r.order[k - 1]]) <=
		    phase_rank(&r.plan.actions[r.order[k]]));
	assert_true(ended_at(&r, c_alpha) < ended_at(&r, c_alpha_rv));
	assert_true(ended_at(&r, c_alpha) < ended_at(&r, c_alpha_st));
	assert_true(ended_at(&r, c_beta) < ended_at(&r, c_beta_st));
	assert_true(ended_at(&r, d_dev) < ended_at(&r, d_p2));
	assert_true(ended_at(&r, d_dev) < ended_at(&r, d_p3));

	/* The simulator's order: the new projects' deployments went to the
	 * ids their creates returned; the deployment delete came after every
	 * create, the project deletes after it. */
	st = rec_state(e);
	alpha = state_project_id(st, "alpha");
	beta = state_project_id(st, "beta");
	p1 = state_project_id(st, "p1");
	assert_int_equal(r.results[c_alpha].project_id, alpha);
	assert_int_equal(r.results[c_beta].project_id, beta);
	assert_int_equal(r.results[c_alpha_rv].project_id, alpha);
	assert_int_equal(r.results[c_beta_st].project_id, beta);
	assert_non_null(state_deployment(st, alpha, "review"));
	assert_non_null(state_deployment(st, alpha, "staging"));
	assert_non_null(state_deployment(st, beta, "staging"));
	assert_non_null(state_deployment(st, p1, "staging"));
	assert_non_null(state_deployment(st, p1, "production"));
	assert_null(state_deployment(st, p1, "development"));
	assert_int_equal(state_project_id(st, "p2"), 0);
	assert_int_equal(state_project_id(st, "p3"), 0);
	assert_int_equal(state_count(st, "projects"), 3);

	log = read_text(e->sim_log);
	assert_non_null(log);
	last_create = log_last_pos(log, "POST /v1/teams/1/create_project -> 200");
	assert_int_equal(count_substr(log, "create_project -> 200"), 2);
	assert_int_equal(count_substr(log, "create_deployment -> 200"), 4);
	for (int k = 0; k < 3; k++) {
		int64_t id = k == 0 ? alpha : k == 1 ? beta : p1;
		size_t pos;

		snprintf(line, sizeof(line), "POST /v1/projects/%lld/create_deployment -> 200",
		    (long long)id);
		pos = log_last_pos(log, line);
		if (pos > last_create)
			last_create = pos;
	}
	snprintf(line, sizeof(line), "POST /v1/deployments/%s/delete -> 200",
	    r.plan.actions[d_dev].deployment_name);
	del_dep = log_pos(log, line);
	snprintf(line, sizeof(line), "POST /v1/projects/%lld/delete -> 200",
	    (long long)r.plan.actions[d_p2].project_id);
	first_pdel = log_pos(log, line);
	snprintf(line, sizeof(line), "POST /v1/projects/%lld/delete -> 200",
	    (long long)r.plan.actions[d_p3].project_id);
	if (log_pos(log, line) < first_pdel)
		first_pdel = log_pos(log, line);
	assert_true(last_create < del_dep);
	assert_true(del_dep < first_pdel);
	free(log);

	/* A project delete sent before the deployment delete would have made
	 * the latter a 404. */
	s = rec_stats(e);
	assert_int_equal(stat_count(s, "POST /deployments/{name}/delete", "200"), 1);
	assert_int_equal(stat_count(s, "POST /deployments/{name}/delete", NULL), 1);
	assert_int_equal(stat_count(s, "POST /projects/{id}/delete", "200"), 2);
	assert_int_equal(stat_num(s, "creates", "project"), 2);
	assert_int_equal(stat_num(s, "creates", "deployment"), 4);
	assert_int_equal(stat_num(s, "total", NULL), 9);
	cJSON_Delete(s);
	cJSON_Delete(st);
	run_free(&r);
	rec_stop(e);
}

/*
 * A new project's deployments go as soon as its id is known, not when every
 * project create has ended. Two new projects, one deployment each; the
 * simulator stalls exactly one of the two project creates for 1.5 s (seed 69
 * with --stall-rate 0.5: of the first four requests only the first or the
 * second is drawn to stall, so whichever create arrives first or second is
 * held, never the deployments). The other project's deployment must end
 * before the stalled create does.
 */
static void
test_children_start_when_parent_known(void **state)
{
	const char *args[] = { "--verbose", "--seed", "69", "--stall-rate", "0.5",
	    "--stall-ms", "1500", NULL };
	struct rec_env *e = rec_start_logged(args);
	struct run r;
	size_t first, second;
	char line[256], *log;
	cJSON *s;
	(void)state;

	rec_client(e);
	run_init(&r, e);
	ds_deployment(ds_project(&r.ds, "fast-or-slow-1"), "staging", DEP_DEV);
	ds_deployment(ds_project(&r.ds, "fast-or-slow-2"), "staging", DEP_DEV);
	run_plan(&r);
	assert_int_equal(r.plan.n_actions, 4);
	run_start(&r, 0);
	run_wait(&r);
	for (size_t i = 0; i < 4; i++)
		expect_state(&r, i, ACTION_OK);

	s = rec_stats(e);
	/* The premise: one request stalled (the seed still draws as it did). */
	assert_int_equal(stat_num(s, "faults", "stall"), 1);
	cJSON_Delete(s);

	/* Callbacks: a project, its deployment, the other project, its
	 * deployment. */
	first = r.order[0];
	assert_int_equal(r.plan.actions[first].kind, PLAN_PROJECT);
	assert_int_equal(r.plan.actions[r.order[1]].parent, first);
	second = r.order[2];
	assert_int_equal(r.plan.actions[second].kind, PLAN_PROJECT);
	assert_int_equal(r.plan.actions[r.order[3]].parent, second);

	/* The simulator saw the first project's deployment before it answered
	 * the second project's create. */
	log = read_text(e->sim_log);
	assert_non_null(log);
	snprintf(line, sizeof(line), "POST /v1/projects/%lld/create_deployment -> 200",
	    (long long)r.results[first].project_id);
	assert_true(log_pos(log, line) <
	    log_last_pos(log, "POST /v1/teams/1/create_project -> 200"));
	free(log);
	run_free(&r);
	rec_stop(e);
}

/* ---- failures ---------------------------------------------------------------- */

/*
 * The simulator refuses a blank project name (400 InvalidProjectName), which
 * plan_build does not check: that create fails, and its two deployments are
 * skipped with the reason and never sent; the other project is unaffected.
 */
static void
test_failed_project_skips_children(void **state)
{
	struct rec_env *e = rec_start(NULL);
	struct run r;
	struct desired_project *p;
	size_t blank, fine, b1, b2, f1;
	struct ledger disk = { 0 };
	char err[256];
	cJSON *s, *lines, *l;
	int error_lines = 0;
	(void)state;

	rec_client(e);
	run_init(&r, e);
	r.persist = true;
	p = ds_project(&r.ds, "   ");
	ds_deployment(p, "staging", DEP_DEV);
	ds_deployment(p, "review", DEP_DEV);
	ds_deployment(ds_project(&r.ds, "fine"), "staging", DEP_DEV);
	run_plan(&r);
	assert_int_equal(r.plan.n_actions, 5);
	blank = find_action(&r.plan, PLAN_CREATE, PLAN_PROJECT, "   ", NULL);
	fine = find_action(&r.plan, PLAN_CREATE, PLAN_PROJECT, "fine", NULL);
	b1 = find_action(&r.plan, PLAN_CREATE, PLAN_DEPLOYMENT, "   ", "staging");
	b2 = find_action(&r.plan, PLAN_CREATE, PLAN_DEPLOYMENT, "   ", "review");
	f1 = find_action(&r.plan, PLAN_CREATE, PLAN_DEPLOYMENT, "fine", "staging");
	run_start(&r, 4);
	run_wait(&r);

	expect_state(&r, blank, ACTION_FAILED);
	assert_non_null(strstr(r.results[blank].error, "HTTP 400 InvalidProjectName"));
	assert_non_null(strstr(r.results[blank].error, "(POST /teams/1/create_project, 1 attempt)"));
	assert_false(r.results[blank].ambiguous);   /* a 400 is an answer */
	assert_int_equal(r.results[blank].project_id, 0);
	expect_state(&r, b1, ACTION_SKIPPED);
	expect_state(&r, b2, ACTION_SKIPPED);
	assert_string_equal(r.results[b1].error,
	    "not started: its project could not be created");
	assert_string_equal(r.results[b2].error,
	    "not started: its project could not be created");
	/* (Their callbacks and audit lines come before the failed create's own:
	 * on_project_created releases the children before it reports itself.
	 * The order is not part of the contract, so it is not checked here.) */
	expect_state(&r, fine, ACTION_OK);
	expect_state(&r, f1, ACTION_OK);

	/* Sent: the two project creates and the one deployment, nothing else. */
	s = rec_stats(e);
	assert_int_equal(stat_count(s, "POST /teams/{team}/create_project", "400"), 1);
	assert_int_equal(stat_count(s, "POST /teams/{team}/create_project", "200"), 1);
	assert_int_equal(stat_count(s, "POST /projects/{id}/create_deployment", NULL), 1);
	assert_int_equal(stat_num(s, "total", NULL), 3);
	cJSON_Delete(s);

	/* The ledger holds what was made; the trail says what failed and why. */
	assert_int_equal(ledger_load(e->ledger_path, &disk, err, sizeof(err)), 0);
	assert_int_equal(disk.n_projects, 1);
	assert_string_equal(disk.projects[0].name, "fine");
	assert_int_equal(disk.projects[0].id, r.results[fine].project_id);
	assert_int_equal(disk.n_deployments, 1);
	assert_string_equal(disk.deployments[0].name, r.results[f1].deployment_name);
	ledger_free(&disk);
	lines = audit_lines(e->audit_path);
	assert_non_null(lines);
	assert_int_equal(cJSON_GetArraySize(lines), 5);
	cJSON_ArrayForEach(l, lines) {
		const char *proj = json_str(l, "project");

		if (strcmp(proj, "fine") == 0) {
			assert_string_equal(json_str(l, "result"), "ok");
			continue;
		}
		assert_string_equal(json_str(l, "result"), "error");
		assert_non_null(json_str(l, "error"));
		error_lines++;
	}
	assert_int_equal(error_lines, 3);
	cJSON_Delete(lines);
	run_free(&r);
	rec_stop(e);
}

/*
 * A stop while actions wait behind the concurrency limit: six new projects
 * with a deployment each, at most two in flight. The stop comes while the
 * first two project creates sit in the simulator's latency: they finish and
 * are recorded; everything else is skipped and never sent, including the
 * deployments of the two projects that were made.
 */
static void
test_stop_while_queued(void **state)
{
	const char *args[] = { "--latency", "400", NULL };
	struct rec_env *e = rec_start(args);
	struct run r;
	char name[32];
	size_t s1, s2;
	int polls = 0, ok_lines = 0, skipped_queued = 0, skipped_children = 0;
	struct ledger disk = { 0 };
	char err[256];
	cJSON *s, *lines, *l;
	(void)state;

	rec_client(e);
	run_init(&r, e);
	r.persist = true;
	for (int i = 1; i <= 6; i++) {
		snprintf(name, sizeof(name), "s%d", i);
		ds_deployment(ds_project(&r.ds, name), "staging", DEP_DEV);
	}
	run_plan(&r);
	assert_int_equal(r.plan.n_actions, 12);
	s1 = find_action(&r.plan, PLAN_CREATE, PLAN_PROJECT, "s1", NULL);
	s2 = find_action(&r.plan, PLAN_CREATE, PLAN_PROJECT, "s2", NULL);
	run_start(&r, 2);

	/* Until the simulator holds two requests. */
	for (;;) {
		long in;

		run_for(&e->loop, 20);
		s = rec_stats(e);
		in = stat_num(s, "in_flight", NULL);
		cJSON_Delete(s);
		if (in == 2)
			break;
		assert_true(++polls < 500);
	}
	assert_int_equal(r.actions, 0);
	assert_int_equal(api_in_flight(e->c), 2);
	execute_stop_starting(r.x);
	assert_int_equal(r.done, 0);            /* never from inside the stop */
	/* The four queued creates and their deployments ended at once. */
	assert_int_equal(r.actions, 8);
	assert_int_equal(api_in_flight(e->c), 2);
	run_wait(&r);

	expect_state(&r, s1, ACTION_OK);
	expect_state(&r, s2, ACTION_OK);
	for (size_t i = 0; i < r.plan.n_actions; i++) {
		const struct plan_action *a = &r.plan.actions[i];

		if (i == s1 || i == s2)
			continue;
		expect_state(&r, i, ACTION_SKIPPED);
		if (a->parent == s1 || a->parent == s2) {
			assert_string_equal(r.results[i].error, "not started: shutting down");
			skipped_children++;
		} else {
			assert_non_null(strstr(r.results[i].error, "not started"));
			skipped_queued++;
		}
	}
	assert_int_equal(skipped_children, 2);
	assert_int_equal(skipped_queued, 8);

	s = rec_stats(e);
	assert_int_equal(stat_count(s, "POST /teams/{team}/create_project", "200"), 2);
	assert_int_equal(stat_num(s, "total", NULL), 2);
	assert_int_equal(stat_num(s, "max_in_flight", NULL), 2);
	cJSON_Delete(s);

	/* The two that were in flight are in the ledger and the trail. */
	assert_int_equal(ledger_load(e->ledger_path, &disk, err, sizeof(err)), 0);
	assert_int_equal(disk.n_projects, 2);
	for (size_t i = 0; i < 2; i++) {
		const struct ledger_project *lp = ledger_find_project(&disk,
		    r.results[i == 0 ? s1 : s2].project_id);

		assert_non_null(lp);
		assert_true(lp->created);
		assert_string_equal(lp->name, i == 0 ? "s1" : "s2");
	}
	assert_int_equal(disk.n_deployments, 0);
	ledger_free(&disk);
	lines = audit_lines(e->audit_path);
	assert_non_null(lines);
	assert_int_equal(cJSON_GetArraySize(lines), 12);
	cJSON_ArrayForEach(l, lines)
		if (strcmp(json_str(l, "result"), "ok") == 0) {
			assert_string_equal(json_str(l, "op"), "create");
			assert_string_equal(json_str(l, "kind"), "project");
			assert_true(json_i64(l, "projectId") == r.results[s1].project_id ||
			    json_i64(l, "projectId") == r.results[s2].project_id);
			ok_lines++;
		}
	assert_int_equal(ok_lines, 2);
	cJSON_Delete(lines);
	run_free(&r);
	rec_stop(e);
}

/* ---- the concurrency limit --------------------------------------------------- */

/*
 * 16 new projects with a deployment each, and 16 deployments in a live
 * project (48 actions, 32 of them ready at once), under an executor limit
 * of 1, 4 and 16 with the API client allowing 32: the simulator (which
 * counts a request from its arrival, through its 40 ms latency) never holds
 * more than the limit, and holds that many when the plan has them to give.
 */
static void
check_limit(unsigned limit)
{
	const char *args[] = { "--latency", "40", NULL };
	struct rec_env *e = rec_start(args);
	struct run r;
	struct desired_project *live;
	char name[32];
	long most;
	cJSON *s;

	rec_client(e);
	rec_admin_post(e, "/_sim/seed", "{\"projects\":1,\"prefix\":\"live\"}");
	run_init(&r, e);
	live = ds_project(&r.ds, "live1");
	for (int i = 1; i <= 16; i++) {
		snprintf(name, sizeof(name), "dev-%02d", i);
		ds_deployment(live, name, DEP_DEV);
	}
	for (int i = 1; i <= 16; i++) {
		snprintf(name, sizeof(name), "c%02d", i);
		ds_deployment(ds_project(&r.ds, name), "staging", DEP_DEV);
	}
	run_plan(&r);
	assert_int_equal(r.plan.n_actions, 48);
	run_start(&r, limit);
	run_wait(&r);
	for (size_t i = 0; i < r.plan.n_actions; i++)
		expect_state(&r, i, ACTION_OK);
	s = rec_stats(e);
	most = stat_num(s, "max_in_flight", NULL);
	print_message("limit %u: the simulator held at most %ld, the client %u\n",
	    limit, most, e->max_api_in_flight);
	if (most > (long)limit)
		fail_msg("limit %u exceeded: the simulator held %ld at once", limit, most);
	assert_true(e->max_api_in_flight <= limit);
	/* The requests did overlap: the limit, not the test, bounded them. */
	assert_true(most >= (long)(limit + 1) / 2);
	assert_int_equal(e->max_api_in_flight, limit);
	assert_int_equal(stat_num(s, "total", NULL), 48);
	cJSON_Delete(s);
	run_free(&r);
	rec_stop(e);
}

static void
test_limit_1(void **state)
{
	(void)state;
	check_limit(1);
}

static void
test_limit_4(void **state)
{
	(void)state;
	check_limit(4);
}

static void
test_limit_16(void **state)
{
	(void)state;
	check_limit(16);
}

/* ---- the ledger and the audit trail ------------------------------------------ */

/*
 * Every kind of action with the files on: a protected new project with a
 * protected deployment, a deployment in a live project, a deployment delete
 * (absent) and an owned project pruned. The ledger on disk, at the done
 * callback, holds exactly what was created and forgets what was deleted;
 * the audit trail has one line per action, each written before its
 * callback, naming the ids the API gave.
 */
static void
test_ledger_and_audit(void **state)
{
	struct rec_env *e = rec_start(NULL);
	struct run r;
	struct desired_project *p;
	size_t c_gamma, c_gamma_st, c_p1_st, d_dev, d_p2;
	struct ledger disk = { 0 };
	const struct ledger_deployment *ld;
	const struct ledger_project *lp;
	char err[256];
	cJSON *st, *lines, *l;
	int64_t p1_id, p2_id;
	(void)state;

	rec_client(e);
	rec_admin_post(e, "/_sim/seed",
	    "{\"projects\":2,\"deploymentsPerProject\":2,\"prefix\":\"p\"}");
	st = rec_state(e);
	p1_id = state_project_id(st, "p1");
	p2_id = state_project_id(st, "p2");
	run_init(&r, e);
	r.persist = true;
	r.set.prune = PRUNE_OWNED;
	/* The ledger says p2 and p1's development deployment are ours. */
	assert_int_equal(ledger_add_project(&r.ledger, p2_id, "p2"), 0);
	assert_int_equal(ledger_add_deployment(&r.ledger,
	    json_str(state_deployment(st, p1_id, "development"), "name"), p1_id, "p1",
	    "development"), 0);
	cJSON_Delete(st);
	p = ds_project(&r.ds, "p1");
	ds_deployment(p, "production", DEP_PROD);
	ds_deployment(p, "development", DEP_DEV)->absent = true;
	ds_deployment(p, "staging", DEP_DEV);
	p = ds_project(&r.ds, "gamma");
	p->protect = true;
	ds_deployment(p, "staging", DEP_DEV)->protect = true;
	run_plan(&r);
	assert_int_equal(r.plan.n_actions, 5);
	c_gamma = find_action(&r.plan, PLAN_CREATE, PLAN_PROJECT, "gamma", NULL);
	c_gamma_st = find_action(&r.plan, PLAN_CREATE, PLAN_DEPLOYMENT, "gamma", "staging");
	c_p1_st = find_action(&r.plan, PLAN_CREATE, PLAN_DEPLOYMENT, "p1", "staging");
	d_dev = find_action(&r.plan, PLAN_DELETE, PLAN_DEPLOYMENT, "p1", "development");
	d_p2 = find_action(&r.plan, PLAN_DELETE, PLAN_PROJECT, "p2", NULL);
	run_start(&r, 2);
	run_wait(&r);
	for (size_t i = 0; i < r.plan.n_actions; i++)
		expect_state(&r, i, ACTION_OK);
	assert_int_equal(r.ledger_rc, 0);

	assert_int_equal(ledger_load(e->ledger_path, &disk, err, sizeof(err)), 0);
	assert_int_equal(disk.n_projects, 1);
	lp = ledger_find_project(&disk, r.results[c_gamma].project_id);
	assert_non_null(lp);
	assert_string_equal(lp->name, "gamma");
	assert_true(lp->created);
	assert_true(lp->protect);
	assert_null(ledger_find_project(&disk, p2_id));
	assert_int_equal(disk.n_deployments, 2);
	ld = ledger_find_deployment(&disk, r.results[c_gamma_st].deployment_name);
	assert_non_null(ld);
	assert_int_equal(ld->project_id, r.results[c_gamma].project_id);
	assert_string_equal(ld->project, "gamma");
	assert_string_equal(ld->reference, "staging");
	assert_true(ld->created);
	assert_true(ld->protect);
	ld = ledger_find_deployment(&disk, r.results[c_p1_st].deployment_name);
	assert_non_null(ld);
	assert_int_equal(ld->project_id, p1_id);
	assert_true(ld->created);
	assert_false(ld->protect);
	assert_null(ledger_find_deployment(&disk, r.plan.actions[d_dev].deployment_name));
	ledger_free(&disk);

	lines = audit_lines(e->audit_path);
	assert_non_null(lines);
	assert_int_equal(cJSON_GetArraySize(lines), 5);
	for (int k = 0; k < 5; k++) {
		size_t i = r.order[k];
		const struct plan_action *a = &r.plan.actions[i];

		l = cJSON_GetArrayItem(lines, k);     /* in the order they ended */
		assert_string_equal(json_str(l, "op"), a->op == PLAN_CREATE ? "create" : "delete");
		assert_string_equal(json_str(l, "kind"),
		    a->kind == PLAN_PROJECT ? "project" : "deployment");
		assert_string_equal(json_str(l, "project"), a->project);
		assert_string_equal(json_str(l, "result"), "ok");
		assert_null(json_str(l, "error"));
		assert_non_null(json_str(l, "time"));
		if (i == c_gamma || i == c_gamma_st)
			assert_int_equal(json_i64(l, "projectId"), r.results[c_gamma].project_id);
		if (i == c_gamma_st || i == c_p1_st) {
			assert_string_equal(json_str(l, "name"), r.results[i].deployment_name);
			assert_string_equal(json_str(l, "reference"), "staging");
		}
		if (i == c_p1_st || i == d_dev)
			assert_int_equal(json_i64(l, "projectId"), p1_id);
		if (i == d_dev)
			assert_string_equal(json_str(l, "name"), a->deployment_name);
		if (i == d_p2)
			assert_int_equal(json_i64(l, "projectId"), p2_id);
	}
	cJSON_Delete(lines);
	run_free(&r);
	rec_stop(e);
}

/*
 * Deletes of what someone else deleted first: answered 404, they count as
 * done (ok, and forgotten by the ledger), and are not retried.
 */
static void
test_delete_404_is_done(void **state)
{
	struct rec_env *e = rec_start(NULL);
	struct run r;
	struct desired_project *p;
	struct sim_response resp;
	char path[256];
	size_t d_dev, d_p2;
	struct ledger disk = { 0 };
	char err[256];
	cJSON *st, *s;
	int64_t p2_id;
	(void)state;

	rec_client(e);
	rec_admin_post(e, "/_sim/seed",
	    "{\"projects\":2,\"deploymentsPerProject\":2,\"prefix\":\"p\"}");
	st = rec_state(e);
	p2_id = state_project_id(st, "p2");
	cJSON_Delete(st);
	run_init(&r, e);
	r.persist = true;
	r.set.prune = PRUNE_OWNED;
	assert_int_equal(ledger_add_project(&r.ledger, p2_id, "p2"), 0);
	p = ds_project(&r.ds, "p1");
	ds_deployment(p, "production", DEP_PROD);
	ds_deployment(p, "development", DEP_DEV)->absent = true;
	run_plan(&r);
	assert_int_equal(r.plan.n_actions, 2);
	d_dev = find_action(&r.plan, PLAN_DELETE, PLAN_DEPLOYMENT, "p1", "development");
	d_p2 = find_action(&r.plan, PLAN_DELETE, PLAN_PROJECT, "p2", NULL);

	/* Gone before the executor gets there. */
	snprintf(path, sizeof(path), "/deployments/%s/delete",
	    r.plan.actions[d_dev].deployment_name);
	assert_int_equal(sim_post(&e->sim, path, NULL, &resp), 0);
	assert_int_equal(resp.status, 200);
	sim_response_free(&resp);
	snprintf(path, sizeof(path), "/projects/%lld/delete", (long long)p2_id);
	assert_int_equal(sim_post(&e->sim, path, NULL, &resp), 0);
	assert_int_equal(resp.status, 200);
	sim_response_free(&resp);

	run_start(&r, 4);
	run_wait(&r);
	expect_state(&r, d_dev, ACTION_OK);
	expect_state(&r, d_p2, ACTION_OK);
	assert_null(r.results[d_dev].error);
	assert_null(r.results[d_p2].error);

	s = rec_stats(e);
	assert_int_equal(stat_count(s, "POST /deployments/{name}/delete", "404"), 1);
	assert_int_equal(stat_count(s, "POST /projects/{id}/delete", "404"), 1);
	/* Ours (200) and the executor's (404), nothing more. */
	assert_int_equal(stat_count(s, "POST /deployments/{name}/delete", NULL), 2);
	assert_int_equal(stat_count(s, "POST /projects/{id}/delete", NULL), 2);
	cJSON_Delete(s);
	assert_int_equal(ledger_load(e->ledger_path, &disk, err, sizeof(err)), 0);
	assert_null(ledger_find_project(&disk, p2_id));
	assert_int_equal(disk.n_projects, 0);
	ledger_free(&disk);
	run_free(&r);
	rec_stop(e);
}

/*
 * Creates whose outcome is unknown: every create answered 5xx (half of them
 * after the simulator made the resource), then every create's connection
 * dropped. Each is sent once, never again, marked ambiguous; a new
 * project's deployments are skipped; the ledger claims nothing.
 */
static void
check_ambiguous(const char *faults, const char *prefix, int64_t p1_id,
    struct rec_env *e)
{
	struct run r;
	struct desired_project *p;
	char name[32];
	long before_p, before_d;
	int failed = 0, skipped = 0;
	struct ledger disk = { 0 };
	char err[256];
	cJSON *s;

	run_init(&r, e);
	r.persist = true;
	p = ds_project(&r.ds, "p1");
	ds_deployment(p, "production", DEP_PROD);
	ds_deployment(p, "development", DEP_DEV);
	snprintf(name, sizeof(name), "%s-staging", prefix);
	ds_deployment(p, name, DEP_DEV);
	snprintf(name, sizeof(name), "%s-review", prefix);
	ds_deployment(p, name, DEP_DEV);
	for (int i = 1; i <= 4; i++) {
		snprintf(name, sizeof(name), "%s-%d", prefix, i);
		ds_deployment(ds_project(&r.ds, name), "staging", DEP_DEV);
	}
	run_plan(&r);
	assert_int_equal(r.plan.n_actions, 10);
	s = rec_stats(e);
	before_p = stat_count(s, "POST /teams/{team}/create_project", NULL);
	before_d = stat_count(s, "POST /projects/{id}/create_deployment", NULL);
	cJSON_Delete(s);
	rec_admin_post(e, "/_sim/config", faults);
	run_start(&r, 0);
	run_wait(&r);
	rec_admin_post(e, "/_sim/config", "{\"errorRate\":0,\"dropRate\":0}");

	for (size_t i = 0; i < r.plan.n_actions; i++) {
		const struct plan_action *a = &r.plan.actions[i];
		const struct action_result *res = &r.results[i];

		if (a->parent != PLAN_NO_PARENT) {
			expect_state(&r, i, ACTION_SKIPPED);
			assert_false(res->ambiguous);
			skipped++;
			continue;
		}
		expect_state(&r, i, ACTION_FAILED);
		if (!res->ambiguous)
			fail_msg("%s create of %s not marked ambiguous: %s", faults,
			    a->project, res->error);
		assert_non_null(strstr(res->error, "1 attempt,"));
		assert_non_null(strstr(res->error, "outcome unknown"));
		if (a->kind == PLAN_DEPLOYMENT)
			assert_int_equal(a->project_id, p1_id);
		failed++;
	}
	assert_int_equal(failed, 6);
	assert_int_equal(skipped, 4);
	s = rec_stats(e);
	/* Each sent exactly once, although some took effect. */
	assert_int_equal(stat_count(s, "POST /teams/{team}/create_project", NULL) - before_p, 4);
	assert_int_equal(stat_count(s, "POST /projects/{id}/create_deployment", NULL) - before_d, 2);
	cJSON_Delete(s);
	assert_int_equal(ledger_load(e->ledger_path, &disk, err, sizeof(err)), 0);
	assert_int_equal(disk.n_projects, 0);
	assert_int_equal(disk.n_deployments, 0);
	ledger_free(&disk);
	run_free(&r);
}

static void
test_ambiguous_creates(void **state)
{
	struct rec_env *e = rec_start(NULL);
	cJSON *st, *s;
	int64_t p1_id;
	long after;
	(void)state;

	rec_client(e);
	rec_admin_post(e, "/_sim/seed",
	    "{\"projects\":1,\"deploymentsPerProject\":2,\"prefix\":\"p\"}");
	st = rec_state(e);
	p1_id = state_project_id(st, "p1");
	cJSON_Delete(st);

	check_ambiguous("{\"errorRate\":1}", "err", p1_id, e);
	s = rec_stats(e);
	after = stat_num(s, "faults", "errorAfterCreate");
	/* Some of those creates did happen: resending them would duplicate. */
	assert_true(after > 0);
	assert_int_equal(stat_num(s, "faults", "error") + after, 6);
	assert_int_equal(stat_num(s, "creates", "project") +
	    stat_num(s, "creates", "deployment"), after);
	cJSON_Delete(s);

	check_ambiguous("{\"dropRate\":1}", "drop", p1_id, e);
	s = rec_stats(e);
	assert_int_equal(stat_num(s, "faults", "drop") +
	    stat_num(s, "faults", "dropAfterCreate"), 6);
	assert_true(stat_num(s, "faults", "dropAfterCreate") > 0);
	cJSON_Delete(s);
	rec_stop(e);
}

/* ---- updates and renames (SPEC section 8) ---------------------------------- */

/*
 * A renamed project whose default prod deployment is renamed and loses its
 * default flag to a new deployment created as the default, and a setting
 * patched: the PATCH that unsets the old default reaches the simulator
 * before the create that takes the flag; the ledger entries follow the
 * renames; the audit trail says rename/update with the changes. Then the
 * same swap with the unset refused: the new default is skipped, never sent.
 */
static void
test_updates_swap_and_rename(void **state)
{
	const char *args[] = { "--verbose", NULL };
	struct rec_env *e = rec_start_logged(args);
	struct run r;
	struct desired_project *p;
	struct desired_deployment *d;
	size_t ren_p, ren_d, blue, dev;
	int64_t pid;
	char line[256], *log, prod_name[64];
	cJSON *st, *s, *lines, *l;
	int renames = 0, updates = 0;
	(void)state;

	rec_client(e);
	rec_admin_post(e, "/_sim/seed",
	    "{\"projects\":1,\"deploymentsPerProject\":2,\"prefix\":\"p\"}");
	run_init(&r, e);
	r.persist = true;
	p = ds_project(&r.ds, "shop");
	p->renamed_from = ds_renamed("p1", &p->n_renamed_from);
	d = ds_deployment(p, "main", DEP_PROD);
	d->class_name = arena_strdup(&r.ds.arena, "s256");
	d->renamed_from = ds_renamed("production", &d->n_renamed_from);
	ds_deployment(p, "blue", DEP_PROD)->is_default = TRI_TRUE;
	ds_deployment(p, "development", DEP_DEV)->send_logs_to_client = TRI_FALSE;
	st = rec_state(e);
	pid = state_project_id(st, "p1");
	snprintf(prod_name, sizeof(prod_name), "%s",
	    json_str(state_deployment(st, pid, "production"), "name"));
	assert_int_equal(ledger_add_project(&r.ledger, pid, "p1"), 0);
	assert_int_equal(ledger_add_deployment(&r.ledger, prod_name, pid, "p1",
	    "production"), 0);
	run_plan(&r);
	assert_int_equal(r.plan.n_actions, 4);
	ren_p = find_action(&r.plan, PLAN_RENAME, PLAN_PROJECT, "shop", NULL);
	ren_d = find_action(&r.plan, PLAN_RENAME, PLAN_DEPLOYMENT, "shop", "main");
	blue = find_action(&r.plan, PLAN_CREATE, PLAN_DEPLOYMENT, "shop", "blue");
	dev = find_action(&r.plan, PLAN_UPDATE, PLAN_DEPLOYMENT, "shop", "development");
	assert_int_equal(r.plan.actions[blue].parent, ren_d);
	run_start(&r, 0);
	run_wait(&r);
	for (size_t i = 0; i < 4; i++)
		expect_state(&r, i, ACTION_OK);
	assert_true(ended_at(&r, ren_d) < ended_at(&r, blue));
	assert_int_equal(r.results[blue].project_id, pid);
	assert_string_equal(r.results[ren_d].deployment_name, prod_name);
	(void)ren_p;
	(void)dev;

	/* The simulator saw the unset before the create. */
	log = read_text(e->sim_log);
	assert_non_null(log);
	snprintf(line, sizeof(line), "PATCH /v1/deployments/%s -> 200", prod_name);
	assert_true(log_pos(log, line) < log_pos(log, "/create_deployment -> 200"));
	free(log);

	/* The team as declared; exactly 3 PATCHes and 1 create. */
	cJSON_Delete(st);
	st = rec_state(e);
	assert_int_equal(state_project_id(st, "shop"), pid);
	assert_string_equal(json_str(state_deployment(st, pid, "main"), "class"), "s256");
	assert_true(cJSON_IsFalse(cJSON_GetObjectItem(state_deployment(st, pid, "main"), "isDefault")));
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(state_deployment(st, pid, "blue"), "isDefault")));
	assert_true(cJSON_IsFalse(cJSON_GetObjectItem(state_deployment(st, pid, "development"),
	    "sendLogsToClient")));
	s = rec_stats(e);
	assert_int_equal(stat_count(s, "PATCH /deployments/{name}", NULL), 2);
	assert_int_equal(stat_count(s, "PATCH /projects/{id}", NULL), 1);
	assert_int_equal(stat_count(s, "POST /projects/{id}/create_deployment", NULL), 1);
	cJSON_Delete(s);

	/* The ledger follows the renames. */
	assert_string_equal(ledger_find_project(&r.ledger, pid)->name, "shop");
	assert_string_equal(ledger_find_deployment(&r.ledger, prod_name)->reference, "main");
	assert_string_equal(ledger_find_deployment(&r.ledger, prod_name)->project, "shop");
	assert_true(ledger_find_deployment(&r.ledger,
	    r.results[blue].deployment_name)->created);

	/* The trail: op, and the changes with from and to. */
	lines = audit_lines(e->audit_path);
	assert_non_null(lines);
	assert_int_equal(cJSON_GetArraySize(lines), 4);
	cJSON_ArrayForEach(l, lines) {
		const cJSON *ch = cJSON_GetObjectItem(l, "changes");

		assert_string_equal(json_str(l, "result"), "ok");
		if (strcmp(json_str(l, "op"), "rename") == 0) {
			renames++;
			assert_non_null(ch);
			if (strcmp(json_str(l, "kind"), "project") == 0) {
				assert_string_equal(json_str(cJSON_GetObjectItem(ch, "name"), "from"), "p1");
				assert_int_equal(json_i64(l, "projectId"), pid);
			} else {
				assert_string_equal(json_str(l, "name"), prod_name);
				assert_string_equal(json_str(cJSON_GetObjectItem(ch, "reference"), "to"), "main");
				assert_true(cJSON_IsFalse(cJSON_GetObjectItem(
				    cJSON_GetObjectItem(ch, "default"), "to")));
			}
		} else if (strcmp(json_str(l, "op"), "update") == 0) {
			updates++;
			assert_non_null(cJSON_GetObjectItem(ch, "send_logs_to_client"));
		} else {
			assert_null(ch);
		}
	}
	assert_int_equal(renames, 2);
	assert_int_equal(updates, 1);
	cJSON_Delete(lines);
	cJSON_Delete(st);
	run_free(&r);

	/* Swap back, with the unset refused: the set is never sent. */
	run_init(&r, e);
	p = ds_project(&r.ds, "shop");
	ds_deployment(p, "main", DEP_PROD)->is_default = TRI_TRUE;
	ds_deployment(p, "blue", DEP_PROD);
	run_plan(&r);
	assert_int_equal(r.plan.n_actions, 2);
	ren_d = find_action(&r.plan, PLAN_UPDATE, PLAN_DEPLOYMENT, "shop", "blue");
	blue = find_action(&r.plan, PLAN_UPDATE, PLAN_DEPLOYMENT, "shop", "main");
	assert_int_equal(r.plan.actions[blue].parent, ren_d);
	rec_admin_post(e, "/_sim/script", "{\"route\": \"PATCH /deployments/{name}\", "
	    "\"responses\": [{\"status\": 400, \"body\": \"{\\\"code\\\":\\\"BadRequest\\\","
	    "\\\"message\\\":\\\"not now\\\"}\"}]}");
	s = rec_stats(e);
	updates = (int)stat_count(s, "PATCH /deployments/{name}", NULL);
	cJSON_Delete(s);
	run_start(&r, 0);
	run_wait(&r);
	expect_state(&r, ren_d, ACTION_FAILED);
	assert_non_null(strstr(r.results[ren_d].error, "HTTP 400 BadRequest: not now"));
	assert_non_null(strstr(r.results[ren_d].error, "PATCH /deployments/"));
	expect_state(&r, blue, ACTION_SKIPPED);
	assert_string_equal(r.results[blue].error,
	    "not started: the old default could not be unset first");
	s = rec_stats(e);
	assert_int_equal(stat_count(s, "PATCH /deployments/{name}", NULL), updates + 1);
	cJSON_Delete(s);
	run_free(&r);
	rec_stop(e);
}


/* ---- a deploy key whose secret was lost (SPEC sections 9 and 11) ---------- */

/*
 * The plan replaces a key: its delete, then its create as the delete's
 * child. The create goes only once the delete is done (the key's name is
 * free again), the new secret lands in its file, the ledger records it.
 * With the delete refused, the create is skipped, never sent, and the old
 * key stays.
 */
static void
check_key_replaced(struct rec_env *e, int64_t pid, const char *dep, bool refuse)
{
	struct run r;
	struct plan_action *a;
	struct execute_paths paths = { NULL, NULL, NULL };
	char keys_dir[300], file[1600];
	long del0, cre0;
	struct stat st;
	cJSON *s;

	run_init(&r, e);
	r.plan.actions = calloc(2, sizeof(*r.plan.actions));
	assert_non_null(r.plan.actions);
	r.plan.n_actions = 2;
	for (int i = 0; i < 2; i++) {
		a = &r.plan.actions[i];
		a->op = i == 0 ? PLAN_DELETE : PLAN_CREATE;
		a->kind = PLAN_DEPLOY_KEY;
		a->reason = REASON_DECLARED;
		a->project = "p1";
		a->project_id = pid;
		a->reference = "production";
		a->deployment_name = dep;
		a->key_name = "seed-key-1";
		a->parent = i == 0 ? PLAN_NO_PARENT : 0;
	}
	r.results = calloc(3, sizeof(*r.results));
	assert_non_null(r.results);
	snprintf(keys_dir, sizeof(keys_dir), "%s/keys", e->dir);
	paths.keys_dir = keys_dir;
	assert_int_equal(keyfile_path(file, sizeof(file), keys_dir, "p1", "production",
	    "seed-key-1"), 0);
	s = rec_stats(e);
	del0 = stat_count(s, "POST /deployments/{name}/delete_deploy_key", NULL);
	cre0 = stat_count(s, "POST /deployments/{name}/create_deploy_key", NULL);
	cJSON_Delete(s);
	if (refuse)
		rec_admin_post(e, "/_sim/config", "{\"routes\":{\"POST /deployments/"
		    "{name}/delete_deploy_key\":{\"errorRate\":1}}}");
	assert_int_equal(execute_start(&e->loop, e->c, 1, 4, &r.plan, &r.ledger,
	    &paths, r.results, on_action, on_done, &r, &r.x), 0);
	run_wait(&r);
	if (refuse)
		rec_admin_post(e, "/_sim/config", "{\"routes\":{\"POST /deployments/"
		    "{name}/delete_deploy_key\":null}}");
	s = rec_stats(e);
	assert_int_equal(stat_count(s, "POST /deployments/{name}/create_deploy_key", NULL) - cre0,
	    refuse ? 0 : 1);
	assert_true(stat_count(s, "POST /deployments/{name}/delete_deploy_key", NULL) - del0 >= 1);
	cJSON_Delete(s);
	if (refuse) {
		expect_state(&r, 0, ACTION_FAILED);
		expect_state(&r, 1, ACTION_SKIPPED);
		assert_non_null(strstr(r.results[1].error, "secret was lost"));
		assert_int_not_equal(access(file, F_OK), 0);
		assert_null(ledger_find_deploy_key(&r.ledger, dep, "seed-key-1"));
	} else {
		expect_state(&r, 0, ACTION_OK);
		expect_state(&r, 1, ACTION_OK);
		assert_true(ended_at(&r, 0) < ended_at(&r, 1));
		assert_int_equal(stat(file, &st), 0);
		assert_int_equal(st.st_mode & 0777, 0600);
		assert_true(st.st_size > 0);
		assert_non_null(ledger_find_deploy_key(&r.ledger, dep, "seed-key-1"));
	}
	/* The plan's strings are the caller's: only the arrays go. */
	run_free(&r);
}

static void
test_key_replaced_after_its_delete(void **state)
{
	struct rec_env *e = rec_start(NULL);
	const cJSON *d;
	char dep[64];
	int64_t pid;
	cJSON *st;
	(void)state;

	rec_client(e);
	rec_admin_post(e, "/_sim/seed", "{\"projects\":1,\"deploymentsPerProject\":1,"
	    "\"prefix\":\"p\",\"deployKeysPerDeployment\":1}");
	st = rec_state(e);
	pid = state_project_id(st, "p1");
	d = state_deployment(st, pid, "production");
	assert_non_null(d);
	snprintf(dep, sizeof(dep), "%s", json_str(d, "name"));
	cJSON_Delete(st);
	check_key_replaced(e, pid, dep, true);
	check_key_replaced(e, pid, dep, false);
	rec_stop(e);
}

/*
 * A domain moved to a deployment created in this plan, off a deployment
 * deleted in it (plan.c, domain_moves): the domain's create waits for the
 * delete, the delete for the new deployment's create. The delete still
 * runs in its own phase (after every create, an unrelated one included),
 * the domain's create after it, on the new deployment's name. When the
 * new deployment cannot be made, the delete and the domain's create are
 * skipped: the domain stays where it was.
 */
static void
check_domain_follows(struct rec_env *e, int64_t pid, const char *old_dep,
    const char *domain, bool refuse)
{
	struct run r;
	struct plan_action *a;
	struct desired_project *p;
	struct desired_deployment *staging, *qa;
	struct execute_paths paths = { NULL, NULL, NULL };
	const cJSON *d;
	cJSON *st;

	run_init(&r, e);
	p = ds_project(&r.ds, "p1");
	ds_deployment(p, "staging", DEP_DEV);
	ds_deployment(p, "qa-1", DEP_DEV);
	staging = &p->deployments[0];
	qa = &p->deployments[1];
	r.plan.actions = calloc(4, sizeof(*r.plan.actions));
	assert_non_null(r.plan.actions);
	r.plan.n_actions = 4;
	for (int i = 0; i < 4; i++) {
		a = &r.plan.actions[i];
		a->project = "p1";
		a->project_id = pid;
		a->reason = REASON_DECLARED;
		a->parent = PLAN_NO_PARENT;
	}
	a = &r.plan.actions[0];
	a->op = PLAN_CREATE;
	a->kind = PLAN_DEPLOYMENT;
	a->reference = "staging";
	a->want = staging;
	a = &r.plan.actions[1];
	a->op = PLAN_CREATE;
	a->kind = PLAN_DEPLOYMENT;
	a->reference = "qa-1";
	a->want = qa;
	a = &r.plan.actions[2];
	a->op = PLAN_DELETE;
	a->kind = PLAN_DEPLOYMENT;
	a->reason = REASON_PRUNE;
	a->reference = "development";
	a->deployment_name = old_dep;
	a->parent = 0;
	a = &r.plan.actions[3];
	a->op = PLAN_CREATE;
	a->kind = PLAN_DOMAIN;
	a->reference = "staging";
	a->domain = domain;
	a->destination = DESIRED_DEST_CONVEX_CLOUD;
	a->parent = 2;
	r.results = calloc(5, sizeof(*r.results));
	assert_non_null(r.results);
	if (refuse)
		rec_admin_post(e, "/_sim/config", "{\"routes\":{\"POST /projects/"
		    "{id}/create_deployment\":{\"errorRate\":1}}}");
	assert_int_equal(execute_start(&e->loop, e->c, 1, 4, &r.plan, &r.ledger,
	    &paths, r.results, on_action, on_done, &r, &r.x), 0);
	run_wait(&r);
	if (refuse)
		rec_admin_post(e, "/_sim/config", "{\"routes\":{\"POST /projects/"
		    "{id}/create_deployment\":null}}");
	st = rec_state(e);
	if (refuse) {
		/* The delete was planned for its own sake: it goes all the
		 * same (seed 112223); the domain has nowhere to go. */
		expect_state(&r, 0, ACTION_FAILED);
		expect_state(&r, 2, ACTION_OK);
		expect_state(&r, 3, ACTION_SKIPPED);
		assert_string_equal(r.results[3].error,
		    "not started: its deployment could not be created");
		assert_null(state_deployment(st, pid, "development"));
	} else {
		for (size_t i = 0; i < 4; i++)
			expect_state(&r, i, ACTION_OK);
		/* The delete after both creates (its phase), the domain after it. */
		assert_true(ended_at(&r, 2) > ended_at(&r, 0));
		assert_true(ended_at(&r, 2) > ended_at(&r, 1));
		assert_true(ended_at(&r, 3) > ended_at(&r, 2));
		assert_null(state_deployment(st, pid, "development"));
		d = state_deployment(st, pid, "staging");
		assert_non_null(d);
		assert_string_equal(json_str(cJSON_GetArrayItem(
		    cJSON_GetObjectItemCaseSensitive(d, "customDomains"), 0), "domain"),
		    domain);
	}
	cJSON_Delete(st);
	execute_results_free(r.results, r.plan.n_actions);
	free(r.plan.actions);
	desired_state_free(&r.ds);
	ledger_free(&r.ledger);
}

static void
test_domain_follows_new_deployment(void **state)
{
	const char *args[] = { "--latency", "20", NULL };
	struct rec_env *e = rec_start(args);
	(void)state;

	rec_client(e);
	rec_admin_post(e, "/_sim/seed", "{\"projects\":2,\"deploymentsPerProject\":2,"
	    "\"prefix\":\"p\",\"domainsPerDeployment\":1}");
	for (int refuse = 1; refuse >= 0; refuse--) {
		const char *project = refuse ? "p2" : "p1";
		const cJSON *d;
		char dep[64], domain[128];
		int64_t pid;
		cJSON *st = rec_state(e);

		pid = state_project_id(st, project);
		d = state_deployment(st, pid, "development");
		assert_non_null(d);
		snprintf(dep, sizeof(dep), "%s", json_str(d, "name"));
		snprintf(domain, sizeof(domain), "d1.%s.example.com", dep);
		cJSON_Delete(st);
		check_domain_follows(e, pid, dep, domain, refuse);
	}
	rec_stop(e);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_phases_in_order),
		cmocka_unit_test(test_updates_swap_and_rename),
		cmocka_unit_test(test_children_start_when_parent_known),
		cmocka_unit_test(test_failed_project_skips_children),
		cmocka_unit_test(test_stop_while_queued),
		cmocka_unit_test(test_limit_1),
		cmocka_unit_test(test_limit_4),
		cmocka_unit_test(test_limit_16),
		cmocka_unit_test(test_ledger_and_audit),
		cmocka_unit_test(test_delete_404_is_done),
		cmocka_unit_test(test_ambiguous_creates),
		cmocka_unit_test(test_key_replaced_after_its_delete),
		cmocka_unit_test(test_domain_follows_new_deployment),
	};

	log_init(LOG_LVL_INFO, LOG_FMT_TEXT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
