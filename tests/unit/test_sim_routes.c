/* test_sim_routes.c: every /v1 route of convex-api-sim over HTTP: shapes, pagination, filters, validation, auth. */
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
	return sim_stop(&sim) == 0 ? 0 : -1;   /* clean exit on SIGTERM */
}

static int
reset(void **state)
{
	(void)state;
	sim_reset(&sim);
	return 0;
}

static bool
is_deployment_name(const char *s)
{
	int dashes = 0;
	const char *p = s;

	/* [a-z]+-[a-z]+-[0-9]+ */
	for (; *p >= 'a' && *p <= 'z'; p++)
		;
	if (p == s || *p++ != '-')
		return false;
	dashes++;
	s = p;
	for (; *p >= 'a' && *p <= 'z'; p++)
		;
	if (p == s || *p++ != '-')
		return false;
	s = p;
	for (; *p >= '0' && *p <= '9'; p++)
		;
	return p != s && *p == '\0' && dashes == 1;
}

static long
create_project(const char *name, const char *extra)
{
	char body[512];
	cJSON *j;
	long id;

	snprintf(body, sizeof(body), "{\"projectName\":\"%s\"%s%s}", name,
	    extra ? "," : "", extra ? extra : "");
	j = post_json(&sim, "/teams/1/create_project", body, 200);
	id = (long)num(j, "id", NULL);
	assert_true(id > 0);
	cJSON_Delete(j);
	return id;
}

static cJSON *
create_deployment(long pid, const char *body, long want)
{
	char path[128];

	snprintf(path, sizeof(path), "/projects/%ld/create_deployment", pid);
	return post_json(&sim, path, body, want);
}

static void
create_deployment_expect(long pid, const char *body, const char *code)
{
	char path[128];

	snprintf(path, sizeof(path), "/projects/%ld/create_deployment", pid);
	post_expect(&sim, path, body, 400, code);
}

/* ---- token and auth */

static void
test_token_details(void **state)
{
	cJSON *j = get_json(&sim, "/token_details", 200);

	(void)state;
	assert_string_equal(str(j, "type"), "teamToken");
	assert_int_equal((long)num(j, "teamId", NULL), 1);
	assert_non_null(str(j, "name"));
	assert_true(num(j, "id", NULL) >= 0);
	assert_true(num(j, "createTime", NULL) > 0);
	cJSON_Delete(j);
}

static void
test_auth(void **state)
{
	struct sim_response r;

	(void)state;
	assert_int_equal(sim_request(&sim, "GET", "/v1/token_details", NULL,
	    NULL, &r), 0);
	expect_error(&r, 401, "Unauthorized");
	sim_response_free(&r);
	assert_int_equal(sim_request(&sim, "GET", "/v1/teams/1/projects",
	    "wrong-token", NULL, &r), 0);
	expect_error(&r, 401, "Unauthorized");
	sim_response_free(&r);
	assert_int_equal(sim_request(&sim, "POST", "/v1/teams/1/create_project",
	    "sim-tokenX", "{\"projectName\":\"x\"}", &r), 0);
	expect_error(&r, 401, "Unauthorized");
	sim_response_free(&r);
	assert_int_equal(count_state(&sim, "projects"), 0);   /* nothing made */
}

static void
test_unknown_routes(void **state)
{
	struct sim_response r;

	(void)state;
	get_expect(&sim, "/no/such/route", 404, "NotFound");
	get_expect(&sim, "/teams/1/projects/extra/segments/here", 404, "NotFound");
	assert_int_equal(sim_request(&sim, "GET", "/elsewhere", "sim-token",
	    NULL, &r), 0);
	expect_error(&r, 404, "NotFound");
	sim_response_free(&r);
	/* a known path with the wrong method */
	assert_int_equal(sim_request(&sim, "DELETE", "/v1/projects/1000",
	    "sim-token", NULL, &r), 0);
	expect_error(&r, 405, "MethodNotAllowed");
	sim_response_free(&r);
	get_expect(&sim, "/projects/999999", 404, "ProjectNotFound");
	get_expect(&sim, "/projects/abc", 400, "BadRequest");
	get_expect(&sim, "/deployments/no-such-dep-1", 404, "DeploymentNotFound");
	get_expect(&sim, "/teams/2/projects", 404, "TeamNotFound");
	get_expect(&sim, "/teams/sim-team/list_projects", 404, "TeamNotFound");
	post_expect(&sim, "/projects/424242/delete", NULL, 404, "ProjectNotFound");
	post_expect(&sim, "/deployments/nope-nope-1/delete", NULL, 404,
	    "DeploymentNotFound");
}

/* ---- projects */

static void
test_create_project_shapes(void **state)
{
	cJSON *a, *b, *p, *d;
	char path[128];
	const char *dn;

	(void)state;
	a = post_json(&sim, "/teams/1/create_project",
	    "{\"projectName\":\"My Shop!\"}", 200);
	assert_true(num(a, "id", NULL) > 0);
	assert_true(num(a, "projectId", NULL) == num(a, "id", NULL));
	assert_string_equal(str(a, "slug"), "my-shop");
	assert_null(cJSON_GetObjectItem(a, "deploymentName"));
	assert_null(cJSON_GetObjectItem(a, "deploymentUrl"));

	/* names are not unique; slugs are */
	b = post_json(&sim, "/teams/1/create_project",
	    "{\"projectName\":\"My Shop!\",\"deploymentType\":\"prod\","
	    "\"deploymentRegion\":\"aws-eu-west-1\",\"deploymentClass\":\"s256\"}", 200);
	assert_true(num(b, "id", NULL) > num(a, "id", NULL));
	assert_string_not_equal(str(b, "slug"), "my-shop");
	dn = str(b, "deploymentName");
	assert_non_null(dn);
	assert_true(is_deployment_name(dn));
	snprintf(path, sizeof(path), "https://%s.eu-west-1.convex.cloud", dn);
	assert_string_equal(str(b, "deploymentUrl"), path);

	snprintf(path, sizeof(path), "/projects/%ld", (long)num(b, "id", NULL));
	p = get_json(&sim, path, 200);
	assert_true(num(p, "id", NULL) == num(b, "id", NULL));
	assert_string_equal(str(p, "name"), "My Shop!");
	assert_string_equal(str(p, "slug"), str(b, "slug"));
	assert_int_equal((long)num(p, "teamId", NULL), 1);
	assert_string_equal(str(p, "teamSlug"), "sim-team");
	assert_true(num(p, "createTime", NULL) > 1.5e12);
	assert_string_equal(str(p, "prodDeploymentName"), dn);
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(p, "devDeploymentName")));

	snprintf(path, sizeof(path), "/deployments/%s", dn);
	d = get_json(&sim, path, 200);
	assert_string_equal(str(d, "kind"), "cloud");
	assert_string_equal(str(d, "deploymentType"), "prod");
	assert_string_equal(str(d, "region"), "aws-eu-west-1");
	assert_string_equal(str(d, "class"), "s256");
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(d, "isDefault")));
	assert_true(num(d, "projectId", NULL) == num(b, "id", NULL));
	assert_non_null(str(d, "reference"));
	cJSON_Delete(a);
	cJSON_Delete(b);
	cJSON_Delete(p);
	cJSON_Delete(d);
}

static void
test_create_project_validation(void **state)
{
	char big[400];

	(void)state;
	post_expect(&sim, "/teams/1/create_project", "{}", 400, "BadRequest");
	post_expect(&sim, "/teams/1/create_project", "{\"projectName\":7}", 400,
	    "BadRequest");
	post_expect(&sim, "/teams/1/create_project", "{\"projectName\":\"  \"}",
	    400, "InvalidProjectName");
	memset(big, 'a', 200);
	snprintf(big + 200, sizeof(big) - 200, "\"}");
	{
		char body[512];

		snprintf(body, sizeof(body), "{\"projectName\":\"%s", big);
		post_expect(&sim, "/teams/1/create_project", body, 400,
		    "InvalidProjectName");
	}
	post_expect(&sim, "/teams/1/create_project",
	    "{\"projectName\":\"x\",\"deploymentType\":\"staging\"}", 400,
	    "BadRequest");
	post_expect(&sim, "/teams/1/create_project",
	    "{\"projectName\":\"x\",\"deploymentType\":\"dev\",\"deploymentRegion\":\"mars-1\"}",
	    400, "BadRequest");
	post_expect(&sim, "/teams/1/create_project",
	    "{\"projectName\":\"x\",\"deploymentType\":\"dev\",\"deploymentClass\":\"huge\"}",
	    400, "BadRequest");
	post_expect(&sim, "/teams/1/create_project", "{\"projectName\":", 400,
	    "BadRequest");
	post_expect(&sim, "/teams/1/create_project", "[1,2]", 400, "BadRequest");
	post_expect(&sim, "/teams/1/create_project", "{\"projectName\":\"x\"} junk",
	    400, "BadRequest");
	post_expect(&sim, "/teams/1/create_project", "", 400, "BadRequest");
	assert_int_equal(count_state(&sim, "projects"), 0);
}

/* Walks every page; checks newest first and every id exactly once. */
static void
walk_projects(const char *query, int limit, long want_items, int want_pages)
{
	char path[256], cursor[64] = "";
	long items = 0, prev = 0;
	int pages = 0;
	bool more;

	do {
		cJSON *j, *arr, *pg, *it;

		snprintf(path, sizeof(path), "/teams/1/projects?limit=%d%s%s%s%s",
		    limit, *cursor ? "&cursor=" : "", cursor,
		    query ? "&" : "", query ? query : "");
		j = get_json(&sim, path, 200);
		arr = cJSON_GetObjectItem(j, "items");
		pg = cJSON_GetObjectItem(j, "pagination");
		assert_true(cJSON_IsArray(arr));
		assert_true(cJSON_IsObject(pg));
		assert_true(cJSON_GetArraySize(arr) <= limit);
		cJSON_ArrayForEach(it, arr) {
			long id = (long)num(it, "id", NULL);

			if (prev != 0)
				assert_true(id < prev);   /* newest first, no repeats */
			prev = id;
			items++;
		}
		more = cJSON_IsTrue(cJSON_GetObjectItem(pg, "hasMore"));
		if (more) {
			const char *c = str(pg, "nextCursor");

			assert_non_null(c);
			assert_int_equal(cJSON_GetArraySize(arr), limit);
			snprintf(cursor, sizeof(cursor), "%s", c);
		} else {
			assert_true(cJSON_IsNull(cJSON_GetObjectItem(pg, "nextCursor")));
		}
		pages++;
		cJSON_Delete(j);
	} while (more && pages < 1000);
	assert_int_equal(items, want_items);
	assert_int_equal(pages, want_pages);
}

static void
test_projects_pagination(void **state)
{
	struct sim_response r;
	cJSON *j;

	(void)state;
	/* 200 seeded directly plus 50 through the API */
	assert_int_equal(sim_admin_post(&sim, "/_sim/seed",
	    "{\"projects\":200,\"prefix\":\"seeded-\"}", &r), 0);
	assert_int_equal(r.status, 200);
	sim_response_free(&r);
	for (int i = 0; i < 50; i++) {
		char name[32];

		snprintf(name, sizeof(name), "api-%d", i);
		create_project(name, NULL);
	}
	walk_projects(NULL, 100, 250, 3);
	walk_projects(NULL, 1, 250, 250);
	walk_projects(NULL, 250 > 100 ? 100 : 250, 250, 3);
	/* default limit is 100 */
	j = get_json(&sim, "/teams/1/projects", 200);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "items")), 100);
	/* the newest is the last created */
	assert_string_equal(str(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "items"), 0),
	    "name"), "api-49");
	cJSON_Delete(j);
	/* q: case-insensitive on name or slug */
	walk_projects("q=API-", 20, 50, 3);
	walk_projects("q=seeded-19", 100, 11, 1);   /* 19, 190..199 */
	walk_projects("q=nothing-like-this", 100, 0, 1);
	/* an exact page boundary: 50 items, limit 50 -> one page, no more */
	walk_projects("q=api", 50, 50, 1);
}

static void
test_projects_pagination_errors(void **state)
{
	cJSON *j, *d;
	char path[256];
	long pid;

	(void)state;
	get_expect(&sim, "/teams/1/projects?limit=0", 400, "BadRequest");
	get_expect(&sim, "/teams/1/projects?limit=101", 400, "BadRequest");
	get_expect(&sim, "/teams/1/projects?limit=ten", 400, "BadRequest");
	get_expect(&sim, "/teams/1/projects?limit=-5", 400, "BadRequest");
	get_expect(&sim, "/teams/1/projects?cursor=garbage", 400, "InvalidCursor");
	get_expect(&sim, "/teams/1/projects?cursor=p00000000000000000000", 400,
	    "InvalidCursor");
	/* a cursor from the deployment listing is not a project cursor */
	pid = create_project("a", NULL);
	for (int i = 0; i < 3; i++) {
		d = create_deployment(pid, "{\"type\":\"custom\"}", 200);
		cJSON_Delete(d);
	}
	j = get_json(&sim, "/teams/1/list_deployments?limit=1", 200);
	snprintf(path, sizeof(path), "/teams/1/projects?cursor=%s",
	    str(cJSON_GetObjectItem(j, "pagination"), "nextCursor"));
	get_expect(&sim, path, 400, "InvalidCursor");
	cJSON_Delete(j);
}

static void
test_cursor_survives_deletes(void **state)
{
	char path[256], cursor[64];
	long ids[5];
	cJSON *j, *it;
	long n = 0;

	(void)state;
	for (int i = 0; i < 5; i++)
		ids[i] = create_project("x", NULL);
	j = get_json(&sim, "/teams/1/projects?limit=2", 200);   /* ids[4], ids[3] */
	snprintf(cursor, sizeof(cursor), "%s",
	    str(cJSON_GetObjectItem(j, "pagination"), "nextCursor"));
	cJSON_Delete(j);
	snprintf(path, sizeof(path), "/projects/%ld/delete", ids[2]);
	cJSON_Delete(post_json(&sim, path, NULL, 200));
	snprintf(path, sizeof(path), "/teams/1/projects?limit=2&cursor=%s", cursor);
	j = get_json(&sim, path, 200);
	cJSON_ArrayForEach(it, cJSON_GetObjectItem(j, "items")) {
		long id = (long)num(it, "id", NULL);

		assert_true(id == ids[1] || id == ids[0]);
		n++;
	}
	assert_int_equal(n, 2);
	assert_false(cJSON_IsTrue(cJSON_GetObjectItem(
	    cJSON_GetObjectItem(j, "pagination"), "hasMore")));
	cJSON_Delete(j);
}

static void
test_list_projects_legacy_shape(void **state)
{
	cJSON *j, *it;
	long ids[3], n = 0;

	(void)state;
	ids[0] = create_project("one", NULL);
	ids[1] = create_project("two", NULL);
	ids[2] = create_project("one", NULL);
	j = get_json(&sim, "/teams/1/list_projects", 200);
	assert_true(cJSON_IsArray(j));
	assert_int_equal(cJSON_GetArraySize(j), 3);
	cJSON_ArrayForEach(it, j) {
		assert_true((long)num(it, "id", NULL) == ids[n]);
		assert_non_null(str(it, "name"));
		assert_non_null(str(it, "slug"));
		assert_int_equal((long)num(it, "teamId", NULL), 1);
		assert_true(num(it, "createTime", NULL) > 0);
		n++;
	}
	cJSON_Delete(j);
}

/* ---- deployments */

static void
test_reference_rules(void **state)
{
	static const char *const reserved[] = {
		"prod", "dev", "cloud", "local", "default", "name", "new",
		"existing", "deployment", "preview",
	};
	char body[512], ref[128];
	long pid;
	cJSON *d;

	(void)state;
	pid = create_project("refs", NULL);
	create_deployment_expect(pid, "{\"type\":\"dev\",\"reference\":\"ab\"}",
	    "InvalidReference");
	memset(ref, 'a', 101);
	ref[101] = '\0';
	snprintf(body, sizeof(body), "{\"type\":\"dev\",\"reference\":\"%s\"}", ref);
	create_deployment_expect(pid, body, "InvalidReference");
	ref[100] = '\0';   /* exactly 100 is fine */
	snprintf(body, sizeof(body), "{\"type\":\"dev\",\"reference\":\"%s\"}", ref);
	cJSON_Delete(create_deployment(pid, body, 200));
	create_deployment_expect(pid, "{\"type\":\"dev\",\"reference\":\"Staging\"}",
	    "InvalidReference");
	create_deployment_expect(pid, "{\"type\":\"dev\",\"reference\":\"a_b_c\"}",
	    "InvalidReference");
	create_deployment_expect(pid, "{\"type\":\"dev\",\"reference\":\"has space\"}",
	    "InvalidReference");
	create_deployment_expect(pid,
	    "{\"type\":\"dev\",\"reference\":\"happy-otter-123\"}", "InvalidReference");
	create_deployment_expect(pid, "{\"type\":\"dev\",\"reference\":\"local-mine\"}",
	    "InvalidReference");
	for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++) {
		snprintf(body, sizeof(body), "{\"type\":\"dev\",\"reference\":\"%s\"}",
		    reserved[i]);
		create_deployment_expect(pid, body, "InvalidReference");
	}
	/* close to the rules but valid */
	d = create_deployment(pid, "{\"type\":\"dev\",\"reference\":\"feature/login-2\"}", 200);
	assert_string_equal(str(d, "reference"), "feature/login-2");
	cJSON_Delete(d);
	cJSON_Delete(create_deployment(pid, "{\"type\":\"dev\",\"reference\":\"happy-otter\"}", 200));
	cJSON_Delete(create_deployment(pid, "{\"type\":\"dev\",\"reference\":\"abc\"}", 200));
	cJSON_Delete(create_deployment(pid, "{\"type\":\"dev\",\"reference\":\"prod2\"}", 200));
	cJSON_Delete(create_deployment(pid, "{\"type\":\"dev\",\"reference\":\"locals\"}", 200));
	/* unique per project, not per team */
	create_deployment_expect(pid, "{\"type\":\"prod\",\"reference\":\"abc\"}",
	    "ReferenceAlreadyExists");
	pid = create_project("other", NULL);
	cJSON_Delete(create_deployment(pid, "{\"type\":\"prod\",\"reference\":\"abc\"}", 200));
}

static void
test_create_deployment_shapes(void **state)
{
	cJSON *d, *d2;
	char url[160];
	long pid;

	(void)state;
	pid = create_project("deps", NULL);
	d = create_deployment(pid, "{\"type\":\"dev\",\"reference\":\"staging\","
	    "\"region\":\"aws-us-east-1\",\"class\":\"d1024\"}", 200);
	assert_string_equal(str(d, "kind"), "cloud");
	assert_true(num(d, "id", NULL) > 0);
	assert_true(is_deployment_name(str(d, "name")));
	assert_true((long)num(d, "projectId", NULL) == pid);
	assert_string_equal(str(d, "deploymentType"), "dev");
	assert_string_equal(str(d, "reference"), "staging");
	assert_string_equal(str(d, "region"), "aws-us-east-1");
	assert_string_equal(str(d, "class"), "d1024");
	assert_false(cJSON_IsTrue(cJSON_GetObjectItem(d, "isDefault")));
	snprintf(url, sizeof(url), "https://%s.convex.cloud", str(d, "name"));
	assert_string_equal(str(d, "deploymentUrl"), url);
	assert_true(num(d, "createTime", NULL) > 1.5e12);

	/* defaults: region us-east-1, class s16; no reference -> generated
	 * and the default of its type */
	d2 = create_deployment(pid, "{\"type\":\"prod\"}", 200);
	assert_string_equal(str(d2, "region"), "aws-us-east-1");
	assert_string_equal(str(d2, "class"), "s16");
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(d2, "isDefault")));
	assert_string_equal(str(d2, "reference"), "production");
	assert_string_not_equal(str(d2, "name"), str(d, "name"));
	cJSON_Delete(d2);
	/* a second default prod (no reference) is refused */
	create_deployment_expect(pid, "{\"type\":\"prod\"}", "DefaultDeploymentExists");
	create_deployment_expect(pid, "{\"type\":\"prod\",\"reference\":\"prod-b\",\"isDefault\":true}",
	    "DefaultDeploymentExists");
	d2 = create_deployment(pid, "{\"type\":\"prod\",\"reference\":\"prod-two\",\"isDefault\":false}", 200);
	assert_false(cJSON_IsTrue(cJSON_GetObjectItem(d2, "isDefault")));
	cJSON_Delete(d2);
	/* isDefault is for dev and prod only */
	create_deployment_expect(pid, "{\"type\":\"preview\",\"reference\":\"pr-9\",\"isDefault\":true}",
	    "BadRequest");
	create_deployment_expect(pid, "{\"type\":\"custom\",\"isDefault\":true}", "BadRequest");
	/* previews expire by default; custom deployments not */
	d2 = create_deployment(pid, "{\"type\":\"preview\"}", 200);
	assert_true(num(d2, "expiresAt", NULL) > num(d2, "createTime", NULL));
	assert_false(cJSON_IsTrue(cJSON_GetObjectItem(d2, "isDefault")));
	cJSON_Delete(d2);
	d2 = create_deployment(pid, "{\"type\":\"custom\",\"expiresAt\":null}", 200);
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(d2, "expiresAt")));
	cJSON_Delete(d2);
	/* argument errors */
	create_deployment_expect(pid, "{}", "BadRequest");
	create_deployment_expect(pid, "{\"type\":\"staging\"}", "BadRequest");
	create_deployment_expect(pid, "{\"type\":\"dev\",\"region\":\"eu\"}", "BadRequest");
	create_deployment_expect(pid, "{\"type\":\"dev\",\"class\":\"s32\"}", "BadRequest");
	create_deployment_expect(pid, "{\"type\":\"dev\",\"isDefault\":\"yes\"}", "BadRequest");
	create_deployment_expect(pid, "{\"type\":\"dev\",\"expiresAt\":1000}", "BadRequest");
	create_deployment_expect(pid, "{\"type\":\"dev\",\"reference\":12}", "BadRequest");
	create_deployment_expect(pid, "{\"type\":\"dev\"", "BadRequest");
	post_expect(&sim, "/projects/99999/create_deployment", "{\"type\":\"dev\"}", 404,
	    "ProjectNotFound");
	cJSON_Delete(d);
}

static const char local_state[] =
    "{\"projects\":[{\"id\":5,\"name\":\"withlocal\",\"createTime\":1700000000000},"
    "{\"id\":6,\"name\":\"plain\"}],"
    "\"deployments\":["
    "{\"kind\":\"cloud\",\"id\":10,\"name\":\"calm-cat-100\",\"projectId\":5,"
    "\"deploymentType\":\"prod\",\"reference\":\"production\",\"isDefault\":true},"
    "{\"kind\":\"local\",\"name\":\"local-anna-laptop\",\"projectId\":5,"
    "\"deviceName\":\"anna-laptop\",\"port\":3210,\"isActive\":true,\"creator\":7001},"
    "{\"kind\":\"cloud\",\"id\":11,\"name\":\"brave-dog-200\",\"projectId\":5,"
    "\"deploymentType\":\"dev\",\"reference\":\"development\",\"isDefault\":true},"
    "{\"kind\":\"cloud\",\"id\":12,\"name\":\"quick-fox-300\",\"projectId\":5,"
    "\"deploymentType\":\"dev\",\"reference\":\"feature-x\"},"
    "{\"kind\":\"cloud\",\"id\":13,\"name\":\"tidy-owl-400\",\"projectId\":6,"
    "\"deploymentType\":\"custom\",\"reference\":\"sandbox\",\"region\":\"aws-eu-west-1\"}"
    "]}";

static void
load_state(const char *json)
{
	struct sim_response r;

	assert_int_equal(sim_admin_post(&sim, "/_sim/state", json, &r), 0);
	if (r.status != 200)
		fail_msg("state refused: %s", r.body);
	sim_response_free(&r);
}

static long
array_len_get(const char *path)
{
	cJSON *j = get_json(&sim, path, 200);
	long n;

	assert_true(cJSON_IsArray(j));
	n = cJSON_GetArraySize(j);
	cJSON_Delete(j);
	return n;
}

static void
test_project_list_deployments(void **state)
{
	cJSON *j, *it;
	bool local_seen = false;

	(void)state;
	load_state(local_state);
	assert_int_equal(array_len_get("/projects/5/list_deployments"), 3);
	assert_int_equal(array_len_get("/projects/5/list_deployments?includeLocal=false"), 3);
	j = get_json(&sim, "/projects/5/list_deployments?includeLocal=true", 200);
	assert_int_equal(cJSON_GetArraySize(j), 4);
	cJSON_ArrayForEach(it, j) {
		if (strcmp(str(it, "kind"), "local") != 0)
			continue;
		local_seen = true;
		assert_string_equal(str(it, "name"), "local-anna-laptop");
		assert_string_equal(str(it, "deviceName"), "anna-laptop");
		assert_int_equal((long)num(it, "port", NULL), 3210);
		assert_true(cJSON_IsTrue(cJSON_GetObjectItem(it, "isActive")));
		assert_int_equal((long)num(it, "creator", NULL), 7001);
		assert_int_equal((long)num(it, "projectId", NULL), 5);
		assert_string_equal(str(it, "deploymentType"), "dev");
		assert_null(cJSON_GetObjectItem(it, "reference"));
	}
	assert_true(local_seen);
	cJSON_Delete(j);
	assert_int_equal(array_len_get("/projects/5/list_deployments?isDefault=true"), 2);
	assert_int_equal(array_len_get("/projects/5/list_deployments?isDefault=false"), 1);
	assert_int_equal(array_len_get("/projects/5/list_deployments?deploymentType=dev"), 2);
	assert_int_equal(array_len_get("/projects/5/list_deployments?deploymentType=dev&isDefault=true"), 1);
	assert_int_equal(array_len_get("/projects/5/list_deployments?deploymentType=preview"), 0);
	assert_int_equal(array_len_get("/projects/6/list_deployments"), 1);
	get_expect(&sim, "/projects/5/list_deployments?includeLocal=yes", 400, "BadRequest");
	get_expect(&sim, "/projects/5/list_deployments?deploymentType=big", 400, "BadRequest");
	get_expect(&sim, "/projects/77/list_deployments", 404, "ProjectNotFound");
	/* the project answers carry the default names */
	j = get_json(&sim, "/projects/5", 200);
	assert_string_equal(str(j, "prodDeploymentName"), "calm-cat-100");
	assert_string_equal(str(j, "devDeploymentName"), "brave-dog-200");
	assert_true(num(j, "createTime", NULL) == 1700000000000.0);
	cJSON_Delete(j);
	/* /deployments/{name} serves cloud deployments only */
	get_expect(&sim, "/deployments/local-anna-laptop", 404, "DeploymentNotFound");
	j = get_json(&sim, "/teams/1/list_local_deployments", 200);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "items")), 1);
	cJSON_Delete(j);
	/* new ids never collide with loaded ones */
	j = create_deployment(6, "{\"type\":\"dev\",\"reference\":\"new-one\"}", 200);
	assert_true(num(j, "id", NULL) > 13);
	cJSON_Delete(j);
}

/* Walks the team-wide deployment listing; returns items seen. */
static long
walk_team_deployments(const char *query, int limit, bool asc, int *pages_out)
{
	char path[256], cursor[64] = "";
	long items = 0;
	double prev = 0;
	int pages = 0;
	bool more;

	do {
		cJSON *j, *pg, *it;

		snprintf(path, sizeof(path),
		    "/teams/1/list_deployments?limit=%d%s%s%s%s%s", limit,
		    asc ? "&sortOrder=asc" : "", *cursor ? "&cursor=" : "", cursor,
		    query ? "&" : "", query ? query : "");
		j = get_json(&sim, path, 200);
		pg = cJSON_GetObjectItem(j, "pagination");
		cJSON_ArrayForEach(it, cJSON_GetObjectItem(j, "items")) {
			double ct = num(it, "createTime", NULL);

			/* newest (or oldest) first; creation times may tie */
			if (items > 0)
				assert_true(asc ? ct >= prev : ct <= prev);
			prev = ct;
			items++;
		}
		more = cJSON_IsTrue(cJSON_GetObjectItem(pg, "hasMore"));
		if (more)
			snprintf(cursor, sizeof(cursor), "%s", str(pg, "nextCursor"));
		pages++;
		cJSON_Delete(j);
	} while (more && pages < 1000);
	if (pages_out)
		*pages_out = pages;
	return items;
}

static void
test_team_list_deployments(void **state)
{
	struct sim_response r;
	cJSON *j, *it;
	char path[128], q[64];
	int pages;
	long first, n = 0;
	bool local = false;

	(void)state;
	load_state(local_state);
	/* 30 projects x 5 deployments on top of the 5 loaded */
	assert_int_equal(sim_admin_post(&sim, "/_sim/seed",
	    "{\"projects\":30,\"deploymentsPerProject\":5}", &r), 0);
	assert_int_equal(r.status, 200);
	j = body_json(&r);
	first = (long)num(j, "firstProjectId", NULL);
	assert_int_equal((long)num(j, "deployments", NULL), 150);
	cJSON_Delete(j);
	sim_response_free(&r);

	assert_int_equal(walk_team_deployments(NULL, 40, false, &pages), 155);
	assert_int_equal(pages, 4);
	assert_int_equal(walk_team_deployments(NULL, 100, true, &pages), 155);
	assert_int_equal(pages, 2);
	snprintf(q, sizeof(q), "projectId=%ld", first);
	assert_int_equal(walk_team_deployments(q, 2, false, &pages), 5);
	assert_int_equal(pages, 3);
	assert_int_equal(walk_team_deployments("deploymentType=prod", 100, false, NULL), 31);
	assert_int_equal(walk_team_deployments("isDefault=true", 100, false, NULL), 62);
	assert_int_equal(walk_team_deployments("deploymentType=dev&isDefault=false", 100, false, NULL),
	    30 * 3 + 1 + 1);   /* dev-2..dev-4, feature-x, and the local one */
	assert_int_equal(walk_team_deployments("q=SANDBOX", 100, false, NULL), 1);
	assert_int_equal(walk_team_deployments("q=tidy-owl", 100, false, NULL), 1);
	assert_int_equal(walk_team_deployments("projectId=999999", 100, false, NULL), 0);
	/* local deployments are part of the item union: clients skip them */
	j = get_json(&sim, "/teams/1/list_deployments?projectId=5", 200);
	cJSON_ArrayForEach(it, cJSON_GetObjectItem(j, "items")) {
		if (strcmp(str(it, "kind"), "local") == 0)
			local = true;
		n++;
	}
	assert_true(local);
	assert_int_equal(n, 4);
	cJSON_Delete(j);
	get_expect(&sim, "/teams/1/list_deployments?limit=0", 400, "BadRequest");
	get_expect(&sim, "/teams/1/list_deployments?limit=101", 400, "BadRequest");
	get_expect(&sim, "/teams/1/list_deployments?isDefault=1", 400, "BadRequest");
	get_expect(&sim, "/teams/1/list_deployments?projectId=x", 400, "BadRequest");
	get_expect(&sim, "/teams/1/list_deployments?sortOrder=up", 400, "BadRequest");
	get_expect(&sim, "/teams/1/list_deployments?cursor=zzz", 400, "InvalidCursor");
	/* a descending cursor does not work with ascending order */
	j = get_json(&sim, "/teams/1/list_deployments?limit=1", 200);
	snprintf(path, sizeof(path), "/teams/1/list_deployments?sortOrder=asc&cursor=%s",
	    str(cJSON_GetObjectItem(j, "pagination"), "nextCursor"));
	get_expect(&sim, path, 400, "InvalidCursor");
	cJSON_Delete(j);
}

static void
test_deployment_get_patch_delete(void **state)
{
	struct sim_response r;
	cJSON *d, *g;
	char path[128];
	long pid;

	(void)state;
	pid = create_project("patchy", NULL);
	d = create_deployment(pid, "{\"type\":\"dev\",\"reference\":\"one\"}", 200);
	cJSON_Delete(create_deployment(pid, "{\"type\":\"dev\",\"reference\":\"two\"}", 200));
	cJSON_Delete(create_deployment(pid, "{\"type\":\"prod\"}", 200));   /* default prod */
	snprintf(path, sizeof(path), "/deployments/%s", str(d, "name"));

	assert_int_equal(sim_patch(&sim, path,
	    "{\"class\":\"s256\",\"reference\":\"uno\",\"isDefault\":true}", &r), 0);
	assert_int_equal(r.status, 200);
	sim_response_free(&r);
	g = get_json(&sim, path, 200);
	assert_string_equal(str(g, "class"), "s256");
	assert_string_equal(str(g, "reference"), "uno");
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(g, "isDefault")));
	assert_string_equal(str(g, "name"), str(d, "name"));
	cJSON_Delete(g);

	/* each refusal changes nothing */
	assert_int_equal(sim_patch(&sim, path, "{\"reference\":\"two\"}", &r), 0);
	expect_error(&r, 400, "ReferenceAlreadyExists");
	sim_response_free(&r);
	assert_int_equal(sim_patch(&sim, path, "{\"reference\":\"dev\",\"class\":\"d2048\"}", &r), 0);
	expect_error(&r, 400, "InvalidReference");
	sim_response_free(&r);
	assert_int_equal(sim_patch(&sim, path, "{\"class\":\"xl\"}", &r), 0);
	expect_error(&r, 400, "BadRequest");
	sim_response_free(&r);
	/* dev -> prod while default: the project already has a default prod */
	assert_int_equal(sim_patch(&sim, path, "{\"deploymentType\":\"prod\"}", &r), 0);
	expect_error(&r, 400, "DefaultDeploymentExists");
	sim_response_free(&r);
	assert_int_equal(sim_patch(&sim, path, "{\"deploymentType\":\"custom\"}", &r), 0);
	expect_error(&r, 400, "BadRequest");
	sim_response_free(&r);
	assert_int_equal(sim_patch(&sim, path, "{\"expiresAt\":5}", &r), 0);
	expect_error(&r, 400, "BadRequest");
	sim_response_free(&r);
	assert_int_equal(sim_patch(&sim, path, "not json", &r), 0);
	expect_error(&r, 400, "BadRequest");
	sim_response_free(&r);
	g = get_json(&sim, path, 200);
	assert_string_equal(str(g, "class"), "s256");
	assert_string_equal(str(g, "reference"), "uno");
	assert_string_equal(str(g, "deploymentType"), "dev");
	cJSON_Delete(g);
	/* the second dev cannot become default too */
	{
		cJSON *lst;
		char p2[128];

		snprintf(p2, sizeof(p2), "/projects/%ld/list_deployments?deploymentType=dev&isDefault=false", pid);
		lst = get_json(&sim, p2, 200);
		assert_int_equal(cJSON_GetArraySize(lst), 1);
		snprintf(p2, sizeof(p2), "/deployments/%s",
		    str(cJSON_GetArrayItem(lst, 0), "name"));
		assert_int_equal(sim_patch(&sim, p2, "{\"isDefault\":true}", &r), 0);
		expect_error(&r, 400, "DefaultDeploymentExists");
		sim_response_free(&r);
		cJSON_Delete(lst);
	}
	/* clearing the default, then changing type works */
	assert_int_equal(sim_patch(&sim, path,
	    "{\"isDefault\":false,\"deploymentType\":\"custom\",\"expiresAt\":null}", &r), 0);
	assert_int_equal(r.status, 200);
	sim_response_free(&r);
	g = get_json(&sim, path, 200);
	assert_string_equal(str(g, "deploymentType"), "custom");
	assert_false(cJSON_IsTrue(cJSON_GetObjectItem(g, "isDefault")));
	cJSON_Delete(g);

	/* delete: 200, then gone (404), a second delete 404 */
	snprintf(path, sizeof(path), "/deployments/%s/delete", str(d, "name"));
	cJSON_Delete(post_json(&sim, path, NULL, 200));
	post_expect(&sim, path, NULL, 404, "DeploymentNotFound");
	snprintf(path, sizeof(path), "/deployments/%s", str(d, "name"));
	get_expect(&sim, path, 404, "DeploymentNotFound");
	assert_int_equal(sim_patch(&sim, path, "{}", &r), 0);
	expect_error(&r, 404, "DeploymentNotFound");
	sim_response_free(&r);
	/* the reference is free again */
	cJSON_Delete(create_deployment(pid, "{\"type\":\"dev\",\"reference\":\"uno\"}", 200));
	cJSON_Delete(d);
}

static void
test_delete_project_cascades(void **state)
{
	char path[128], name[64];
	cJSON *d, *j;
	long pid, other;

	(void)state;
	pid = create_project("doomed", NULL);
	other = create_project("kept", NULL);
	d = create_deployment(pid, "{\"type\":\"prod\"}", 200);
	snprintf(name, sizeof(name), "%s", str(d, "name"));
	cJSON_Delete(d);
	cJSON_Delete(create_deployment(pid, "{\"type\":\"dev\",\"reference\":\"a-b\"}", 200));
	cJSON_Delete(create_deployment(other, "{\"type\":\"dev\",\"reference\":\"a-b\"}", 200));
	snprintf(path, sizeof(path), "/projects/%ld/delete", pid);
	cJSON_Delete(post_json(&sim, path, NULL, 200));
	snprintf(path, sizeof(path), "/projects/%ld", pid);
	get_expect(&sim, path, 404, "ProjectNotFound");
	snprintf(path, sizeof(path), "/deployments/%s", name);
	get_expect(&sim, path, 404, "DeploymentNotFound");
	snprintf(path, sizeof(path), "/projects/%ld/list_deployments", pid);
	get_expect(&sim, path, 404, "ProjectNotFound");
	j = get_json(&sim, "/teams/1/list_deployments", 200);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "items")), 1);
	cJSON_Delete(j);
	assert_int_equal(count_state(&sim, "projects"), 1);
	assert_int_equal(count_state(&sim, "deployments"), 1);
}

static void
test_regions_and_classes(void **state)
{
	cJSON *j;

	(void)state;
	j = get_json(&sim, "/teams/1/list_deployment_regions", 200);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "items")), 2);
	assert_string_equal(str(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "items"), 0),
	    "name"), "aws-us-east-1");
	cJSON_Delete(j);
	j = get_json(&sim, "/teams/1/list_deployment_classes", 200);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "items")), 4);
	cJSON_Delete(j);
}

/* ---- other modes, each on its own simulator */

static void
test_legacy_mode(void **state)
{
	const char *const args[] = { "--legacy", NULL };
	struct sim legacy;
	struct sim_response r;
	cJSON *j;

	(void)state;
	assert_int_equal(start_sim(&legacy, args), 0);
	assert_int_equal(sim_get(&legacy, "/teams/1/projects", &r), 0);
	expect_error(&r, 404, "NotFound");
	sim_response_free(&r);
	assert_int_equal(sim_get(&legacy, "/teams/1/list_deployments?limit=10", &r), 0);
	expect_error(&r, 404, "NotFound");
	sim_response_free(&r);
	assert_int_equal(sim_post(&legacy, "/teams/1/create_project",
	    "{\"projectName\":\"old\",\"deploymentType\":\"dev\"}", &r), 0);
	assert_int_equal(r.status, 200);
	j = body_json(&r);
	assert_non_null(str(j, "deploymentName"));
	cJSON_Delete(j);
	sim_response_free(&r);
	assert_int_equal(sim_get(&legacy, "/teams/1/list_projects", &r), 0);
	assert_int_equal(r.status, 200);
	j = body_json(&r);
	assert_int_equal(cJSON_GetArraySize(j), 1);
	cJSON_Delete(j);
	sim_response_free(&r);
	assert_int_equal(sim_stop(&legacy), 0);
}

static void
test_project_token_and_flags(void **state)
{
	const char *const args[] = { "--project-token", "1234", "--token", "other-secret",
		"--team-id", "41", "--team-slug", "acme", "--deprecation", "use v2", NULL };
	struct sim s;
	struct sim_response r;
	char hv[64];
	cJSON *j;

	(void)state;
	assert_int_equal(start_sim(&s, args), 0);
	assert_string_equal(s.token, "other-secret");
	assert_int_equal(sim_get(&s, "/token_details", &r), 0);
	assert_int_equal(r.status, 200);
	assert_non_null(sim_response_header(&r, "x-convex-deprecation-state", hv, sizeof(hv)));
	assert_string_equal(sim_response_header(&r, "X-Convex-Deprecation-Message", hv,
	    sizeof(hv)), "use v2");
	j = body_json(&r);
	assert_string_equal(str(j, "type"), "projectToken");
	assert_int_equal((long)num(j, "projectId", NULL), 1234);
	assert_null(cJSON_GetObjectItem(j, "teamId"));
	cJSON_Delete(j);
	sim_response_free(&r);
	assert_int_equal(sim_get(&s, "/teams/41/projects", &r), 0);
	expect_error(&r, 403, "Forbidden");
	sim_response_free(&r);
	/* the default token is not this one */
	assert_int_equal(sim_request(&s, "GET", "/v1/token_details", "sim-token", NULL, &r), 0);
	expect_error(&r, 401, "Unauthorized");
	sim_response_free(&r);
	assert_int_equal(sim_stop(&s), 0);
}

static void
test_team_flags(void **state)
{
	const char *const args[] = { "--team-id", "41", "--team-slug", "acme", NULL };
	struct sim s;
	struct sim_response r;
	cJSON *j;

	(void)state;
	assert_int_equal(start_sim(&s, args), 0);
	assert_int_equal(sim_get(&s, "/token_details", &r), 0);
	j = body_json(&r);
	assert_int_equal((long)num(j, "teamId", NULL), 41);
	cJSON_Delete(j);
	sim_response_free(&r);
	assert_int_equal(sim_post(&s, "/teams/41/create_project", "{\"projectName\":\"z\"}", &r), 0);
	assert_int_equal(r.status, 200);
	sim_response_free(&r);
	assert_int_equal(sim_get(&s, "/teams/41/projects", &r), 0);
	j = body_json(&r);
	assert_string_equal(str(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "items"), 0),
	    "teamSlug"), "acme");
	cJSON_Delete(j);
	sim_response_free(&r);
	assert_int_equal(sim_get(&s, "/teams/1/projects", &r), 0);
	expect_error(&r, 404, "TeamNotFound");
	sim_response_free(&r);
	assert_int_equal(sim_stop(&s), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_token_details, reset),
		cmocka_unit_test_setup(test_auth, reset),
		cmocka_unit_test_setup(test_unknown_routes, reset),
		cmocka_unit_test_setup(test_create_project_shapes, reset),
		cmocka_unit_test_setup(test_create_project_validation, reset),
		cmocka_unit_test_setup(test_projects_pagination, reset),
		cmocka_unit_test_setup(test_projects_pagination_errors, reset),
		cmocka_unit_test_setup(test_cursor_survives_deletes, reset),
		cmocka_unit_test_setup(test_list_projects_legacy_shape, reset),
		cmocka_unit_test_setup(test_reference_rules, reset),
		cmocka_unit_test_setup(test_create_deployment_shapes, reset),
		cmocka_unit_test_setup(test_project_list_deployments, reset),
		cmocka_unit_test_setup(test_team_list_deployments, reset),
		cmocka_unit_test_setup(test_deployment_get_patch_delete, reset),
		cmocka_unit_test_setup(test_delete_project_cascades, reset),
		cmocka_unit_test_setup(test_regions_and_classes, reset),
		cmocka_unit_test(test_legacy_mode),
		cmocka_unit_test(test_project_token_and_flags),
		cmocka_unit_test(test_team_flags),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
