/* test_api_sim.c: the API client against convex-api-sim: every typed call,
 * pagination, legacy fallback, retries counted by the simulator, Retry-After,
 * error mapping, ambiguous creates, limits, timeouts, cancellation and the
 * concurrency bound over 2,000 requests. */
#include "test_api_common.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "api_update.h"
#include "support/sim_harness.h"

struct event {
	int status;
	double start_ms;
	double end_ms;
};

struct env {
	uv_loop_t loop;
	struct sim sim;
	struct api_client *c;
	struct api_config cfg;
	int requests;           /* on_request calls */
	int by_status[600];
	char last_route[128];
	struct event events[64];/* the first 64 exchanges */
};

static void
on_request(void *arg, const char *route, int status, double seconds)
{
	struct env *e = arg;
	double now = (double)uv_hrtime() / 1e6;

	assert_true(seconds >= 0);
	if (e->requests < 64) {
		e->events[e->requests].status = status;
		e->events[e->requests].end_ms = now;
		e->events[e->requests].start_ms = now - seconds * 1000;
	}
	e->requests++;
	if (status >= 0 && status < 600)
		e->by_status[status]++;
	snprintf(e->last_route, sizeof(e->last_route), "%s", route);
}

static struct env *
env_start(const char *const *args)
{
	struct env *e = calloc(1, sizeof(*e));

	assert_non_null(e);
	assert_int_equal(uv_loop_init(&e->loop), 0);
	assert_int_equal(sim_start(&e->sim, args), 0);
	test_config(&e->cfg, e->sim.url, e->sim.token);
	e->cfg.on_request = on_request;
	e->cfg.on_request_arg = e;
	return e;
}

static void
env_client(struct env *e)
{
	struct api_error err;

	assert_int_equal(api_client_new(&e->loop, &e->cfg, &e->c, &err), 0);
}

static void
env_stop(struct env *e)
{
	close_client_and_loop(&e->loop, e->c);
	assert_int_equal(sim_stop(&e->sim), 0);
	free(e);
}

static void
admin_post(struct env *e, const char *path, const char *json)
{
	struct sim_response r;

	assert_int_equal(sim_admin_post(&e->sim, path, json, &r), 0);
	if (r.status != 200)
		fail_msg("POST %s: %ld %s", path, r.status, r.body);
	sim_response_free(&r);
}

static cJSON *
stats(struct env *e)
{
	struct sim_response r;
	cJSON *j;

	assert_int_equal(sim_admin_get(&e->sim, "/_sim/stats", &r), 0);
	assert_int_equal(r.status, 200);
	j = cJSON_Parse(r.body);
	assert_non_null(j);
	sim_response_free(&r);
	return j;
}

/* Count of answers with this status ("200", "drop", or NULL for all) on a
 * route template. */
static long
stat_count(const cJSON *s, const char *route, const char *status)
{
	const cJSON *req = cJSON_GetObjectItemCaseSensitive(s, "requests");
	const cJSON *r = cJSON_GetObjectItemCaseSensitive(req, route), *v;
	long n = 0;

	if (r == NULL)
		return 0;
	if (status != NULL) {
		v = cJSON_GetObjectItemCaseSensitive(r, status);
		return v ? (long)v->valuedouble : 0;
	}
	cJSON_ArrayForEach(v, r)
		n += (long)v->valuedouble;
	return n;
}

static long
stat_num(const cJSON *s, const char *a, const char *b)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(s, a);

	if (b != NULL)
		v = cJSON_GetObjectItemCaseSensitive(v, b);
	assert_non_null(v);
	return (long)v->valuedouble;
}

/* ---- typed calls ----------------------------------------------------------- */

static void
test_token_details(void **state)
{
	const char *args[] = { "--team-id", "41", NULL };
	struct env *e = env_start(args);
	struct res r = { 0 };
	(void)state;

	env_client(e);
	assert_int_equal(api_token_details(e->c, res_token, &r), 0);
	assert_int_equal(r.calls, 0);           /* never from inside the call */
	run_until(&e->loop, &r.calls, 1, 60000);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.id, 41);
	assert_false(r.has_err);
	assert_int_equal(e->requests, 1);
	assert_string_equal(e->last_route, "GET /token_details");
	env_stop(e);
}

static void
test_project_token_refused(void **state)
{
	const char *args[] = { "--project-token", "9", NULL };
	struct env *e = env_start(args);
	struct res r = { 0 };
	char line[1024];
	(void)state;

	env_client(e);
	assert_int_equal(api_token_details(e->c, res_token, &r), 0);
	run_until(&e->loop, &r.calls, 1, 60000);
	assert_int_equal(r.rc, -EPERM);
	assert_string_equal(r.err.code, "ProjectToken");
	assert_non_null(strstr(r.err.message, "project token"));
	assert_non_null(strstr(r.err.message, "team access token"));
	api_error_format(&r.err, line, sizeof(line));
	assert_non_null(strstr(line, "GET /token_details"));

	/* Team routes answer 403 to it: reported with the API's message
	 * (which names the permission), never retried. */
	memset(&r, 0, sizeof(r));
	assert_int_equal(api_list_projects(e->c, 1, res_projects, &r), 0);
	run_until(&e->loop, &r.calls, 1, 60000);
	assert_int_equal(r.rc, -EPERM);
	assert_int_equal(r.err.status, 403);
	assert_string_equal(r.err.code, "Forbidden");
	assert_non_null(strstr(r.err.message, "permission"));
	assert_int_equal(r.err.attempts, 1);
	assert_null(r.projects);
	res_free(&r);
	env_stop(e);
}

static void
test_unauthorized(void **state)
{
	struct env *e = env_start(NULL);
	struct res r = { 0 };
	cJSON *s;
	(void)state;

	e->cfg.token = "wrong-token";
	env_client(e);
	assert_int_equal(api_list_projects(e->c, 1, res_projects, &r), 0);
	run_until(&e->loop, &r.calls, 1, 60000);
	assert_int_equal(r.rc, -EACCES);
	assert_int_equal(r.err.status, 401);
	assert_string_equal(r.err.code, "Unauthorized");
	assert_non_null(strstr(r.err.message, "access token"));
	assert_int_equal(r.err.attempts, 1);
	assert_null(r.projects);
	s = stats(e);
	assert_int_equal(stat_count(s, "GET /teams/{team}/projects", "401"), 1);
	assert_int_equal(stat_num(s, "total", NULL), 1);
	cJSON_Delete(s);
	env_stop(e);
}

static void
test_crud(void **state)
{
	struct env *e = env_start(NULL);
	struct desired_deployment want = { 0 };
	struct res r = { 0 }, d = { 0 }, g = { 0 }, u = { 0 }, l = { 0 };
	char name[128];
	cJSON *s;
	int64_t pid;
	(void)state;

	env_client(e);
	assert_int_equal(api_create_project(e->c, 1, "Shop \"one\"", res_created,
	    &r), 0);
	run_until(&e->loop, &r.calls, 1, 60000);
	assert_int_equal(r.rc, 0);
	assert_true(r.id > 0);
	assert_string_equal(r.slug, "shop-one");
	pid = r.id;

	want.reference = "staging";
	want.type = DEP_DEV;
	want.region = "aws-eu-west-1";
	want.class_name = "s16";
	want.is_default = TRI_FALSE;
	assert_int_equal(api_create_deployment(e->c, pid, &want, res_deployment,
	    &d), 0);
	run_until(&e->loop, &d.calls, 1, 60000);
	assert_int_equal(d.rc, 0);
	assert_true(d.has_dep);
	assert_string_equal(d.dep.reference, "staging");
	assert_string_equal(d.dep.region, "aws-eu-west-1");
	assert_int_equal(d.dep.type, DEP_DEV);
	assert_int_equal(d.dep.project_id, pid);
	assert_false(d.dep.is_default);
	snprintf(name, sizeof(name), "%s", d.dep.name);

	assert_int_equal(api_update_deployment(e->c, name, "{\"class\":\"s256\"}",
	    res_done, &u), 0);
	run_until(&e->loop, &u.calls, 1, 60000);
	assert_int_equal(u.rc, 0);

	assert_int_equal(api_get_deployment(e->c, name, res_deployment, &g), 0);
	run_until(&e->loop, &g.calls, 1, 60000);
	assert_int_equal(g.rc, 0);
	assert_string_equal(g.dep.name, name);
	assert_string_equal(g.dep.class_name, "s256");

	assert_int_equal(api_list_project_deployments(e->c, pid, res_deployments,
	    &l), 0);
	run_until(&e->loop, &l.calls, 1, 60000);
	assert_int_equal(l.rc, 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.deps[0].name, name);
	res_free(&l);

	/* Deletes; a second delete meets 404, which counts as done. */
	for (int i = 0; i < 2; i++) {
		struct res x = { 0 };
		assert_int_equal(api_delete_deployment(e->c, name, res_done, &x), 0);
		run_until(&e->loop, &x.calls, 1, 60000);
		assert_int_equal(x.rc, 0);
		assert_false(x.has_err);
	}
	for (int i = 0; i < 2; i++) {
		struct res y = { 0 };
		assert_int_equal(api_delete_project(e->c, pid, res_done, &y), 0);
		run_until(&e->loop, &y.calls, 1, 60000);
		assert_int_equal(y.rc, 0);
		assert_false(y.has_err);
	}

	/* The deleted deployment: 404 mapped with the API's code. */
	res_free(&g);
	assert_int_equal(api_get_deployment(e->c, name, res_deployment, &g), 0);
	run_until(&e->loop, &g.calls, 1, 60000);
	assert_int_equal(g.rc, -ENOENT);
	assert_int_equal(g.err.status, 404);
	assert_string_equal(g.err.code, "DeploymentNotFound");
	assert_int_equal(g.err.attempts, 1);

	s = stats(e);
	assert_int_equal(stat_num(s, "creates", "project"), 1);
	assert_int_equal(stat_num(s, "creates", "deployment"), 1);
	assert_int_equal(stat_count(s, "POST /deployments/{name}/delete", "200"), 1);
	assert_int_equal(stat_count(s, "POST /deployments/{name}/delete", "404"), 1);
	assert_int_equal(stat_count(s, "POST /projects/{id}/delete", "200"), 1);
	assert_int_equal(stat_count(s, "POST /projects/{id}/delete", "404"), 1);
	cJSON_Delete(s);
	res_free(&r);
	res_free(&d);
	res_free(&g);
	env_stop(e);
}

static void
test_create_rejected(void **state)
{
	struct env *e = env_start(NULL);
	struct desired_deployment want = { 0 };
	struct res r = { 0 };
	char line[1024];
	(void)state;

	env_client(e);
	want.reference = "prod";         /* a reserved reference: 400 */
	want.type = DEP_PROD;
	want.is_default = TRI_UNSET;
	assert_int_equal(api_create_deployment(e->c, 999999, &want,
	    res_deployment, &r), 0);
	run_until(&e->loop, &r.calls, 1, 60000);
	assert_true(r.rc == -ENOENT || r.rc == -EINVAL);
	assert_true(r.err.status == 404 || r.err.status == 400);
	assert_false(r.err.ambiguous);
	assert_int_equal(r.err.attempts, 1);
	assert_false(r.has_dep);
	api_error_format(&r.err, line, sizeof(line));
	assert_non_null(strstr(line, "POST /projects/999999/create_deployment, 1 attempt)"));
	env_stop(e);
}

/* ---- pagination and fallbacks -------------------------------------------- */

static void
test_pagination(void **state)
{
	struct env *e = env_start(NULL);
	struct res p = { 0 }, d = { 0 };
	cJSON *s;
	(void)state;

	admin_post(e, "/_sim/seed", "{\"projects\":1234,\"deploymentsPerProject\":2}");
	env_client(e);
	/* Both chains at once, as observe does. */
	assert_int_equal(api_list_projects(e->c, 1, res_projects, &p), 0);
	assert_int_equal(api_list_team_deployments(e->c, 1, res_deployments, &d), 0);
	run_until(&e->loop, &p.calls, 1, 120000);
	run_until(&e->loop, &d.calls, 1, 120000);
	assert_int_equal(p.rc, 0);
	assert_int_equal(p.n, 1234);
	assert_int_equal(d.rc, 0);
	assert_int_equal(d.n, 2468);
	/* Every project once. */
	{
		char *seen = calloc(1235, 1);
		for (size_t i = 0; i < p.n; i++) {
			char *end;
			long k = strtol(p.projects[i].name + 1, &end, 10);
			assert_true(k >= 1 && k <= 1234 && *end == '\0');
			assert_int_equal(seen[k], 0);
			seen[k] = 1;
		}
		free(seen);
	}
	s = stats(e);
	assert_int_equal(stat_count(s, "GET /teams/{team}/projects", "200"), 13);
	assert_int_equal(stat_count(s, "GET /teams/{team}/list_deployments", "200"), 25);
	cJSON_Delete(s);
	assert_false(api_legacy_projects(e->c));
	assert_false(api_legacy_deployments(e->c));
	res_free(&p);
	res_free(&d);
	env_stop(e);
}

static void
test_legacy_fallback(void **state)
{
	const char *args[] = { "--legacy", NULL };
	struct env *e = env_start(args);
	struct res p = { 0 }, d = { 0 }, p2 = { 0 }, d2 = { 0 }, pd = { 0 };
	struct capture cap;
	char *log;
	cJSON *s;
	(void)state;

	admin_post(e, "/_sim/seed", "{\"projects\":150,\"deploymentsPerProject\":3}");
	env_client(e);
	capture_start(&cap);
	assert_int_equal(api_list_projects(e->c, 1, res_projects, &p), 0);
	assert_int_equal(api_list_team_deployments(e->c, 1, res_deployments, &d), 0);
	run_until(&e->loop, &p.calls, 1, 60000);
	run_until(&e->loop, &d.calls, 1, 60000);
	assert_int_equal(p.rc, 0);
	assert_int_equal(p.n, 150);
	assert_true(api_legacy_projects(e->c));
	assert_int_equal(d.rc, -ENOTSUP);
	assert_int_equal(d.err.status, 404);
	assert_null(d.deps);
	assert_true(api_legacy_deployments(e->c));

	/* Remembered: the next listing goes straight to the legacy route, and
	 * the team-wide deployments call is refused before it starts. */
	assert_int_equal(api_list_projects(e->c, 1, res_projects, &p2), 0);
	assert_int_equal(api_list_team_deployments(e->c, 1, res_deployments,
	    &d2), -ENOTSUP);
	assert_int_equal(api_list_project_deployments(e->c, p.projects[0].id,
	    res_deployments, &pd), 0);
	run_until(&e->loop, &p2.calls, 1, 60000);
	run_until(&e->loop, &pd.calls, 1, 60000);
	log = capture_end(&cap);
	assert_int_equal(p2.rc, 0);
	assert_int_equal(p2.n, 150);
	assert_int_equal(d2.calls, 0);
	assert_int_equal(pd.rc, 0);
	assert_int_equal(pd.n, 3);
	/* Logged once each. */
	assert_int_equal(count_substr(log, "GET /teams/{team}/list_projects from now on"), 1);
	assert_int_equal(count_substr(log, "project by project from now on"), 1);
	free(log);

	s = stats(e);
	assert_int_equal(stat_count(s, "GET /teams/{team}/projects", "404"), 1);
	assert_int_equal(stat_count(s, "GET /teams/{team}/list_deployments", "404"), 1);
	assert_int_equal(stat_count(s, "GET /teams/{team}/list_projects", "200"), 2);
	cJSON_Delete(s);
	res_free(&p);
	res_free(&p2);
	res_free(&pd);
	env_stop(e);
}

/* SPEC section 8: the typed PATCH calls send only what is set, the
 * deployment views carry the settings back, a refusal is an error with the
 * API's code, a PATCH of what is gone is an error (not done), and a 5xx is
 * retried. */
static void
test_patch_calls(void **state)
{
	struct env *e = env_start(NULL);
	struct res r = { 0 }, d = { 0 }, u = { 0 }, g = { 0 }, bad = { 0 }, gone = { 0 };
	struct desired_deployment want = { 0 };
	struct api_deployment_patch dp;
	struct api_project_patch pp = { 0 };
	char name[128], *body;
	int64_t pid;
	cJSON *s;
	(void)state;

	/* The bodies: only the fields set; expires 0 is null. */
	api_deployment_patch_init(&dp);
	assert_null(api_deployment_patch_body(&dp));
	assert_null(api_project_patch_body(&pp));
	dp.class_name = "s256";
	dp.is_default = 0;
	dp.send_logs_to_client = 1;
	dp.set_expires = true;
	body = api_deployment_patch_body(&dp);
	assert_string_equal(body, "{\"class\":\"s256\",\"isDefault\":false,"
	    "\"sendLogsToClient\":true,\"expiresAt\":null}");
	cJSON_free(body);
	pp.name = "Shop \"2\"";
	body = api_project_patch_body(&pp);
	assert_string_equal(body, "{\"name\":\"Shop \\\"2\\\"\"}");
	cJSON_free(body);

	env_client(e);
	assert_int_equal(api_create_project(e->c, 1, "shop", res_created, &r), 0);
	run_until(&e->loop, &r.calls, 1, 60000);
	assert_int_equal(r.rc, 0);
	pid = r.id;
	want.reference = "preview-one";
	want.type = DEP_PREVIEW;
	want.is_default = TRI_UNSET;
	want.expires = DESIRED_EXPIRES_NEVER;   /* else a preview expires in 14 days */
	assert_int_equal(api_create_deployment(e->c, pid, &want, res_deployment, &d), 0);
	run_until(&e->loop, &d.calls, 1, 60000);
	assert_int_equal(d.rc, 0);
	assert_int_equal(d.dep.expires_at, 0);
	assert_int_equal(d.dep.dashboard_edit_confirmation, 0);   /* type defaults */
	assert_int_equal(d.dep.send_logs_to_client, 1);
	assert_null(d.dep.url);   /* the usual https://NAME.convex.cloud */
	{
		char url[200];

		snprintf(name, sizeof(name), "https://%s.convex.cloud", d.dep.name);
		assert_string_equal(observed_deployment_url(&d.dep, url, sizeof(url)), name);
	}
	snprintf(name, sizeof(name), "%s", d.dep.name);

	api_deployment_patch_init(&dp);
	dp.reference = "preview-two";
	dp.class_name = "s256";
	dp.dashboard_edit_confirmation = 1;
	dp.send_logs_to_client = 0;
	dp.set_expires = true;
	dp.expires_at = ((int64_t)time(NULL) + 86400) * 1000;
	assert_int_equal(api_patch_deployment(e->c, name, &dp, res_done, &u), 0);
	pp.name = "shop-renamed";
	pp.slug = "shop-main";
	assert_int_equal(api_update_project(e->c, pid, &pp, res_done, &r), 0);
	run_until(&e->loop, &u.calls, 1, 60000);
	run_until(&e->loop, &r.calls, 2, 60000);
	assert_int_equal(u.rc, 0);
	assert_int_equal(r.rc, 0);
	assert_int_equal(api_get_deployment(e->c, name, res_deployment, &g), 0);
	run_until(&e->loop, &g.calls, 1, 60000);
	assert_string_equal(g.dep.reference, "preview-two");
	assert_string_equal(g.dep.class_name, "s256");
	assert_int_equal(g.dep.dashboard_edit_confirmation, 1);
	assert_int_equal(g.dep.send_logs_to_client, 0);
	assert_int_equal(g.dep.expires_at, dp.expires_at);
	res_free(&r);
	memset(&r, 0, sizeof(r));
	assert_int_equal(api_list_projects(e->c, 1, res_projects, &r), 0);
	run_until(&e->loop, &r.calls, 1, 60000);
	assert_int_equal(r.n, 1);
	assert_string_equal(r.projects[0].name, "shop-renamed");
	assert_string_equal(r.projects[0].slug, "shop-main");

	/* Refused: expiresAt less than 30 minutes ahead; a bad slug. */
	api_deployment_patch_init(&dp);
	dp.set_expires = true;
	dp.expires_at = ((int64_t)time(NULL) + 60) * 1000;
	assert_int_equal(api_patch_deployment(e->c, name, &dp, res_done, &bad), 0);
	run_until(&e->loop, &bad.calls, 1, 60000);
	assert_int_equal(bad.rc, -EINVAL);
	assert_int_equal(bad.err.status, 400);
	assert_string_equal(bad.err.code, "BadRequest");
	assert_int_equal(bad.err.attempts, 1);
	assert_non_null(strstr(bad.err.route, "PATCH /deployments/"));

	/* Gone: 404 is an error for a PATCH. */
	pp.name = NULL;
	pp.slug = "x";
	assert_int_equal(api_update_project(e->c, 99999, &pp, res_done, &gone), 0);
	run_until(&e->loop, &gone.calls, 1, 60000);
	assert_int_equal(gone.rc, -ENOENT);
	assert_string_equal(gone.err.code, "ProjectNotFound");

	/* Nothing to send, or no id: refused before sending. */
	api_deployment_patch_init(&dp);
	assert_int_equal(api_patch_deployment(e->c, name, &dp, res_done, &gone), -EINVAL);
	assert_int_equal(api_update_project(e->c, 0, &pp, res_done, &gone), -EINVAL);

	/* A 5xx is retried: every try failing costs the 5 attempts. */
	admin_post(e, "/_sim/config", "{\"errorRate\":1}");
	memset(&u, 0, sizeof(u));
	dp.class_name = "s16";
	assert_int_equal(api_patch_deployment(e->c, name, &dp, res_done, &u), 0);
	run_until(&e->loop, &u.calls, 1, 60000);
	assert_int_equal(u.rc, -EIO);
	assert_int_equal(u.err.attempts, 5);
	admin_post(e, "/_sim/config", "{\"errorRate\":0}");

	s = stats(e);
	assert_int_equal(stat_count(s, "PATCH /deployments/{name}", NULL), 7);
	assert_int_equal(stat_count(s, "PATCH /projects/{id}", NULL), 2);
	cJSON_Delete(s);
	res_free(&r);
	res_free(&d);
	res_free(&g);
	env_stop(e);
}

/* ---- retries ----------------------------------------------------------------- */

static void
test_retry_5xx_counted(void **state)
{
	struct env *e = env_start(NULL);
	struct res r = { 0 }, q = { 0 };
	char line[1024];
	cJSON *s;
	(void)state;

	env_client(e);
	admin_post(e, "/_sim/config", "{\"errorRate\":1}");
	assert_int_equal(api_token_details(e->c, res_token, &r), 0);
	assert_int_equal(api_delete_project(e->c, 5, res_done, &q), 0);
	run_until(&e->loop, &r.calls, 1, 60000);
	run_until(&e->loop, &q.calls, 1, 60000);
	assert_int_equal(r.rc, -EIO);
	assert_int_equal(r.err.attempts, 5);
	assert_true(r.err.status >= 500);
	assert_false(r.err.ambiguous);
	assert_int_equal(q.rc, -EIO);
	assert_int_equal(q.err.attempts, 5);
	api_error_format(&r.err, line, sizeof(line));
	assert_non_null(strstr(line, "Injected fault (GET /token_details, 5 attempts)"));

	s = stats(e);
	assert_int_equal(stat_count(s, "GET /token_details", NULL), 5);
	assert_int_equal(stat_count(s, "POST /projects/{id}/delete", NULL), 5);
	cJSON_Delete(s);
	assert_int_equal(e->requests, 10);

	/* Half the answers fail: every call still succeeds within 5 tries,
	 * and the simulator saw exactly the attempts the client counted. */
	admin_post(e, "/_sim/reset", NULL);
	admin_post(e, "/_sim/config", "{\"errorRate\":0.3}");
	e->requests = 0;
	{
		struct res many[40];
		int ok = 0;
		memset(many, 0, sizeof(many));
		for (int i = 0; i < 40; i++)
			assert_int_equal(api_token_details(e->c, res_token, &many[i]), 0);
		for (int i = 0; i < 40; i++) {
			run_until(&e->loop, &many[i].calls, 1, 60000);
			ok += many[i].rc == 0;
		}
		assert_true(ok >= 38);  /* 0.3^5 per call */
		s = stats(e);
		assert_int_equal(stat_count(s, "GET /token_details", NULL), e->requests);
		assert_true(e->requests > 40);
		cJSON_Delete(s);
	}
	env_stop(e);
}

/* Full jitter: each wait is drawn from [0, min(cap, base * 2^n)]. With base
 * and cap both 300 ms, no gap between attempts may exceed 300 ms (plus a
 * generous slack for a busy machine: uncapped, the last wait could reach
 * 2.4 s), and the waits are not all zero. */
static void
test_backoff_bounded(void **state)
{
	struct env *e = env_start(NULL);
	struct res r = { 0 };
	double waited = 0;
	(void)state;

	e->cfg.backoff_base_ms = 300;
	e->cfg.backoff_cap_ms = 300;
	env_client(e);
	admin_post(e, "/_sim/config", "{\"errorRate\":1}");
	assert_int_equal(api_get_deployment(e->c, "happy-otter-1", res_deployment,
	    &r), 0);
	run_until(&e->loop, &r.calls, 1, 60000);
	assert_int_equal(r.rc, -EIO);
	assert_int_equal(r.err.attempts, 5);
	assert_int_equal(e->requests, 5);
	for (int i = 1; i < 5; i++) {
		double gap = e->events[i].start_ms - e->events[i - 1].end_ms;
		if (gap > 300 + 700)
			fail_msg("attempt %d waited %.0f ms, cap 300", i + 1, gap);
		waited += gap;
	}
	assert_true(waited > 20);
	env_stop(e);
}

/*
 * Two calls one after the other with --rate-limit 1: the second lands in
 * the same one-second window and is answered 429 with Retry-After: 1. Only
 * one call is ever in flight, so the next exchange after the 429 is its
 * retry, which must come at least a second later, although the backoff cap
 * is 100 ms. Repeated (at most 5 times) when the window happened to turn
 * between the two calls. Returns how many pairs were sent.
 */
static int
rate_limited_pair(struct env *e, bool creates)
{
	static int serial;
	char name[32];
	int pairs = 0;

	for (int round = 0; round < 5; round++) {
		int before = e->by_status[429], first = e->requests;
		pairs++;
		for (int k = 0; k < 2; k++) {
			struct res r = { 0 };
			if (creates) {
				snprintf(name, sizeof(name), "limited-%d", serial++);
				assert_int_equal(api_create_project(e->c, 1, name,
				    res_created, &r), 0);
			} else {
				assert_int_equal(api_token_details(e->c, res_token,
				    &r), 0);
			}
			run_until(&e->loop, &r.calls, 1, 60000);
			assert_int_equal(r.rc, 0);
			res_free(&r);
		}
		if (e->by_status[429] == before)
			continue;
		assert_true(e->requests <= 64);
		for (int i = first; i + 1 < e->requests; i++) {
			if (e->events[i].status != 429)
				continue;
			/* 950: libuv timers count from the loop's cached time. */
			if (e->events[i + 1].end_ms - e->events[i].end_ms < 950)
				fail_msg("retry %.0f ms after a 429 with Retry-After: 1",
				    e->events[i + 1].end_ms - e->events[i].end_ms);
		}
		return pairs;
	}
	fail_msg("no 429 in 5 rounds");
	return 0;
}

static void
test_retry_after_honoured(void **state)
{
	const char *args[] = { "--rate-limit", "1", NULL };
	struct env *e = env_start(args);
	int pairs;
	cJSON *s;
	(void)state;

	env_client(e);
	rate_limited_pair(e, false);
	/* A create answered 429 goes again (nothing was done), and there is
	 * no duplicate: one project per successful call. */
	pairs = rate_limited_pair(e, true);
	s = stats(e);
	assert_int_equal(stat_num(s, "creates", "project"), 2 * pairs);
	assert_int_equal(stat_count(s, "POST /teams/{team}/create_project", "200"),
	    2 * pairs);
	assert_true(stat_count(s, "POST /teams/{team}/create_project", "429") >= 1);
	assert_int_equal(stat_num(s, "total", NULL), e->requests);
	cJSON_Delete(s);
	env_stop(e);
}

/* A port with nothing listening: the connection fails before anything is
 * sent, so even a create is tried again, up to max_tries. */
static void
test_connection_refused(void **state)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof(a);
	struct api_config cfg;
	struct api_client *c;
	struct api_error err;
	struct res r = { 0 };
	uv_loop_t loop;
	char url[64];
	int fd;
	(void)state;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
	close(fd);              /* bound once, now nobody listens there */
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/v1", ntohs(a.sin_port));

	assert_int_equal(uv_loop_init(&loop), 0);
	test_config(&cfg, url, "tok");
	cfg.max_tries = 3;
	assert_int_equal(api_client_new(&loop, &cfg, &c, &err), 0);
	assert_int_equal(api_create_project(c, 1, "x", res_created, &r), 0);
	run_until(&loop, &r.calls, 1, 60000);
	assert_int_equal(r.rc, -ECONNREFUSED);
	assert_string_equal(r.err.code, "ConnectionError");
	assert_int_equal(r.err.status, 0);
	assert_int_equal(r.err.attempts, 3);
	assert_false(r.err.ambiguous);
	close_client_and_loop(&loop, c);
}

static void
test_ambiguous_create(void **state)
{
	struct env *e = env_start(NULL);
	struct desired_deployment want = { 0 };
	struct res r = { 0 }, d = { 0 }, x = { 0 };
	char line[1024];
	cJSON *s;
	(void)state;

	env_client(e);
	admin_post(e, "/_sim/seed", "{\"projects\":1}");
	admin_post(e, "/_sim/config", "{\"errorRate\":1}");
	assert_int_equal(api_create_project(e->c, 1, "twice", res_created, &r), 0);
	want.reference = "staging";
	want.type = DEP_DEV;
	want.is_default = TRI_UNSET;
	assert_int_equal(api_create_deployment(e->c, 1, &want, res_deployment,
	    &d), 0);
	run_until(&e->loop, &r.calls, 1, 60000);
	run_until(&e->loop, &d.calls, 1, 60000);
	assert_int_equal(r.rc, -EIO);
	assert_true(r.err.ambiguous);
	assert_int_equal(r.err.attempts, 1);
	assert_true(d.err.ambiguous);
	assert_int_equal(d.err.attempts, 1);
	api_error_format(&r.err, line, sizeof(line));
	assert_non_null(strstr(line, "outcome unknown"));

	/* A dropped connection after sending: ambiguous too, not resent (not
	 * even by curl's own retry on a reused connection). */
	admin_post(e, "/_sim/config", "{\"errorRate\":0,\"dropRate\":1}");
	assert_int_equal(api_create_project(e->c, 1, "dropped", res_created, &x), 0);
	run_until(&e->loop, &x.calls, 1, 60000);
	assert_int_equal(x.rc, -ECONNRESET);
	assert_string_equal(x.err.code, "ConnectionError");
	assert_true(x.err.ambiguous);
	assert_int_equal(x.err.attempts, 1);

	s = stats(e);
	assert_int_equal(stat_count(s, "POST /teams/{team}/create_project", NULL), 2);
	assert_int_equal(stat_count(s, "POST /projects/{id}/create_deployment", NULL), 1);
	cJSON_Delete(s);
	res_free(&r);
	res_free(&x);
	env_stop(e);
}

/* ---- limits ----------------------------------------------------------------- */

static void
test_body_too_large(void **state)
{
	struct env *e = env_start(NULL);
	struct res p = { 0 }, t = { 0 };
	cJSON *s;
	(void)state;

	admin_post(e, "/_sim/seed", "{\"projects\":300}");
	e->cfg.max_body = 4096;         /* a page of 100 projects is larger */
	env_client(e);
	assert_int_equal(api_list_projects(e->c, 1, res_projects, &p), 0);
	assert_int_equal(api_token_details(e->c, res_token, &t), 0);
	run_until(&e->loop, &p.calls, 1, 60000);
	run_until(&e->loop, &t.calls, 1, 60000);
	assert_int_equal(p.rc, -EFBIG);
	assert_string_equal(p.err.code, "BodyTooLarge");
	assert_int_equal(p.err.status, 200);
	assert_int_equal(p.err.attempts, 1);
	assert_null(p.projects);
	assert_int_equal(t.rc, 0);      /* small answers still pass */
	s = stats(e);
	assert_int_equal(stat_count(s, "GET /teams/{team}/projects", NULL), 1);
	cJSON_Delete(s);
	env_stop(e);
}

static void
test_invalid_json(void **state)
{
	struct env *e = env_start(NULL);
	struct res t = { 0 }, p = { 0 };
	(void)state;

	env_client(e);
	admin_post(e, "/_sim/config", "{\"badJsonRate\":1}");
	assert_int_equal(api_token_details(e->c, res_token, &t), 0);
	assert_int_equal(api_list_projects(e->c, 1, res_projects, &p), 0);
	run_until(&e->loop, &t.calls, 1, 60000);
	run_until(&e->loop, &p.calls, 1, 60000);
	assert_int_equal(t.rc, -EBADMSG);
	assert_string_equal(t.err.code, "DecodeError");
	assert_non_null(strstr(t.err.message, "invalid JSON"));
	assert_string_equal(t.err.route, "GET /token_details");
	assert_int_equal(p.rc, -EBADMSG);
	assert_null(p.projects);
	env_stop(e);
}

static void
test_stall_timeout(void **state)
{
	const char *args[] = { "--stall-rate", "1", "--stall-ms", "30000", NULL };
	struct env *e = env_start(args);
	struct res r = { 0 };
	uint64_t t0;
	(void)state;

	e->cfg.request_timeout_ms = 300;
	e->cfg.max_tries = 2;
	env_client(e);
	t0 = uv_now(&e->loop);
	r.loop = &e->loop;
	assert_int_equal(api_token_details(e->c, res_token, &r), 0);
	run_until(&e->loop, &r.calls, 1, 60000);
	assert_int_equal(r.rc, -ETIMEDOUT);
	assert_string_equal(r.err.code, "Timeout");
	assert_int_equal(r.err.status, 0);
	assert_int_equal(r.err.attempts, 2);
	assert_true(r.at_ms - t0 >= 550);       /* two timeouts of 300 ms */
	assert_int_equal(e->by_status[0], 2);
	env_stop(e);
}

/* ---- cancellation -------------------------------------------------------------- */

static void
test_cancel_in_flight(void **state)
{
	const char *args[] = { "--latency", "3000", NULL };
	struct env *e = env_start(args);
	struct res r[30], l = { 0 };
	int done = 0;
	(void)state;

	memset(r, 0, sizeof(r));
	e->cfg.concurrency = 4;         /* some run, most are queued */
	env_client(e);
	for (int i = 0; i < 30; i++)
		assert_int_equal(api_token_details(e->c, res_token, &r[i]), 0);
	assert_int_equal(api_list_projects(e->c, 1, res_projects, &l), 0);
	assert_int_equal(api_in_flight(e->c), 31);
	run_for(&e->loop, 300);         /* the first four are at the server */
	api_cancel_all(e->c);
	for (int i = 0; i < 30; i++)
		assert_int_equal(r[i].calls, 0); /* delivered from the loop */
	run_until(&e->loop, &l.calls, 1, 60000);
	run_for(&e->loop, 50);
	for (int i = 0; i < 30; i++) {
		assert_int_equal(r[i].calls, 1);
		assert_int_equal(r[i].rc, -ECANCELED);
		done++;
	}
	assert_int_equal(done, 30);
	assert_int_equal(l.rc, -ECANCELED);
	assert_null(l.projects);
	assert_int_equal(api_in_flight(e->c), 0);
	/* The client still works afterwards. */
	admin_post(e, "/_sim/config", "{\"latencyMs\":0}");
	memset(&r[0], 0, sizeof(r[0]));
	assert_int_equal(api_token_details(e->c, res_token, &r[0]), 0);
	run_until(&e->loop, &r[0].calls, 1, 60000);
	assert_int_equal(r[0].rc, 0);
	env_stop(e);
}

struct closer {
	struct env *e;
	int calls;
	int ok;
	int cancelled;
	int closed;
};

static void
on_closed(void *arg)
{
	((struct closer *)arg)->closed++;
}

/* The first success closes the client from inside its callback. */
static void
close_from_callback(void *arg, int rc, const struct api_error *err, int64_t team)
{
	struct closer *k = arg;
	struct res never = { 0 };

	(void)team;
	k->calls++;
	if (rc == -ECANCELED) {
		assert_non_null(err);
		assert_string_equal(err->code, "Cancelled");
		k->cancelled++;
		return;
	}
	assert_int_equal(rc, 0);
	assert_int_equal(k->ok, 0);     /* nothing completes after the close */
	k->ok++;
	api_client_close(k->e->c, on_closed, k);
	/* A closing client starts nothing. */
	assert_int_equal(api_token_details(k->e->c, res_token, &never),
	    -ESHUTDOWN);
}

/* Closing from inside a callback, with transfers running, requests queued
 * and retries waiting on Retry-After timers: every callback runs once,
 * then `closed`, and no handle is left. */
static void
test_close_with_calls_pending(void **state)
{
	const char *args[] = { "--latency-jitter", "400", "--rate-limit", "1",
	    NULL };
	struct env *e = env_start(args);
	struct closer k = { .e = e };
	(void)state;

	e->cfg.concurrency = 3;
	env_client(e);
	for (int i = 0; i < 10; i++)
		assert_int_equal(api_token_details(e->c, close_from_callback, &k), 0);
	run_until(&e->loop, &k.closed, 1, 60000);
	assert_int_equal(k.calls, 10);
	assert_int_equal(k.ok, 1);
	assert_int_equal(k.cancelled, 9);
	uv_run(&e->loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&e->loop), 0);
	assert_int_equal(sim_stop(&e->sim), 0);
	free(e);
}

/* Stopping the loop with transfers running, then closing: no leak, no use
 * after free (ASan and valgrind watch this one). */
static void
on_first_stop(void *arg, int rc, const struct api_error *err, int64_t team)
{
	uv_loop_t *loop = arg;

	(void)rc;
	(void)err;
	(void)team;
	uv_stop(loop);
}

static void
test_stop_loop_then_close(void **state)
{
	const char *args[] = { "--latency-jitter", "300", NULL };
	struct env *e = env_start(args);
	struct res r[20];
	(void)state;

	memset(r, 0, sizeof(r));
	env_client(e);
	assert_int_equal(api_token_details(e->c, on_first_stop, &e->loop), 0);
	for (int i = 0; i < 20; i++)
		assert_int_equal(api_token_details(e->c, res_token, &r[i]), 0);
	uv_run(&e->loop, UV_RUN_DEFAULT);       /* returns at uv_stop */
	assert_true(api_in_flight(e->c) > 0);
	close_client_and_loop(&e->loop, e->c);
	for (int i = 0; i < 20; i++) {
		assert_int_equal(r[i].calls, 1);
		assert_true(r[i].rc == 0 || r[i].rc == -ECANCELED);
	}
	assert_int_equal(sim_stop(&e->sim), 0);
	free(e);
}

/* ---- volume and the concurrency bound ---------------------------------------- */

static void
test_2000_requests_bounded(void **state)
{
	const char *args[] = { "--latency", "2", NULL };
	struct env *e = env_start(args);
	struct res *r = calloc(2000, sizeof(*r));
	unsigned most = 0;
	int done = 0;
	cJSON *s;
	(void)state;

	admin_post(e, "/_sim/seed", "{\"projects\":3,\"deploymentsPerProject\":1}");
	e->cfg.concurrency = 6;
	env_client(e);
	for (int i = 0; i < 2000; i++) {
		switch (i % 3) {
		case 0:
			assert_int_equal(api_token_details(e->c, res_token, &r[i]), 0);
			break;
		case 1:
			assert_int_equal(api_list_team_deployments(e->c, 1,
			    res_deployments, &r[i]), 0);
			break;
		default:
			assert_int_equal(api_list_projects(e->c, 1, res_projects,
			    &r[i]), 0);
			break;
		}
	}
	while (done < 2000) {
		uv_run(&e->loop, UV_RUN_ONCE);
		done = 0;
		for (int i = 0; i < 2000; i++)
			done += r[i].calls;
		if (api_in_flight(e->c) > most)
			most = api_in_flight(e->c);
	}
	for (int i = 0; i < 2000; i++) {
		assert_int_equal(r[i].calls, 1);
		assert_int_equal(r[i].rc, 0);
		res_free(&r[i]);
	}
	free(r);
	s = stats(e);
	assert_true(stat_num(s, "max_in_flight", NULL) <= 6);
	assert_true(stat_num(s, "max_in_flight", NULL) >= 2);
	assert_int_equal(stat_num(s, "total", NULL), 2000);
	cJSON_Delete(s);
	assert_int_equal(e->requests, 2000);
	env_stop(e);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_token_details),
		cmocka_unit_test(test_project_token_refused),
		cmocka_unit_test(test_unauthorized),
		cmocka_unit_test(test_crud),
		cmocka_unit_test(test_create_rejected),
		cmocka_unit_test(test_pagination),
		cmocka_unit_test(test_legacy_fallback),
		cmocka_unit_test(test_patch_calls),
		cmocka_unit_test(test_retry_5xx_counted),
		cmocka_unit_test(test_backoff_bounded),
		cmocka_unit_test(test_retry_after_honoured),
		cmocka_unit_test(test_connection_refused),
		cmocka_unit_test(test_ambiguous_create),
		cmocka_unit_test(test_body_too_large),
		cmocka_unit_test(test_invalid_json),
		cmocka_unit_test(test_stall_timeout),
		cmocka_unit_test(test_cancel_in_flight),
		cmocka_unit_test(test_close_with_calls_pending),
		cmocka_unit_test(test_stop_loop_then_close),
		cmocka_unit_test(test_2000_requests_bounded),
	};

	log_init(LOG_LVL_INFO, LOG_FMT_TEXT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
