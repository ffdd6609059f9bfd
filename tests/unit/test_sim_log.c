/* test_sim_log.c: convex-api-sim's request log (order, versions, effects), people's edits, per-route fault knobs and the scripted-answer queue. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "unit/test_sim_common.h"

static struct sim sim;

static int
group_setup(void **state)
{
	(void)state;
	return start_sim(&sim, NULL);
}

static int
group_teardown(void **state)
{
	(void)state;
	return sim_stop(&sim) == 0 ? 0 : -1;
}

/* Also turns every knob off (reset keeps the fault settings). */
static int
reset(void **state)
{
	cJSON *c, *it;
	char body[4096] = "{\"errorRate\":0,\"dropRate\":0,\"badJsonRate\":0,"
	    "\"stallRate\":0,\"rateLimit\":0,\"routes\":{";
	bool first = true;

	(void)state;
	c = admin_json(&sim, "/_sim/config", NULL, 200);
	cJSON_ArrayForEach(it, cJSON_GetObjectItem(c, "routes")) {
		strcat(body, first ? "\"" : ",\"");
		strcat(body, it->string);
		strcat(body, "\":null");
		first = false;
	}
	strcat(body, "}}");
	cJSON_Delete(c);
	cJSON_Delete(admin_json(&sim, "/_sim/config", body, 200));
	sim_reset(&sim);
	return 0;
}

static cJSON *
log_get(const char *query)
{
	char path[128];

	snprintf(path, sizeof(path), "/_sim/log%s", query);
	return admin_json(&sim, path, NULL, 200);
}

static cJSON *
entries(cJSON *log)
{
	cJSON *e = cJSON_GetObjectItem(log, "entries");

	assert_true(cJSON_IsArray(e));
	return e;
}

static void
config(const char *body)
{
	cJSON_Delete(admin_json(&sim, "/_sim/config", body, 200));
}

static long
create_project(const char *name)
{
	char body[128];
	cJSON *j;
	long id;

	snprintf(body, sizeof(body), "{\"projectName\":\"%s\"}", name);
	j = post_json(&sim, "/teams/1/create_project", body, 200);
	id = (long)num(j, "id", NULL);
	cJSON_Delete(j);
	return id;
}

/* ---- the log */

static void
test_log_entries_and_versions(void **state)
{
	cJSON *log, *e, *eff;
	char path[64];
	struct sim_response r;
	long pid;

	(void)state;
	pid = create_project("logged");                                    /* 1 */
	snprintf(path, sizeof(path), "/projects/%ld", pid);
	cJSON_Delete(get_json(&sim, path, 200));                           /* 2 */
	cJSON_Delete(call_json(&sim, "PATCH", path, "{\"slug\":\"logged-2\"}", 200));   /* 3 */
	call_expect(&sim, "PATCH", path, "{\"slug\":\"Bad\"}", 400, "InvalidProjectSlug"); /* 4 */
	cJSON_Delete(admin_json(&sim, "/_sim/seed", "{\"projects\":2}", 200));   /* 5 */
	assert_int_equal(sim_person(&sim, "POST", "/teams/1/create_project",
	    "{\"projectName\":\"by hand\"}", &r), 0);                      /* 6 */
	assert_int_equal(r.status, 200);
	sim_response_free(&r);
	snprintf(path, sizeof(path), "/projects/%ld/delete", pid);
	cJSON_Delete(post_json(&sim, path, NULL, 200));                    /* 7 */
	assert_int_equal(sim_get(&sim, "/teams/1/projects?limit=2", &r), 0); /* 8 */
	sim_response_free(&r);

	log = log_get("");
	e = entries(log);
	assert_int_equal(cJSON_GetArraySize(e), 8);
	assert_true(num(log, "nextSeq", NULL) == 9);
	assert_true(num(log, "inFlight", NULL) == 0);
	assert_true(num(log, "dropped", NULL) == 0);
	for (int i = 0; i < 8; i++)
		assert_true(num(cJSON_GetArrayItem(e, i), "seq", NULL) == i + 1);
	/* 1: a create that saw version 0 and made 1 */
	e = cJSON_GetArrayItem(entries(log), 0);
	assert_string_equal(str(e, "actor"), "tool");
	assert_string_equal(str(e, "method"), "POST");
	assert_string_equal(str(e, "route"), "POST /teams/{team}/create_project");
	assert_string_equal(str(e, "path"), "/v1/teams/1/create_project");
	assert_true(num(e, "status", NULL) == 200);
	assert_true(is_null(e, "fault"));
	assert_true(num(e, "version", NULL) == 0 && is_true(e, "wrote"));
	assert_true(num(e, "writeVersion", NULL) == 1);
	eff = cJSON_GetObjectItem(e, "effect");
	assert_string_equal(str(eff, "op"), "create");
	assert_string_equal(str(eff, "kind"), "project");
	assert_true((long)num(eff, "id", NULL) == pid);
	/* 2: a read sees 1 and writes nothing */
	e = cJSON_GetArrayItem(entries(log), 1);
	assert_true(num(e, "version", NULL) == 1 && is_false(e, "wrote"));
	assert_true(is_null(e, "writeVersion") && is_null(e, "effect"));
	/* 3: the update says what changed */
	e = cJSON_GetArrayItem(entries(log), 2);
	eff = cJSON_GetObjectItem(e, "effect");
	assert_string_equal(str(eff, "op"), "update");
	assert_string_equal(str(cJSON_GetObjectItem(cJSON_GetObjectItem(eff,
	    "changes"), "slug"), "to"), "logged-2");
	assert_true(num(e, "writeVersion", NULL) == 2);
	/* 4: refused: no write */
	e = cJSON_GetArrayItem(entries(log), 3);
	assert_true(num(e, "status", NULL) == 400 && is_false(e, "wrote"));
	assert_true(num(e, "version", NULL) == 2);
	/* 5: the seed is an admin write */
	e = cJSON_GetArrayItem(entries(log), 4);
	assert_string_equal(str(e, "actor"), "admin");
	assert_string_equal(str(e, "path"), "/_sim/seed");
	assert_true(is_true(e, "wrote") && num(e, "writeVersion", NULL) == 3);
	/* 6: a person's edit */
	e = cJSON_GetArrayItem(entries(log), 5);
	assert_string_equal(str(e, "actor"), "person");
	assert_true(num(e, "writeVersion", NULL) == 4);
	/* 7: the delete names what went */
	eff = cJSON_GetObjectItem(cJSON_GetArrayItem(entries(log), 6), "effect");
	assert_string_equal(str(eff, "op"), "delete");
	assert_true((long)num(eff, "id", NULL) == pid);
	/* 8: the query is kept */
	e = cJSON_GetArrayItem(entries(log), 7);
	assert_string_equal(str(cJSON_GetObjectItem(e, "query"), "limit"), "2");
	assert_true(num(e, "version", NULL) == 5);
	cJSON_Delete(log);

	/* since and limit */
	log = log_get("?since=6");
	assert_int_equal(cJSON_GetArraySize(entries(log)), 2);
	assert_true(num(cJSON_GetArrayItem(entries(log), 0), "seq", NULL) == 7);
	cJSON_Delete(log);
	log = log_get("?since=2&limit=3");
	assert_int_equal(cJSON_GetArraySize(entries(log)), 3);
	assert_true(num(cJSON_GetArrayItem(entries(log), 2), "seq", NULL) == 5);
	cJSON_Delete(log);
	cJSON_Delete(admin_json(&sim, "/_sim/log?since=x", NULL, 400));
	/* clear: entries go, the sequence goes on */
	cJSON_Delete(admin_json(&sim, "/_sim/log/clear", "", 200));
	cJSON_Delete(get_json(&sim, "/token_details", 200));
	log = log_get("");
	assert_int_equal(cJSON_GetArraySize(entries(log)), 1);
	assert_true(num(cJSON_GetArrayItem(entries(log), 0), "seq", NULL) == 9);
	cJSON_Delete(log);
	/* a reset with a state that does not load changes nothing */
	cJSON_Delete(admin_json(&sim, "/_sim/reset", "{\"projects\":[{\"id\":0,\"name\":\"x\"}]}", 400));
	log = log_get("");
	assert_int_equal(cJSON_GetArraySize(entries(log)), 1);
	cJSON_Delete(log);
	/* reset: everything from the start */
	sim_reset(&sim);
	cJSON_Delete(get_json(&sim, "/token_details", 200));
	log = log_get("");
	assert_int_equal(cJSON_GetArraySize(entries(log)), 1);
	assert_true(num(cJSON_GetArrayItem(entries(log), 0), "seq", NULL) == 1);
	assert_true(num(cJSON_GetArrayItem(entries(log), 0), "version", NULL) == 0);
	cJSON_Delete(log);
}

static void
test_log_concurrent_writes(void **state)
{
	long status[20];
	bool seen[21] = { false };
	cJSON *log, *e;

	(void)state;
	parallel_requests(&sim, "POST", "/teams/1/create_project",
	    "{\"projectName\":\"par%d\"}", 20, status);
	for (int i = 0; i < 20; i++)
		assert_int_equal(status[i], 200);
	log = log_get("");
	assert_int_equal(cJSON_GetArraySize(entries(log)), 20);
	/* in seq order; each write saw the one before it */
	for (int i = 0; i < 20; i++) {
		int wv;

		e = cJSON_GetArrayItem(entries(log), i);
		assert_true(num(e, "seq", NULL) == i + 1);
		wv = (int)num(e, "writeVersion", NULL);
		assert_in_range(wv, 1, 20);
		assert_false(seen[wv]);
		seen[wv] = true;
		assert_true(num(e, "version", NULL) == wv - 1);
	}
	cJSON_Delete(log);
}

static void
test_log_limit_flag(void **state)
{
	const char *const five[] = { "--log-limit", "5", NULL };
	const char *const off[] = { "--log-limit", "0", NULL };
	struct sim s;
	struct sim_response r;
	cJSON *log;

	(void)state;
	assert_int_equal(start_sim(&s, five), 0);
	for (int i = 0; i < 8; i++) {
		assert_int_equal(sim_get(&s, "/token_details", &r), 0);
		sim_response_free(&r);
	}
	log = admin_json(&s, "/_sim/log", NULL, 200);
	assert_int_equal(cJSON_GetArraySize(entries(log)), 5);
	assert_true(num(log, "dropped", NULL) == 3);
	assert_true(num(log, "limit", NULL) == 5);
	assert_true(num(cJSON_GetArrayItem(entries(log), 0), "seq", NULL) == 4);
	cJSON_Delete(log);
	assert_int_equal(sim_stop(&s), 0);
	assert_int_equal(start_sim(&s, off), 0);
	assert_int_equal(sim_get(&s, "/token_details", &r), 0);
	sim_response_free(&r);
	log = admin_json(&s, "/_sim/log", NULL, 200);
	assert_int_equal(cJSON_GetArraySize(entries(log)), 0);
	assert_true(num(log, "inFlight", NULL) == 0);
	cJSON_Delete(log);
	assert_int_equal(sim_stop(&s), 0);
}

static void
test_person_never_faulted(void **state)
{
	struct sim_response r;
	cJSON *log;

	(void)state;
	config("{\"errorRate\":1}");
	assert_int_equal(sim_get(&sim, "/token_details", &r), 0);
	assert_true(r.status >= 500);
	sim_response_free(&r);
	assert_int_equal(sim_person(&sim, "GET", "/token_details", NULL, &r), 0);
	assert_int_equal(r.status, 200);
	sim_response_free(&r);
	log = log_get("?since=1");   /* after the config entry */
	assert_string_equal(str(cJSON_GetArrayItem(entries(log), 0), "actor"), "tool");
	assert_string_equal(str(cJSON_GetArrayItem(entries(log), 0), "fault"), "error");
	assert_string_equal(str(cJSON_GetArrayItem(entries(log), 1), "actor"), "person");
	assert_true(is_null(cJSON_GetArrayItem(entries(log), 1), "fault"));
	cJSON_Delete(log);
}

/* ---- per-route knobs */

static void
test_route_error_rate(void **state)
{
	struct sim_response r;
	cJSON *c, *rt;

	(void)state;
	config("{\"routes\":{\"GET /token_details\":{\"errorRate\":1}}}");
	c = admin_json(&sim, "/_sim/config", NULL, 200);
	rt = cJSON_GetObjectItem(cJSON_GetObjectItem(c, "routes"), "GET /token_details");
	assert_true(num(rt, "errorRate", NULL) == 1);
	assert_true(num(rt, "retryAfter", NULL) == 1);
	assert_true(is_null(rt, "failPage"));
	cJSON_Delete(c);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(sim_get(&sim, "/token_details", &r), 0);
		assert_true(r.status == 500 || r.status == 502 || r.status == 503);
		sim_response_free(&r);
	}
	cJSON_Delete(get_json(&sim, "/teams/1/projects", 200));   /* another route */
	c = sim_stats(&sim);
	assert_true(num(c, "faults", "error", NULL) == 5);
	cJSON_Delete(c);
	config("{\"routes\":{\"GET /token_details\":null}}");
	cJSON_Delete(get_json(&sim, "/token_details", 200));
	/* refusals */
	cJSON_Delete(admin_json(&sim, "/_sim/config", "{\"routes\":{\"GET /nope\":{}}}", 400));
	cJSON_Delete(admin_json(&sim, "/_sim/config",
	    "{\"routes\":{\"GET /token_details\":{\"errorRate\":2}}}", 400));
	cJSON_Delete(admin_json(&sim, "/_sim/config",
	    "{\"routes\":{\"GET /token_details\":{\"typo\":1}}}", 400));
	cJSON_Delete(admin_json(&sim, "/_sim/config",
	    "{\"routes\":{\"GET /token_details\":{\"failPage\":{\"page\":0}}}}", 400));
	cJSON_Delete(admin_json(&sim, "/_sim/config", "{\"errorRat\":1}", 400));
	c = admin_json(&sim, "/_sim/config", NULL, 200);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(c, "routes")), 0);
	cJSON_Delete(c);
}

/* The global faults of a seed are the same whatever the route knobs. */
static void
test_route_knobs_keep_global_sequence(void **state)
{
	long a[60], b[60];
	struct sim_response r;

	(void)state;
	for (int run = 0; run < 2; run++) {
		long *out = run == 0 ? a : b;

		sim_reset(&sim);
		config(run == 0 ? "{\"errorRate\":0.4}" :
		    "{\"errorRate\":0.4,\"routes\":{\"GET /teams/{team}/list_deployment_regions\":"
		    "{\"errorRate\":0.5,\"stallRate\":0}}}");
		for (int i = 0; i < 60; i++) {
			assert_int_equal(sim_get(&sim, i % 2 ? "/token_details" :
			    "/teams/1/list_deployment_classes", &r), 0);
			out[i] = r.status;
			sim_response_free(&r);
		}
	}
	assert_memory_equal(a, b, sizeof(a));
}

static void
test_route_after_faults(void **state)
{
	struct sim_response r;
	cJSON *j, *log, *e, *st;
	char path[128], name[64];
	long pid;

	(void)state;
	j = post_json(&sim, "/teams/1/create_project",
	    "{\"projectName\":\"after\",\"deploymentType\":\"prod\"}", 200);
	pid = (long)num(j, "id", NULL);
	snprintf(name, sizeof(name), "%s", str(j, "deploymentName"));
	cJSON_Delete(j);
	/* act, then 5xx: the client sees a failure, the change is made */
	config("{\"routes\":{\"PATCH /deployments/{name}\":{\"errorAfterRate\":1},"
	    "\"POST /deployments/{name}/create_custom_domain\":{\"dropAfterRate\":1},"
	    "\"POST /projects/{id}/update_default_environment_variables\":{\"dropRate\":1}}}");
	snprintf(path, sizeof(path), "/v1/deployments/%s", name);
	assert_int_equal(sim_request(&sim, "PATCH", path, sim.token, "{\"class\":\"s256\"}", &r), 0);
	assert_true(r.status >= 500);
	sim_response_free(&r);
	snprintf(path, sizeof(path), "/deployments/%s/create_custom_domain", name);
	assert_int_equal(sim_post(&sim, path,
	    "{\"domain\":\"late.example.com\",\"requestDestination\":\"convexCloud\"}", &r), -ECONNRESET);
	sim_response_free(&r);
	snprintf(path, sizeof(path), "/projects/%ld/update_default_environment_variables", pid);
	assert_int_equal(sim_post(&sim, path, "{\"changes\":[{\"deploymentType\":\"dev\","
	    "\"name\":\"NEVER\",\"value\":\"x\"}]}", &r), -ECONNRESET);
	sim_response_free(&r);
	config("{\"routes\":{\"PATCH /deployments/{name}\":null,"
	    "\"POST /deployments/{name}/create_custom_domain\":null,"
	    "\"POST /projects/{id}/update_default_environment_variables\":null}}");
	st = sim_state(&sim);
	e = cJSON_GetArrayItem(cJSON_GetObjectItem(st, "deployments"), 0);
	assert_string_equal(str(e, "class"), "s256");                   /* applied */
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(e, "customDomains")), 1);
	assert_null(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(st,
	    "projects"), 0), "env"));                                     /* not applied */
	cJSON_Delete(st);
	log = log_get("?since=1");
	e = cJSON_GetArrayItem(entries(log), 1);   /* after the config entry */
	assert_string_equal(str(e, "fault"), "errorAfter");
	assert_true(is_true(e, "wrote"));
	e = cJSON_GetArrayItem(entries(log), 2);
	assert_string_equal(str(e, "fault"), "dropAfter");
	assert_true(is_null(e, "status") && is_true(e, "wrote"));
	assert_string_equal(str(cJSON_GetObjectItem(e, "effect"), "domain"), "late.example.com");
	e = cJSON_GetArrayItem(entries(log), 3);
	assert_string_equal(str(e, "fault"), "drop");
	assert_true(is_false(e, "wrote"));
	cJSON_Delete(log);
	j = sim_stats(&sim);
	assert_true(num(j, "faults", "errorAfterWrite", NULL) == 1);
	assert_true(num(j, "faults", "dropAfterCreate", NULL) == 1);
	assert_true(num(j, "faults", "drop", NULL) == 1);
	cJSON_Delete(j);
}

static void
test_route_rate_limit_stall_bad_json(void **state)
{
	struct sim_response r;
	char hdr[32];
	cJSON *log;
	double t0;

	(void)state;
	config("{\"routes\":{\"GET /teams/{team}/projects\":{\"rateLimitRate\":1,\"retryAfter\":7},"
	    "\"GET /token_details\":{\"stallRate\":1,\"stallMs\":300},"
	    "\"GET /teams/{team}/list_deployment_regions\":{\"badJsonRate\":1}}}");
	assert_int_equal(sim_get(&sim, "/teams/1/projects", &r), 0);
	expect_error(&r, 429, "TooManyRequests");
	assert_string_equal(sim_response_header(&r, "Retry-After", hdr, sizeof(hdr)), "7");
	sim_response_free(&r);
	t0 = mono_s();
	cJSON_Delete(get_json(&sim, "/token_details", 200));
	assert_true(mono_s() - t0 >= 0.29);
	assert_int_equal(sim_get(&sim, "/teams/1/list_deployment_regions", &r), 0);
	assert_int_equal(r.status, 200);
	assert_null(cJSON_Parse(r.body));
	sim_response_free(&r);
	log = log_get("?since=1");
	assert_string_equal(str(cJSON_GetArrayItem(entries(log), 0), "fault"), "rateLimited");
	assert_string_equal(str(cJSON_GetArrayItem(entries(log), 1), "fault"), "stall");
	assert_string_equal(str(cJSON_GetArrayItem(entries(log), 2), "fault"), "badJson");
	cJSON_Delete(log);
}

/* Walks the project listing 100 a page; returns the status of each
 * request in st (0 stops). */
static int
walk_projects(long *st, int max)
{
	char path[128], cursor[64] = "";
	int n = 0;

	while (n < max) {
		struct sim_response r;
		cJSON *j;

		snprintf(path, sizeof(path), "/teams/1/projects%s%s",
		    *cursor ? "?cursor=" : "", cursor);
		assert_int_equal(sim_get(&sim, path, &r), 0);
		st[n++] = r.status;
		if (r.status != 200) {
			sim_response_free(&r);
			continue;   /* retry the same page */
		}
		j = body_json(&r);
		sim_response_free(&r);
		if (!is_true(cJSON_GetObjectItem(j, "pagination"), "hasMore")) {
			cJSON_Delete(j);
			break;
		}
		snprintf(cursor, sizeof(cursor), "%s",
		    str(cJSON_GetObjectItem(j, "pagination"), "nextCursor"));
		cJSON_Delete(j);
	}
	return n;
}

static void
test_fail_page(void **state)
{
	long st[16];
	int n;
	cJSON *j, *log;
	char path[128];

	(void)state;
	cJSON_Delete(admin_json(&sim, "/_sim/seed", "{\"projects\":250,\"deploymentsPerProject\":1}", 200));
	/* page 2 fails once, then the retry works */
	config("{\"routes\":{\"GET /teams/{team}/projects\":{\"failPage\":{\"page\":2,\"times\":1,\"status\":503}}}}");
	n = walk_projects(st, 16);
	assert_int_equal(n, 4);
	assert_true(st[0] == 200 && st[1] == 503 && st[2] == 200 && st[3] == 200);
	/* its one time used, the knob is gone */
	j = admin_json(&sim, "/_sim/config", NULL, 200);
	assert_true(is_null(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "routes"),
	    "GET /teams/{team}/projects"), "failPage"));
	cJSON_Delete(j);
	/* times 0: every time, until the knob goes */
	config("{\"routes\":{\"GET /teams/{team}/projects\":{\"failPage\":{\"page\":3,\"times\":0}}}}");
	n = walk_projects(st, 6);
	assert_int_equal(n, 6);
	assert_true(st[0] == 200 && st[1] == 200);
	for (int i = 2; i < 6; i++)
		assert_int_equal(st[i], 500);
	config("{\"routes\":{\"GET /teams/{team}/projects\":{\"failPage\":null}}}");
	n = walk_projects(st, 6);
	assert_int_equal(n, 3);
	log = log_get("");
	j = cJSON_GetArrayItem(entries(log), 3);   /* seed, config, page 1, page 2 */
	assert_string_equal(str(j, "fault"), "pageFail");
	assert_true(num(j, "status", NULL) == 503);
	cJSON_Delete(log);
	j = sim_stats(&sim);
	assert_true(num(j, "faults", "pageFail", NULL) == 5);
	cJSON_Delete(j);
	/* the team deployment listing too, and an unpaginated listing is page 1 */
	config("{\"routes\":{\"GET /teams/{team}/list_deployments\":{\"failPage\":{\"page\":2}},"
	    "\"GET /projects/{id}/list_deployments\":{\"failPage\":{\"page\":1,\"times\":1}}}}");
	j = get_json(&sim, "/teams/1/list_deployments", 200);
	snprintf(path, sizeof(path), "/teams/1/list_deployments?cursor=%s",
	    str(cJSON_GetObjectItem(j, "pagination"), "nextCursor"));
	cJSON_Delete(j);
	get_expect(&sim, path, 500, "InternalServerError");
	get_expect(&sim, "/projects/1000/list_deployments", 500, "InternalServerError");
	cJSON_Delete(get_json(&sim, "/projects/1000/list_deployments", 200));
}

/* ---- scripted answers */

static void
script(const char *body, long want)
{
	cJSON_Delete(admin_json(&sim, "/_sim/script", body, want));
}

static void
test_script_queue(void **state)
{
	struct sim_response r;
	char hdr[64];
	cJSON *j, *log;
	long pid;

	(void)state;
	pid = create_project("real");
	/* repeated items across pages, a NUL escape, raw C1 and NUL bytes,
	 * a huge Retry-After; then normal handling again */
	script("{\"route\":\"GET /teams/{team}/projects\",\"responses\":["
	    "{\"status\":200,\"body\":\"{\\\"items\\\":[{\\\"id\\\":1000,\\\"name\\\":\\\"a\\\\u0000b\\\"}],"
	    "\\\"pagination\\\":{\\\"hasMore\\\":true,\\\"nextCursor\\\":\\\"c1\\\"}}\"},"
	    "{\"status\":200,\"bodyBase64\":\"eyJuYW1lIjoiwoUAIn0=\"},"
	    "{\"status\":429,\"headers\":{\"Retry-After\":\"99999999999\"},\"body\":\"{}\"}]}", 200);
	assert_int_equal(sim_get(&sim, "/teams/1/projects", &r), 0);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "a\\u0000b"));   /* the escape, as sent */
	sim_response_free(&r);
	assert_int_equal(sim_get(&sim, "/teams/1/projects?cursor=c1", &r), 0);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.len, 14);   /* {"name":"\xc2\x85\0"} */
	assert_memory_equal(r.body, "{\"name\":\"\xc2\x85\0\"}", 14);
	sim_response_free(&r);
	assert_int_equal(sim_get(&sim, "/teams/1/projects", &r), 0);
	assert_int_equal(r.status, 429);
	assert_string_equal(sim_response_header(&r, "Retry-After", hdr, sizeof(hdr)), "99999999999");
	sim_response_free(&r);
	j = get_json(&sim, "/teams/1/projects", 200);   /* the queue is empty */
	assert_true((long)num(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "items"), 0), "id", NULL) == pid);
	cJSON_Delete(j);

	/* endless fresh cursors: times 0 and ${n} */
	script("{\"route\":\"GET /teams/{team}/list_deployments\",\"responses\":[{\"status\":200,"
	    "\"times\":0,\"template\":true,\"body\":\"{\\\"items\\\":[],\\\"pagination\\\":"
	    "{\\\"hasMore\\\":true,\\\"nextCursor\\\":\\\"cur-${n}\\\"}}\"}]}", 200);
	for (int i = 1; i <= 5; i++) {
		char want[32];

		j = get_json(&sim, "/teams/1/list_deployments", 200);
		snprintf(want, sizeof(want), "cur-%d", i);
		assert_string_equal(str(cJSON_GetObjectItem(j, "pagination"), "nextCursor"), want);
		cJSON_Delete(j);
	}
	j = admin_json(&sim, "/_sim/script", NULL, 200);
	assert_true(num(j, "count", NULL) == 1);
	assert_true(num(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "entries"), 0), "served", NULL) == 5);
	cJSON_Delete(j);
	cJSON_Delete(admin_json(&sim, "/_sim/script/clear", "", 200));
	cJSON_Delete(get_json(&sim, "/teams/1/list_deployments", 200));

	/* drop; act (the real handler runs, its answer replaced); a path
	 * filter; served before the token check */
	script("{\"route\":\"POST /teams/{team}/create_project\",\"responses\":["
	    "{\"drop\":true},{\"act\":true,\"status\":502,\"body\":\"bad gateway\","
	    "\"headers\":{\"Content-Type\":\"text/plain\"}}]}", 200);
	assert_int_equal(sim_post(&sim, "/teams/1/create_project", "{\"projectName\":\"x1\"}", &r),
	    -ECONNRESET);
	sim_response_free(&r);
	assert_int_equal(sim_post(&sim, "/teams/1/create_project", "{\"projectName\":\"x2\"}", &r), 0);
	assert_int_equal(r.status, 502);
	assert_string_equal(r.body, "bad gateway");
	assert_string_equal(sim_response_header(&r, "Content-Type", hdr, sizeof(hdr)), "text/plain");
	sim_response_free(&r);
	assert_int_equal(count_state(&sim, "projects"), 2);   /* real + x2 */
	script("{\"route\":\"GET /projects/{id}\",\"path\":\"/v1/projects/77\",\"responses\":"
	    "[{\"status\":200,\"body\":\"{\\\"id\\\":77}\"}]}", 200);
	get_expect(&sim, "/projects/78", 404, "ProjectNotFound");
	assert_int_equal(sim_request(&sim, "GET", "/v1/projects/77", NULL, NULL, &r), 0);
	assert_int_equal(r.status, 200);
	sim_response_free(&r);
	log = log_get("");
	j = cJSON_GetArrayItem(entries(log), cJSON_GetArraySize(entries(log)) - 1);
	assert_string_equal(str(j, "fault"), "script");
	cJSON_Delete(log);

	/* refused scripts */
	script("{\"route\":\"GET /nope\",\"responses\":[{\"status\":200}]}", 400);
	script("{\"route\":\"GET /token_details\",\"responses\":[{\"status\":99}]}", 400);
	script("{\"route\":\"GET /token_details\",\"responses\":[{\"status\":200,"
	    "\"headers\":{\"X-A\":\"1\\r\\nX-B: 2\"}}]}", 400);
	script("{\"route\":\"GET /token_details\",\"responses\":[{\"status\":200,\"bodyBase64\":\"!!\"}]}", 400);
	script("{\"route\":\"GET /token_details\",\"responses\":[{\"status\":200,\"colour\":1}]}", 400);
	script("{\"route\":\"GET /token_details\",\"responses\":[]}", 400);
	script("{\"route\":\"GET /token_details\"}", 400);
	j = admin_json(&sim, "/_sim/script", NULL, 200);
	assert_true(num(j, "count", NULL) == 0);
	cJSON_Delete(j);
	/* a reset clears the queue */
	script("{\"route\":\"GET /token_details\",\"responses\":[{\"status\":418,\"body\":\"{}\"}]}", 200);
	sim_reset(&sim);
	cJSON_Delete(get_json(&sim, "/token_details", 200));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_log_entries_and_versions, reset),
		cmocka_unit_test_setup(test_log_concurrent_writes, reset),
		cmocka_unit_test(test_log_limit_flag),
		cmocka_unit_test_setup(test_person_never_faulted, reset),
		cmocka_unit_test_setup(test_route_error_rate, reset),
		cmocka_unit_test_setup(test_route_knobs_keep_global_sequence, reset),
		cmocka_unit_test_setup(test_route_after_faults, reset),
		cmocka_unit_test_setup(test_route_rate_limit_stall_bad_json, reset),
		cmocka_unit_test_setup(test_fail_page, reset),
		cmocka_unit_test_setup(test_script_queue, reset),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
