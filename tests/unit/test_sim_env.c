/* test_sim_env.c: convex-api-sim's default environment variables: shapes, grouping, filters, pagination, all-or-nothing updates and limits. */
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
static long pid;
static char upd[96], lst[96];

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

static int
reset(void **state)
{
	cJSON *j;

	(void)state;
	sim_reset(&sim);
	j = post_json(&sim, "/teams/1/create_project", "{\"projectName\":\"envs\"}", 200);
	pid = (long)num(j, "id", NULL);
	cJSON_Delete(j);
	snprintf(upd, sizeof(upd), "/projects/%ld/update_default_environment_variables", pid);
	snprintf(lst, sizeof(lst), "/projects/%ld/list_default_environment_variables", pid);
	return 0;
}

static void
update_ok(const char *changes)
{
	char *body = malloc(strlen(changes) + 32);

	sprintf(body, "{\"changes\":[%s]}", changes);
	cJSON_Delete(post_json(&sim, upd, body, 200));
	free(body);
}

static void
update_refused(const char *changes, const char *code)
{
	char *body = malloc(strlen(changes) + 32);

	sprintf(body, "{\"changes\":[%s]}", changes);
	post_expect(&sim, upd, body, 400, code);
	free(body);
}

/* The listing (query appended to the path) as one string "NAME=VALUE:types;..." */
static char *
listing(const char *query)
{
	char path[256], *out = calloc(1, 65536);
	cJSON *j, *it, *t;

	snprintf(path, sizeof(path), "%s%s", lst, query);
	j = get_json(&sim, path, 200);
	assert_true(cJSON_IsArray(cJSON_GetObjectItem(j, "items")));
	assert_true(cJSON_IsBool(cJSON_GetObjectItem(cJSON_GetObjectItem(j,
	    "pagination"), "hasMore")));
	cJSON_ArrayForEach(it, cJSON_GetObjectItem(j, "items")) {
		/* exactly DefaultEnvironmentVariableResponse's three keys */
		assert_int_equal(cJSON_GetArraySize(it), 3);
		strcat(out, str(it, "name"));
		strcat(out, "=");
		strcat(out, str(it, "value"));
		strcat(out, ":");
		cJSON_ArrayForEach(t, cJSON_GetObjectItem(it, "deploymentTypes")) {
			strcat(out, t->valuestring);
			if (t->next)
				strcat(out, ",");
		}
		strcat(out, ";");
	}
	cJSON_Delete(j);
	return out;
}

static void
expect_listing(const char *query, const char *want)
{
	char *got = listing(query);

	assert_string_equal(got, want);
	free(got);
}

static void
test_update_and_grouped_listing(void **state)
{
	(void)state;
	expect_listing("", "");
	update_ok("{\"deploymentType\":\"prod\",\"name\":\"SITE_URL\",\"value\":\"https://x\"},"
	    "{\"deploymentType\":\"dev\",\"name\":\"SITE_URL\",\"value\":\"https://x\"},"
	    "{\"deploymentType\":\"preview\",\"name\":\"SITE_URL\",\"value\":\"http://p\"},"
	    "{\"deploymentType\":\"custom\",\"name\":\"SITE_URL\",\"value\":\"http://p\"},"
	    "{\"deploymentType\":\"dev\",\"name\":\"API_KEY\",\"value\":\"k1\"},"
	    "{\"deploymentType\":\"prod\",\"name\":\"_private\",\"value\":\"\"}");
	/* equal name and value across types: one item listing the types */
	expect_listing("", "API_KEY=k1:dev;SITE_URL=https://x:dev,prod;"
	    "SITE_URL=http://p:preview,custom;_private=:prod;");
	/* a type filter: one type per item */
	expect_listing("?deploymentType=prod", "SITE_URL=https://x:prod;_private=:prod;");
	expect_listing("?deploymentType=custom", "SITE_URL=http://p:custom;");
	expect_listing("?name=SITE_URL", "SITE_URL=https://x:dev,prod;SITE_URL=http://p:preview,custom;");
	expect_listing("?name=SITE_URL&deploymentType=dev", "SITE_URL=https://x:dev;");
	expect_listing("?name=NOPE", "");
	get_expect(&sim, "/projects/1000/list_default_environment_variables?deploymentType=staging",
	    400, "BadRequest");
	/* an upsert changes one type's value: the group splits */
	update_ok("{\"deploymentType\":\"dev\",\"name\":\"SITE_URL\",\"value\":\"http://localhost\"}");
	expect_listing("?name=SITE_URL", "SITE_URL=http://localhost:dev;"
	    "SITE_URL=https://x:prod;SITE_URL=http://p:preview,custom;");
	get_expect(&sim, "/projects/99999/list_default_environment_variables", 404,
	    "ProjectNotFound");
	post_expect(&sim, "/projects/99999/update_default_environment_variables",
	    "{\"changes\":[]}", 404, "ProjectNotFound");
}

static void
test_delete_with_null(void **state)
{
	(void)state;
	update_ok("{\"deploymentType\":\"prod\",\"name\":\"A\",\"value\":\"1\"},"
	    "{\"deploymentType\":\"dev\",\"name\":\"A\",\"value\":\"1\"},"
	    "{\"deploymentType\":\"dev\",\"name\":\"B\",\"value\":\"2\"}");
	update_ok("{\"deploymentType\":\"prod\",\"name\":\"A\",\"value\":null},"
	    "{\"deploymentType\":\"dev\",\"name\":\"B\"},"   /* value left out: delete */
	    "{\"deploymentType\":\"custom\",\"name\":\"NEVER_SET\",\"value\":null}");
	expect_listing("", "A=1:dev;");
	update_ok("");   /* no changes: fine */
	expect_listing("", "A=1:dev;");
}

/* A project that never had a variable: a delete of one, and an empty
 * update, change nothing (the store has no array to sort: UBSan stopped
 * the simulator there, random schedules seed 80705). */
static void
test_delete_on_empty_project(void **state)
{
	(void)state;
	update_ok("{\"deploymentType\":\"preview\",\"name\":\"B\",\"value\":null}");
	update_ok("");
	expect_listing("", "");
}

static void
test_all_or_nothing_and_rules(void **state)
{
	static const char *const bad_names[] = {
		"1ABC", "A-B", "A B", "", "A.B", "\\u00c9T\\u00c9",
		"ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFGHIJKLMNO",   /* 41 */
	};
	char change[256], *big, *body;
	struct sim_response r;

	(void)state;
	update_ok("{\"deploymentType\":\"prod\",\"name\":\"KEEP\",\"value\":\"v\"}");
	for (size_t i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++) {
		snprintf(change, sizeof(change),
		    "{\"deploymentType\":\"dev\",\"name\":\"GOOD\",\"value\":\"1\"},"
		    "{\"deploymentType\":\"dev\",\"name\":\"%s\",\"value\":\"SECRET-VALUE-1\"}",
		    bad_names[i]);
		update_refused(change, "InvalidEnvironmentVariableName");
	}
	/* the error never shows a value (values are secrets) */
	assert_int_equal(sim_post(&sim, upd, "{\"changes\":[{\"deploymentType\":\"dev\","
	    "\"name\":\"9x\",\"value\":\"SECRET-VALUE-1\"}]}", &r), 0);
	assert_null(strstr(r.body, "SECRET-VALUE-1"));
	sim_response_free(&r);
	update_ok("{\"deploymentType\":\"dev\",\"name\":\"_X\",\"value\":\"1\"},"
	    "{\"deploymentType\":\"dev\",\"name\":\"a\",\"value\":\"1\"},"
	    "{\"deploymentType\":\"dev\",\"name\":\"ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFGHIJKLMN\",\"value\":\"1\"}");
	/* 8 KiB is the most a value may hold */
	big = malloc(8194);
	memset(big, 'v', 8193);
	big[8193] = '\0';
	body = malloc(9000);
	snprintf(body, 9000, "{\"deploymentType\":\"prod\",\"name\":\"BIG\",\"value\":\"%s\"}", big);
	update_refused(body, "EnvironmentVariableValueTooLarge");
	big[8192] = '\0';
	snprintf(body, 9000, "{\"deploymentType\":\"prod\",\"name\":\"BIG\",\"value\":\"%s\"}", big);
	update_ok(body);
	free(big);
	free(body);
	update_refused("{\"deploymentType\":\"dev\",\"name\":\"D\",\"value\":\"1\"},"
	    "{\"deploymentType\":\"dev\",\"name\":\"D\",\"value\":null}",
	    "DuplicateEnvironmentVariableChange");
	/* the same name for two types is not a duplicate */
	update_ok("{\"deploymentType\":\"dev\",\"name\":\"D\",\"value\":\"1\"},"
	    "{\"deploymentType\":\"prod\",\"name\":\"D\",\"value\":\"1\"}");
	update_refused("{\"deploymentType\":\"staging\",\"name\":\"E\",\"value\":\"1\"}", "BadRequest");
	update_refused("{\"name\":\"E\",\"value\":\"1\"}", "BadRequest");
	update_refused("{\"deploymentType\":\"dev\",\"value\":\"1\"}", "BadRequest");
	update_refused("{\"deploymentType\":\"dev\",\"name\":\"E\",\"value\":5}", "BadRequest");
	update_refused("{\"deploymentType\":\"dev\",\"name\":\"E\",\"value\":\"1\",\"secret\":true}",
	    "BadRequest");
	update_refused("\"E=1\"", "BadRequest");
	post_expect(&sim, upd, "{}", 400, "BadRequest");
	post_expect(&sim, upd, "{\"changes\":{}}", 400, "BadRequest");
	post_expect(&sim, upd, "{\"changes\":[],\"force\":true}", 400, "BadRequest");
	post_expect(&sim, upd, "[]", 400, "BadRequest");
	/* nothing of the refused requests landed */
	expect_listing("?name=GOOD", "");
	expect_listing("?name=E", "");
	expect_listing("?name=KEEP", "KEEP=v:prod;");
	expect_listing("?name=D", "D=1:dev,prod;");
}

static void
test_limit_per_type(void **state)
{
	char *body = malloc(100 * 80 + 200), *p;
	char *got;

	(void)state;
	p = body;
	for (int i = 0; i < 100; i++)
		p += sprintf(p, "%s{\"deploymentType\":\"prod\",\"name\":\"V%03d\",\"value\":\"x\"}",
		    i ? "," : "", i);
	update_ok(body);
	update_refused("{\"deploymentType\":\"prod\",\"name\":\"V100\",\"value\":\"x\"}",
	    "TooManyEnvironmentVariables");
	/* an upsert of an existing name is not one more */
	update_ok("{\"deploymentType\":\"prod\",\"name\":\"V042\",\"value\":\"y\"}");
	/* a delete in the same request makes room */
	update_ok("{\"deploymentType\":\"prod\",\"name\":\"V100\",\"value\":\"x\"},"
	    "{\"deploymentType\":\"prod\",\"name\":\"V000\",\"value\":null}");
	/* the limit is per type */
	p = body;
	for (int i = 0; i < 100; i++)
		p += sprintf(p, "%s{\"deploymentType\":\"dev\",\"name\":\"V%03d\",\"value\":\"x\"}",
		    i ? "," : "", i);
	update_ok(body);
	free(body);
	got = listing("?deploymentType=prod&name=V000");
	assert_string_equal(got, "");
	free(got);
	got = listing("?deploymentType=prod&name=V100");
	assert_string_equal(got, "V100=x:prod;");
	free(got);
}

/* Walks every page with limit; returns the items as "NAME:types;" and
 * checks each page has at most limit items. */
static char *
walk(int limit, int *pages)
{
	char path[256], cursor[96] = "", *out = calloc(1, 1 << 16);
	cJSON *j, *it, *pg, *t;

	*pages = 0;
	for (;;) {
		snprintf(path, sizeof(path), "%s?limit=%d%s%s", lst, limit,
		    *cursor ? "&cursor=" : "", cursor);
		j = get_json(&sim, path, 200);
		assert_true(cJSON_GetArraySize(cJSON_GetObjectItem(j, "items")) <= limit);
		cJSON_ArrayForEach(it, cJSON_GetObjectItem(j, "items")) {
			strcat(out, str(it, "name"));
			strcat(out, ":");
			cJSON_ArrayForEach(t, cJSON_GetObjectItem(it, "deploymentTypes"))
				strcat(out, t->valuestring);
			strcat(out, ";");
		}
		(*pages)++;
		pg = cJSON_GetObjectItem(j, "pagination");
		if (!is_true(pg, "hasMore")) {
			assert_true(is_null(pg, "nextCursor"));
			cJSON_Delete(j);
			return out;
		}
		snprintf(cursor, sizeof(cursor), "%s", str(pg, "nextCursor"));
		cJSON_Delete(j);
	}
}

static void
test_pagination(void **state)
{
	char *body = malloc(300 * 90), *p, *all, *paged, path[256];
	int pages;
	cJSON *j;

	(void)state;
	/* 3 types x 80 names; prod and dev share values on even names */
	p = body;
	for (int i = 0; i < 80; i++) {
		p += sprintf(p, "%s{\"deploymentType\":\"prod\",\"name\":\"N%02d\",\"value\":\"v%d\"}",
		    i ? "," : "", i, i);
		p += sprintf(p, ",{\"deploymentType\":\"dev\",\"name\":\"N%02d\",\"value\":\"v%d%s\"}",
		    i, i, i % 2 ? "-dev" : "");
		p += sprintf(p, ",{\"deploymentType\":\"preview\",\"name\":\"N%02d\",\"value\":\"p\"}", i);
	}
	update_ok(body);
	free(body);
	all = walk(100, &pages);
	assert_int_equal(pages, 2);   /* 40 + 2*40 + 80 = 200 items */
	for (int limit = 1; limit <= 13; limit += 6) {
		paged = walk(limit, &pages);
		assert_string_equal(paged, all);
		assert_int_equal(pages, (200 + limit - 1) / limit);
		free(paged);
	}
	free(all);
	/* a change behind the cursor neither repeats nor skips the rest */
	snprintf(path, sizeof(path), "%s?limit=3", lst);
	j = get_json(&sim, path, 200);
	{
		char cur[96], exp_next[64];
		cJSON *k;

		snprintf(cur, sizeof(cur), "%s", str(cJSON_GetObjectItem(j,
		    "pagination"), "nextCursor"));
		update_ok("{\"deploymentType\":\"prod\",\"name\":\"N00\",\"value\":null},"
		    "{\"deploymentType\":\"dev\",\"name\":\"A_FIRST\",\"value\":\"x\"}");
		snprintf(path, sizeof(path), "%s?limit=1&cursor=%s", lst, cur);
		k = get_json(&sim, path, 200);
		/* page 1 was N00 [dev,prod] (v0), N00 [preview], N01 [dev]
		 * (its dev value differs); next is N01 [prod] */
		snprintf(exp_next, sizeof(exp_next), "N01");
		assert_string_equal(str(cJSON_GetArrayItem(cJSON_GetObjectItem(k, "items"), 0),
		    "name"), exp_next);
		assert_string_equal(cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetArrayItem(
		    cJSON_GetObjectItem(k, "items"), 0), "deploymentTypes"), 0)->valuestring, "prod");
		cJSON_Delete(k);
	}
	cJSON_Delete(j);
	snprintf(path, sizeof(path), "%s?cursor=garbage", lst);
	get_expect(&sim, path, 400, "InvalidCursor");
	snprintf(path, sizeof(path), "%s?cursor=e10001234N01", lst);   /* bad check */
	get_expect(&sim, path, 400, "InvalidCursor");
	snprintf(path, sizeof(path), "%s?cursor=p00000000000000000000", lst);
	get_expect(&sim, path, 400, "InvalidCursor");
	snprintf(path, sizeof(path), "%s?limit=0", lst);
	get_expect(&sim, path, 400, "BadRequest");
	snprintf(path, sizeof(path), "%s?limit=101", lst);
	get_expect(&sim, path, 400, "BadRequest");
}

static void
test_project_delete_removes_env(void **state)
{
	char path[96];
	cJSON *st, *it;
	long again;

	(void)state;
	update_ok("{\"deploymentType\":\"prod\",\"name\":\"GONE\",\"value\":\"with-project\"}");
	st = sim_state(&sim);
	it = cJSON_GetArrayItem(cJSON_GetObjectItem(st, "projects"), 0);
	/* env values are in /_sim/state (a test-only route, documented) */
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(it, "env")), 1);
	cJSON_Delete(st);
	snprintf(path, sizeof(path), "/projects/%ld/delete", pid);
	cJSON_Delete(post_json(&sim, path, NULL, 200));
	get_expect(&sim, lst, 404, "ProjectNotFound");
	st = sim_state(&sim);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(st, "projects")), 0);
	cJSON_Delete(st);
	st = post_json(&sim, "/teams/1/create_project", "{\"projectName\":\"envs\"}", 200);
	again = (long)num(st, "id", NULL);
	cJSON_Delete(st);
	snprintf(lst, sizeof(lst), "/projects/%ld/list_default_environment_variables", again);
	expect_listing("", "");
}

static void
test_state_roundtrip(void **state)
{
	struct sim_response r;
	cJSON *st;
	char *text;

	(void)state;
	update_ok("{\"deploymentType\":\"prod\",\"name\":\"A\",\"value\":\"1\"},"
	    "{\"deploymentType\":\"dev\",\"name\":\"A\",\"value\":\"1\"},"
	    "{\"deploymentType\":\"custom\",\"name\":\"Z\",\"value\":\"multi\\nline\"}");
	st = sim_state(&sim);
	text = cJSON_PrintUnformatted(st);
	cJSON_Delete(st);
	assert_int_equal(sim_admin_post(&sim, "/_sim/state", text, &r), 0);
	assert_int_equal(r.status, 200);
	sim_response_free(&r);
	free(text);
	expect_listing("", "A=1:dev,prod;Z=multi\nline:custom;");
	/* a state with a bad env entry does not load */
	assert_int_equal(sim_admin_post(&sim, "/_sim/state",
	    "{\"projects\":[{\"id\":5,\"name\":\"x\",\"env\":[{\"deploymentType\":\"dev\","
	    "\"name\":\"1BAD\",\"value\":\"v\"}]}]}", &r), 0);
	expect_error(&r, 400, NULL);
	sim_response_free(&r);
	expect_listing("", "A=1:dev,prod;Z=multi\nline:custom;");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_update_and_grouped_listing, reset),
		cmocka_unit_test_setup(test_delete_with_null, reset),
		cmocka_unit_test_setup(test_delete_on_empty_project, reset),
		cmocka_unit_test_setup(test_all_or_nothing_and_rules, reset),
		cmocka_unit_test_setup(test_limit_per_type, reset),
		cmocka_unit_test_setup(test_pagination, reset),
		cmocka_unit_test_setup(test_project_delete_removes_env, reset),
		cmocka_unit_test_setup(test_state_roundtrip, reset),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
