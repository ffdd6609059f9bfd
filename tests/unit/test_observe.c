/* test_observe.c: the observation (daemon/reconcile/observe.c) on a real
 * loop against convex-api-sim: a complete view from several pages of both
 * listings, the two cursor chains running at the same time, the legacy API
 * listed per project only for the projects that matter (per prune mode),
 * local deployments ignored, and every failure (all requests failing, a
 * failure after pages already arrived, a stalled per-project listing) giving
 * rc < 0, an error naming the request and an empty state: never a partial
 * view (SPEC section 5, "Observe"). */
#include "test_reconcile_common.h"

#include "ledger.h"
#include "observe.h"

struct obs {
	int calls;
	int rc;
	bool has_error;
	char error[800];
	struct observed_state os;
};

static void
on_observed(void *arg, int rc, const char *error, struct observed_state *os)
{
	struct obs *o = arg;

	o->calls++;
	o->rc = rc;
	o->has_error = error != NULL;
	snprintf(o->error, sizeof(o->error), "%s", error ? error : "");
	assert_non_null(os);
	o->os = *os;
	memset(os, 0, sizeof(*os));
}

/* Observes once and waits (timeout_ms at most) for the one callback. */
static void
observe(struct rec_env *e, const struct desired_state *ds, const struct ledger *l,
    enum prune_mode prune, struct obs *o, uint64_t timeout_ms)
{
	memset(o, 0, sizeof(*o));
	assert_int_equal(observe_start(e->c, 1, ds, l, prune, on_observed, o), 0);
	assert_int_equal(o->calls, 0);          /* never from inside the call */
	rec_run_until(e, &o->calls, 1, timeout_ms);
	run_for(&e->loop, 30);
	assert_int_equal(o->calls, 1);          /* exactly once */
}

static void
expect_empty(const struct obs *o)
{
	assert_true(o->rc < 0);
	assert_true(o->has_error);
	assert_null(o->os.projects);
	assert_int_equal(o->os.n_projects, 0);
	assert_null(o->os.deployments);
	assert_int_equal(o->os.n_deployments, 0);
}

static const struct observed_project *
find_project(const struct observed_state *os, int64_t id)
{
	for (size_t i = 0; i < os->n_projects; i++)
		if (os->projects[i].id == id)
			return &os->projects[i];
	return NULL;
}

static const struct observed_deployment *
find_deployment(const struct observed_state *os, const char *name)
{
	for (size_t i = 0; i < os->n_deployments; i++)
		if (strcmp(os->deployments[i].name, name) == 0)
			return &os->deployments[i];
	return NULL;
}

/* The observation holds exactly the simulator's projects and the cloud
 * deployments of `listed` (NULL: of every project), field for field, each
 * once. */
static void
expect_view(struct rec_env *e, const struct observed_state *os,
    const int64_t *listed, size_t n_listed)
{
	cJSON *st = rec_state(e);
	const cJSON *p, *d;
	size_t want_deps = 0;

	assert_int_equal(os->n_projects, state_count(st, "projects"));
	cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(st, "projects")) {
		const struct observed_project *o = find_project(os, json_i64(p, "id"));

		if (o == NULL)
			fail_msg("project %lld missing from the view", (long long)json_i64(p, "id"));
		assert_string_equal(o->name, json_str(p, "name"));
		assert_string_equal(o->slug, json_str(p, "slug"));
	}
	cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(st, "deployments")) {
		const struct observed_deployment *o = find_deployment(os, json_str(d, "name"));
		int64_t pid = json_i64(d, "projectId");
		bool wanted = listed == NULL;
		enum dep_type t;

		for (size_t i = 0; i < n_listed; i++)
			wanted |= listed[i] == pid;
		if (strcmp(json_str(d, "kind"), "local") == 0) {
			if (o != NULL)
				fail_msg("local deployment %s in the view", json_str(d, "name"));
			continue;
		}
		if (!wanted) {
			if (o != NULL)
				fail_msg("deployment %s of project %lld listed", o->name,
				    (long long)pid);
			continue;
		}
		if (o == NULL)
			fail_msg("deployment %s missing from the view", json_str(d, "name"));
		want_deps++;
		assert_int_equal(o->id, json_i64(d, "id"));
		assert_int_equal(o->project_id, pid);
		assert_string_equal(o->reference, json_str(d, "reference"));
		assert_int_equal(dep_type_parse(json_str(d, "deploymentType"), &t), 0);
		assert_int_equal(o->type, t);
		assert_string_equal(o->region, json_str(d, "region"));
		assert_string_equal(o->class_name, json_str(d, "class"));
		assert_int_equal(o->is_default,
		    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(d, "isDefault")));
	}
	/* Nothing else, nothing twice (find_deployment found every name). */
	assert_int_equal(os->n_deployments, want_deps);
	for (size_t i = 0; i < os->n_deployments; i++)
		for (size_t j = i + 1; j < os->n_deployments; j++)
			assert_int_not_equal(os->deployments[i].id, os->deployments[j].id);
	for (size_t i = 0; i < os->n_projects; i++)
		for (size_t j = i + 1; j < os->n_projects; j++)
			assert_int_not_equal(os->projects[i].id, os->projects[j].id);
	cJSON_Delete(st);
}

/* Local deployments (the API cannot create them) in projects a and b. */
static void
add_local_deployments(struct rec_env *e, int64_t a, int64_t b)
{
	char extra[512];

	snprintf(extra, sizeof(extra),
	    "[{\"kind\":\"local\",\"name\":\"local-anna-laptop\",\"projectId\":%lld,"
	    "\"deviceName\":\"anna-laptop\",\"port\":3210,\"isActive\":true},"
	    "{\"kind\":\"local\",\"name\":\"local-ben-desktop\",\"projectId\":%lld,"
	    "\"deviceName\":\"ben-desktop\",\"port\":3211,\"isActive\":false}]",
	    (long long)a, (long long)b);
	rec_reset_with(e, extra);
}

/* ---- a complete view ----------------------------------------------------------- */

/*
 * 230 projects with two deployments each (3 pages of projects, 5 of
 * deployments, local ones among them), with 40 ms of latency per request:
 * every project and cloud deployment once, the local ones left out, and the
 * two chains overlapping at the simulator (two requests held at once; one
 * chain after the other would never hold more than one).
 */
static void
test_complete_view_paginated(void **state)
{
	const char *args[] = { "--latency", "40", NULL };
	struct rec_env *e = rec_start(args);
	struct desired_state ds = { 0 };
	struct obs o;
	cJSON *st, *s;
	(void)state;

	rec_client(e);
	rec_admin_post(e, "/_sim/seed",
	    "{\"projects\":230,\"deploymentsPerProject\":2,\"prefix\":\"p\"}");
	st = rec_state(e);
	add_local_deployments(e, state_project_id(st, "p1"), state_project_id(st, "p230"));
	cJSON_Delete(st);
	ds_project(&ds, "p1");

	observe(e, &ds, NULL, PRUNE_NONE, &o, 20000);
	assert_int_equal(o.rc, 0);
	assert_false(o.has_error);
	assert_int_equal(o.os.n_projects, 230);
	assert_int_equal(o.os.n_deployments, 460);
	expect_view(e, &o.os, NULL, 0);
	assert_null(find_deployment(&o.os, "local-anna-laptop"));

	s = rec_stats(e);
	assert_int_equal(stat_count(s, "GET /teams/{team}/projects", "200"), 3);
	assert_int_equal(stat_count(s, "GET /teams/{team}/list_deployments", "200"), 5);
	assert_int_equal(stat_num(s, "total", NULL), 8);
	assert_int_equal(stat_num(s, "max_in_flight", NULL), 2);
	cJSON_Delete(s);
	observed_state_free(&o.os);
	desired_state_free(&ds);
	rec_stop(e);
}

/* ---- legacy: per project, only where it matters ---------------------------------- */

/*
 * An API without the team-wide routes: the deployments are listed per
 * project, for the declared projects and the prune candidates only:
 *   none   p1, p2 (declared; p9 is declared but not live)
 *   owned  p1, p2, p3 (the ledger says p3 was created by this tool; p4 is
 *          in the ledger only for its protect mark)
 *   all    p1 .. p5
 * The first observation finds out that the routes are missing (one 404
 * each), the later ones remember it.
 */
static void
check_legacy(struct rec_env *e, const struct desired_state *ds,
    const struct ledger *l, enum prune_mode prune, const int64_t *want, size_t n_want, bool first)
{
	struct obs o;
	long before, before_team, before_paged;
	cJSON *s = rec_stats(e);

	before = stat_count(s, "GET /projects/{id}/list_deployments", NULL);
	before_team = stat_count(s, "GET /teams/{team}/list_deployments", NULL);
	before_paged = stat_count(s, "GET /teams/{team}/projects", NULL);
	cJSON_Delete(s);
	assert_int_equal(api_legacy_deployments(e->c), !first);

	observe(e, ds, l, prune, &o, 20000);
	if (o.rc != 0)
		fail_msg("prune %s: %s", prune_mode_name(prune), o.error);
	assert_int_equal(o.os.n_projects, 5);
	assert_int_equal(o.os.n_deployments, 2 * n_want);
	expect_view(e, &o.os, want, n_want);
	for (size_t i = 0; i < n_want; i++) {
		int n = 0;

		for (size_t k = 0; k < o.os.n_deployments; k++)
			n += o.os.deployments[k].project_id == want[i];
		assert_int_equal(n, 2);
	}

	s = rec_stats(e);
	/* One listing per project that matters, no more. */
	assert_int_equal(stat_count(s, "GET /projects/{id}/list_deployments", "200") -
	    before, (long)n_want);
	assert_int_equal(stat_count(s, "GET /projects/{id}/list_deployments", NULL) -
	    before, (long)n_want);
	assert_int_equal(stat_count(s, "GET /teams/{team}/list_deployments", NULL) -
	    before_team, first ? 1 : 0);
	assert_int_equal(stat_count(s, "GET /teams/{team}/projects", NULL) -
	    before_paged, first ? 1 : 0);
	cJSON_Delete(s);
	assert_true(api_legacy_deployments(e->c));
	observed_state_free(&o.os);
}

static void
test_legacy_lists_what_matters(void **state)
{
	const char *args[] = { "--legacy", NULL };
	struct rec_env *e = rec_start(args);
	struct desired_state ds = { 0 }, nothing_live = { 0 };
	struct ledger l = { 0 };
	struct obs o;
	int64_t id[6];
	char name[8];
	cJSON *st, *s;
	long before;
	(void)state;

	rec_client(e);
	rec_admin_post(e, "/_sim/seed",
	    "{\"projects\":5,\"deploymentsPerProject\":2,\"prefix\":\"p\"}");
	st = rec_state(e);
	for (int i = 1; i <= 5; i++) {
		snprintf(name, sizeof(name), "p%d", i);
		id[i] = state_project_id(st, name);
	}
	cJSON_Delete(st);
	add_local_deployments(e, id[1], id[5]);
	ds_project(&ds, "p1");
	ds_project(&ds, "p2");
	ds_project(&ds, "p9");
	assert_int_equal(ledger_add_project(&l, id[3], "p3"), 0);
	assert_int_equal(ledger_add_project(&l, id[4], "p4"), 0);
	ledger_find_project(&l, id[4])->created = false;
	ledger_find_project(&l, id[4])->protect = true;

	{
		const int64_t none[] = { id[1], id[2] };
		const int64_t owned[] = { id[1], id[2], id[3] };
		const int64_t all[] = { id[1], id[2], id[3], id[4], id[5] };

		check_legacy(e, &ds, &l, PRUNE_NONE, none, 2, true);
		check_legacy(e, &ds, &l, PRUNE_OWNED, owned, 3, false);
		check_legacy(e, &ds, &l, PRUNE_ALL, all, 5, false);
	}

	/* Nothing declared is live and nothing may be pruned: no listing at
	 * all, and a complete (empty) set of deployments. */
	ds_project(&nothing_live, "p9");
	s = rec_stats(e);
	before = stat_count(s, "GET /projects/{id}/list_deployments", NULL);
	cJSON_Delete(s);
	observe(e, &nothing_live, &l, PRUNE_NONE, &o, 20000);
	assert_int_equal(o.rc, 0);
	assert_int_equal(o.os.n_projects, 5);
	assert_int_equal(o.os.n_deployments, 0);
	s = rec_stats(e);
	assert_int_equal(stat_count(s, "GET /projects/{id}/list_deployments", NULL), before);
	cJSON_Delete(s);
	observed_state_free(&o.os);

	ledger_free(&l);
	desired_state_free(&ds);
	desired_state_free(&nothing_live);
	rec_stop(e);
}

/* ---- failures: an error, never a partial view ---------------------------------- */

/* Every request answered 5xx, two tries each: the first failure is the
 * error, and neither chain goes past its first page. */
static void
test_every_request_fails(void **state)
{
	const char *args[] = { "--error-rate", "1", NULL };
	struct rec_env *e = rec_start(args);
	struct desired_state ds = { 0 };
	struct obs o;
	cJSON *s;
	(void)state;

	e->cfg.max_tries = 2;
	rec_client(e);
	rec_admin_post(e, "/_sim/seed",
	    "{\"projects\":150,\"deploymentsPerProject\":1,\"prefix\":\"p\"}");
	ds_project(&ds, "p1");
	observe(e, &ds, NULL, PRUNE_ALL, &o, 20000);
	assert_int_equal(o.rc, -EIO);
	expect_empty(&o);
	print_message("error: %s\n", o.error);
	assert_true(starts_with(o.error, "listing the team's projects: HTTP 50") ||
	    starts_with(o.error, "listing the team's deployments: HTTP 50"));
	assert_non_null(strstr(o.error, "(GET /teams/1/"));
	assert_non_null(strstr(o.error, "2 attempts"));
	s = rec_stats(e);
	assert_int_equal(stat_count(s, "GET /teams/{team}/projects", NULL), 2);
	assert_int_equal(stat_count(s, "GET /teams/{team}/list_deployments", NULL), 2);
	assert_int_equal(stat_num(s, "total", NULL), 4);
	cJSON_Delete(s);
	desired_state_free(&ds);
	rec_stop(e);
}

/* After the first page arrives, every request fails. */
static void
fail_from_now_on(struct rec_env *e, const char *route, int status)
{
	(void)route;
	if (status == 200 && e->hook_fired++ == 0)
		rec_admin_post(e, "/_sim/config", "{\"errorRate\":1}");
}

/*
 * Pages already arrived when the listing fails: 230 projects and 460
 * deployments, and from the first answer on every request fails. The pages
 * received are thrown away: an error and an empty state.
 */
static void
test_failure_after_some_pages(void **state)
{
	const char *args[] = { "--latency", "60", NULL };
	struct rec_env *e = rec_start(args);
	struct desired_state ds = { 0 };
	struct obs o;
	long ok, failed;
	cJSON *s;
	(void)state;

	e->cfg.max_tries = 2;
	e->hook = fail_from_now_on;
	rec_client(e);
	rec_admin_post(e, "/_sim/seed",
	    "{\"projects\":230,\"deploymentsPerProject\":2,\"prefix\":\"p\"}");
	ds_project(&ds, "p1");
	observe(e, &ds, NULL, PRUNE_ALL, &o, 20000);
	assert_int_equal(o.rc, -EIO);
	expect_empty(&o);
	assert_true(starts_with(o.error, "listing the team's "));
	assert_non_null(strstr(o.error, "(GET /teams/1/"));
	s = rec_stats(e);
	ok = stat_count(s, "GET /teams/{team}/projects", "200") +
	    stat_count(s, "GET /teams/{team}/list_deployments", "200");
	failed = stat_num(s, "faults", "error");
	print_message("%ld pages arrived, %ld answers failed: %s\n", ok, failed, o.error);
	assert_true(ok >= 1);           /* something had arrived */
	assert_true(ok < 8);            /* and not everything */
	assert_true(failed >= 2);       /* one page, both tries */
	cJSON_Delete(s);
	desired_state_free(&ds);
	rec_stop(e);
}

/* After the first page of deployments, every request fails. */
static void
fail_after_deployments_page(struct rec_env *e, const char *route, int status)
{
	if (status == 200 && strcmp(route, "GET /teams/{team}/list_deployments") == 0 &&
	    e->hook_fired++ == 0)
		rec_admin_post(e, "/_sim/config", "{\"errorRate\":1}");
}

/*
 * One chain complete, the other failing: 50 projects (one page, answered
 * with the first page of deployments) and 250 deployments (three pages; the
 * second fails). The complete project listing is not handed out either.
 */
static void
test_one_chain_fails(void **state)
{
	const char *args[] = { "--latency", "100", NULL };
	struct rec_env *e = rec_start(args);
	struct desired_state ds = { 0 };
	struct obs o;
	cJSON *s;
	(void)state;

	e->cfg.max_tries = 2;
	e->hook = fail_after_deployments_page;
	rec_client(e);
	rec_admin_post(e, "/_sim/seed",
	    "{\"projects\":50,\"deploymentsPerProject\":5,\"prefix\":\"p\"}");
	ds_project(&ds, "p1");
	observe(e, &ds, NULL, PRUNE_NONE, &o, 20000);
	assert_int_equal(o.rc, -EIO);
	expect_empty(&o);
	assert_true(starts_with(o.error, "listing the team's deployments: HTTP 50"));
	assert_non_null(strstr(o.error, "(GET /teams/1/list_deployments, 2 attempts)"));
	s = rec_stats(e);
	/* Every project had arrived. */
	assert_int_equal(stat_count(s, "GET /teams/{team}/projects", "200"), 1);
	assert_int_equal(stat_count(s, "GET /teams/{team}/projects", NULL), 1);
	assert_int_equal(stat_count(s, "GET /teams/{team}/list_deployments", "200"), 1);
	assert_int_equal(stat_count(s, "GET /teams/{team}/list_deployments", NULL), 3);
	cJSON_Delete(s);
	desired_state_free(&ds);
	rec_stop(e);
}

/*
 * Legacy API, the per-project listings stall (10 s) past the client's
 * timeout (1.5 s, one try, room for a loaded machine): rc -ETIMEDOUT
 * within the timeout, not the stall; the error names the per-project listing; the projects that were
 * listed are not handed out.
 */
static void
test_stalled_project_listing(void **state)
{
	const char *args[] = { "--legacy", NULL };
	struct rec_env *e = rec_start(args);
	struct desired_state ds = { 0 };
	struct obs o;
	cJSON *s;
	(void)state;

	e->cfg.request_timeout_ms = 1500;
	e->cfg.max_tries = 1;
	rec_client(e);
	/* Only the per-project listings stall: a global knob switched on once
	 * the projects were listed also caught the team listing when the two
	 * chains ran in another order on a loaded machine. */
	rec_admin_post(e, "/_sim/config", "{\"routes\":{\"GET /projects/{id}/list_deployments\":"
	    "{\"stallRate\":1,\"stallMs\":10000}}}");
	rec_admin_post(e, "/_sim/seed",
	    "{\"projects\":3,\"deploymentsPerProject\":2,\"prefix\":\"p\"}");
	ds_project(&ds, "p1");
	ds_project(&ds, "p2");
	observe(e, &ds, NULL, PRUNE_NONE, &o, 8000);
	assert_int_equal(o.rc, -ETIMEDOUT);
	expect_empty(&o);
	print_message("error: %s\n", o.error);
	assert_true(starts_with(o.error, "listing a project's deployments: Timeout"));
	assert_non_null(strstr(o.error, "/list_deployments, 1 attempt)"));
	s = rec_stats(e);
	assert_int_equal(stat_count(s, "GET /teams/{team}/list_projects", "200"), 1);
	/* The two listings are still held by the simulator: the client gave
	 * up on them. */
	assert_int_equal(stat_num(s, "in_flight", NULL), 2);
	assert_int_equal(stat_num(s, "faults", "stall"), 2);
	cJSON_Delete(s);
	desired_state_free(&ds);
	rec_stop(e);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_complete_view_paginated),
		cmocka_unit_test(test_legacy_lists_what_matters),
		cmocka_unit_test(test_every_request_fails),
		cmocka_unit_test(test_failure_after_some_pages),
		cmocka_unit_test(test_one_chain_fails),
		cmocka_unit_test(test_stalled_project_listing),
	};

	log_init(LOG_LVL_INFO, LOG_FMT_TEXT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
