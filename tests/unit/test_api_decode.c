/* test_api_decode.c: the pure Management API decoders: shapes of every
 * answer, required fields, wrong types named, local deployments dropped. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "api_decode.h"

#define DEP(extra) "{\"kind\":\"cloud\",\"id\":5,\"name\":\"happy-otter-123\"," \
    "\"projectId\":9,\"deploymentType\":\"prod\",\"reference\":\"production\"," \
    "\"region\":\"aws-us-east-1\",\"class\":\"s16\",\"isDefault\":true," \
    "\"deploymentUrl\":\"https://happy-otter-123.convex.cloud\"," \
    "\"createTime\":1700000000000" extra "}"
#define LOCAL "{\"kind\":\"local\",\"name\":\"local-dev\",\"projectId\":9," \
    "\"deviceName\":\"laptop\",\"port\":3210,\"isActive\":true,\"creator\":1," \
    "\"createTime\":1,\"deploymentType\":\"dev\"}"

static void
test_projects_page(void **state)
{
	const char *body = "{\"items\":["
	    "{\"id\":12,\"name\":\"shop\",\"slug\":\"shop\",\"teamId\":1,"
	    "\"teamSlug\":\"t\",\"createTime\":1700000000000,\"extra\":[1,2]},"
	    "{\"id\":13,\"name\":\"Blog \\u00e9\",\"slug\":\"blog\",\"teamId\":1,"
	    "\"teamSlug\":\"t\",\"createTime\":5,\"prodDeploymentName\":null}],"
	    "\"pagination\":{\"hasMore\":true,\"nextCursor\":\"abc==\"}}";
	struct observed_project *items;
	struct api_page page;
	char err[256];
	size_t n;
	(void)state;

	assert_int_equal(api_decode_projects_page(body, strlen(body), &items, &n,
	    &page, err, sizeof(err)), 0);
	assert_int_equal(n, 2);
	assert_int_equal(items[0].id, 12);
	assert_string_equal(items[0].name, "shop");
	assert_string_equal(items[0].slug, "shop");
	assert_int_equal(items[0].create_time, 1700000000000LL);
	assert_string_equal(items[1].name, "Blog \xc3\xa9");
	assert_true(page.has_more);
	assert_string_equal(page.next_cursor, "abc==");
	api_projects_free(items, n);
	api_page_clear(&page);

	body = "{\"items\":[],\"pagination\":{\"hasMore\":false,\"nextCursor\":null}}";
	assert_int_equal(api_decode_projects_page(body, strlen(body), &items, &n,
	    &page, err, sizeof(err)), 0);
	assert_int_equal(n, 0);
	assert_null(items);
	assert_false(page.has_more);
	assert_null(page.next_cursor);
}

/* One row per broken body: the decoder must fail and name the field. */
static void
test_projects_page_errors(void **state)
{
	static const struct {
		const char *body;
		const char *want;   /* substring of the message */
	} rows[] = {
		{ "", "empty body" },
		{ "{\"items\":[", "invalid JSON" },
		{ "[]", "expected a JSON object" },
		{ "{\"pagination\":{\"hasMore\":false}}", "items: missing" },
		{ "{\"items\":{},\"pagination\":{\"hasMore\":false}}",
		    "items: expected an array" },
		{ "{\"items\":[]}", "pagination: missing" },
		{ "{\"items\":[],\"pagination\":{}}", "pagination.hasMore: missing" },
		{ "{\"items\":[],\"pagination\":{\"hasMore\":\"no\"}}",
		    "pagination.hasMore: expected true or false" },
		{ "{\"items\":[],\"pagination\":{\"hasMore\":true,\"nextCursor\":5}}",
		    "pagination.nextCursor: expected a string" },
		{ "{\"items\":[{\"id\":\"12\",\"name\":\"a\",\"slug\":\"a\"}],"
		    "\"pagination\":{\"hasMore\":false}}", "items[0].id: expected an integer" },
		{ "{\"items\":[{\"id\":1,\"name\":\"a\",\"slug\":\"a\"},"
		    "{\"id\":2,\"slug\":\"b\"}],\"pagination\":{\"hasMore\":false}}",
		    "items[1].name: missing" },
		{ "{\"items\":[{\"id\":1.5,\"name\":\"a\",\"slug\":\"a\"}],"
		    "\"pagination\":{\"hasMore\":false}}", "items[0].id: expected an integer" },
		{ "{\"items\":[{\"id\":1e300,\"name\":\"a\",\"slug\":\"a\"}],"
		    "\"pagination\":{\"hasMore\":false}}", "items[0].id: expected an integer" },
		{ "{\"items\":[{\"id\":1,\"name\":\"a\",\"slug\":\"a\",\"createTime\":\"x\"}],"
		    "\"pagination\":{\"hasMore\":false}}", "items[0].createTime: expected an integer" },
		{ "{\"items\":[7],\"pagination\":{\"hasMore\":false}}",
		    "items[0]: expected an object" },
	};
	struct observed_project *items;
	struct api_page page;
	char err[256];
	size_t n;
	(void)state;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		err[0] = '\0';
		assert_int_equal(api_decode_projects_page(rows[i].body,
		    strlen(rows[i].body), &items, &n, &page, err, sizeof(err)),
		    -EBADMSG);
		assert_null(items);
		assert_int_equal(n, 0);
		assert_null(page.next_cursor);
		if (strstr(err, rows[i].want) == NULL)
			fail_msg("row %zu: \"%s\" does not hold \"%s\"", i, err,
			    rows[i].want);
	}
}

static void
test_projects_legacy_array(void **state)
{
	const char *body = "[{\"id\":3,\"name\":\"a\",\"slug\":\"a\",\"teamId\":1,"
	    "\"createTime\":10},{\"id\":4,\"name\":\"b\",\"slug\":\"b\",\"teamId\":1,"
	    "\"createTime\":11}]";
	struct observed_project *items;
	char err[256];
	size_t n;
	(void)state;

	assert_int_equal(api_decode_projects_array(body, strlen(body), &items, &n,
	    err, sizeof(err)), 0);
	assert_int_equal(n, 2);
	assert_int_equal(items[1].id, 4);
	assert_string_equal(items[1].slug, "b");
	api_projects_free(items, n);

	body = "{\"items\":[]}";
	assert_int_equal(api_decode_projects_array(body, strlen(body), &items, &n,
	    err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "projects: expected an array"));
}

static void
test_deployments(void **state)
{
	const char *page_body = "{\"items\":[" DEP(",\"future\":{\"x\":1}") ","
	    LOCAL "," DEP("") "],\"pagination\":{\"hasMore\":false}}";
	const char *arr = "[" LOCAL "," LOCAL "]";
	struct observed_deployment *items;
	struct api_page page;
	char err[256];
	size_t n;
	(void)state;

	assert_int_equal(api_decode_deployments_page(page_body, strlen(page_body),
	    &items, &n, &page, err, sizeof(err)), 0);
	assert_int_equal(n, 2);          /* the local one is dropped */
	assert_int_equal(items[0].id, 5);
	assert_string_equal(items[0].name, "happy-otter-123");
	assert_int_equal(items[0].project_id, 9);
	assert_int_equal(items[0].type, DEP_PROD);
	assert_string_equal(items[0].reference, "production");
	assert_string_equal(items[0].region, "aws-us-east-1");
	assert_string_equal(items[0].class_name, "s16");
	assert_true(items[0].is_default);
	assert_int_equal(items[0].create_time, 1700000000000LL);
	api_deployments_free(items, n);
	api_page_clear(&page);

	assert_int_equal(api_decode_deployments_array(arr, strlen(arr), &items,
	    &n, err, sizeof(err)), 0);
	assert_int_equal(n, 0);
	assert_null(items);
}

static void
test_deployment_errors(void **state)
{
	static const struct {
		const char *body;
		const char *want;
	} rows[] = {
		{ "[{\"id\":1}]", "deployments[0].kind: missing" },
		{ "[{\"kind\":3}]", "deployments[0].kind: expected a string" },
		{ "[{\"kind\":\"moon\"}]", "deployments[0].kind: unknown kind" },
		{ "[" DEP("") ",{\"kind\":\"cloud\",\"id\":6,\"name\":\"x-y-1\","
		    "\"projectId\":9,\"deploymentType\":\"staging\",\"reference\":\"r\","
		    "\"region\":\"r\",\"class\":\"s16\",\"isDefault\":false}]",
		    "deployments[1].deploymentType: unknown type" },
		{ "[{\"kind\":\"cloud\",\"id\":6,\"name\":\"x-y-1\",\"projectId\":9,"
		    "\"deploymentType\":\"dev\",\"region\":\"r\",\"class\":\"s16\","
		    "\"isDefault\":false}]", "deployments[0].reference: missing" },
		{ "[{\"kind\":\"cloud\",\"id\":6,\"name\":\"x-y-1\",\"projectId\":9,"
		    "\"deploymentType\":\"dev\",\"reference\":\"r\",\"region\":\"r\","
		    "\"class\":\"s16\",\"isDefault\":1}]",
		    "deployments[0].isDefault: expected true or false" },
		{ "[{\"kind\":\"cloud\",\"id\":6,\"name\":[],\"projectId\":9}]",
		    "deployments[0].name: expected a string" },
	};
	struct observed_deployment *items;
	char err[256];
	size_t n;
	(void)state;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		err[0] = '\0';
		assert_int_equal(api_decode_deployments_array(rows[i].body,
		    strlen(rows[i].body), &items, &n, err, sizeof(err)), -EBADMSG);
		assert_null(items);
		if (strstr(err, rows[i].want) == NULL)
			fail_msg("row %zu: \"%s\" does not hold \"%s\"", i, err,
			    rows[i].want);
	}
}

static void
test_single_deployment(void **state)
{
	const char *body = DEP("");
	struct observed_deployment d;
	char err[256];
	bool local;
	(void)state;

	assert_int_equal(api_decode_deployment(body, strlen(body), &d, &local,
	    err, sizeof(err)), 0);
	assert_false(local);
	assert_string_equal(d.name, "happy-otter-123");
	observed_deployment_clear(&d);

	assert_int_equal(api_decode_deployment(LOCAL, strlen(LOCAL), &d, &local,
	    err, sizeof(err)), 0);
	assert_true(local);
	assert_null(d.name);

	body = "{\"kind\":\"cloud\",\"id\":true}";
	assert_int_equal(api_decode_deployment(body, strlen(body), &d, &local,
	    err, sizeof(err)), -EBADMSG);
	assert_string_equal(err, "id: expected an integer");
}

static void
test_created_project(void **state)
{
	const char *body = "{\"id\":77,\"projectId\":77,\"slug\":\"shop\"}";
	char err[256], *slug;
	int64_t id;
	(void)state;

	assert_int_equal(api_decode_created_project(body, strlen(body), &id, &slug,
	    err, sizeof(err)), 0);
	assert_int_equal(id, 77);
	assert_string_equal(slug, "shop");
	free(slug);

	/* The older answer: projectId only, with a deployment. */
	body = "{\"projectId\":78,\"deploymentName\":\"a-b-1\"}";
	assert_int_equal(api_decode_created_project(body, strlen(body), &id, &slug,
	    err, sizeof(err)), 0);
	assert_int_equal(id, 78);
	assert_null(slug);

	body = "{\"slug\":\"x\"}";
	assert_int_equal(api_decode_created_project(body, strlen(body), &id, &slug,
	    err, sizeof(err)), -EBADMSG);
	assert_string_equal(err, "projectId: missing");
	body = "{\"id\":\"77\",\"slug\":\"x\"}";
	assert_int_equal(api_decode_created_project(body, strlen(body), &id, &slug,
	    err, sizeof(err)), -EBADMSG);
	assert_string_equal(err, "id: expected an integer");
}

static void
test_token_details(void **state)
{
	const char *team = "{\"type\":\"teamToken\",\"teamId\":41,\"name\":\"ci\","
	    "\"createTime\":1,\"id\":\"tok\"}";
	const char *project = "{\"type\":\"projectToken\",\"projectId\":9,"
	    "\"name\":\"p\",\"createTime\":1,\"id\":\"tok\"}";
	struct api_token_info ti;
	char err[256];
	(void)state;

	assert_int_equal(api_decode_token_details(team, strlen(team), &ti, err,
	    sizeof(err)), 0);
	assert_true(ti.team_token);
	assert_int_equal(ti.team_id, 41);
	assert_string_equal(ti.name, "ci");
	api_token_info_clear(&ti);

	assert_int_equal(api_decode_token_details(project, strlen(project), &ti,
	    err, sizeof(err)), 0);
	assert_false(ti.team_token);
	assert_int_equal(ti.project_id, 9);
	api_token_info_clear(&ti);

	team = "{\"type\":\"teamToken\"}";
	assert_int_equal(api_decode_token_details(team, strlen(team), &ti, err,
	    sizeof(err)), -EBADMSG);
	assert_string_equal(err, "teamId: missing");
	team = "{\"type\":\"userToken\",\"teamId\":1}";
	assert_int_equal(api_decode_token_details(team, strlen(team), &ti, err,
	    sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "type: unknown token type"));
}

static void
test_error_body(void **state)
{
	const char *body = "{\"code\":\"Forbidden\",\"message\":\"missing "
	    "permission project:create\"}";
	char code[64], msg[128];
	(void)state;

	assert_int_equal(api_decode_error_body(body, strlen(body), code,
	    sizeof(code), msg, sizeof(msg)), 0);
	assert_string_equal(code, "Forbidden");
	assert_string_equal(msg, "missing permission project:create");
	body = "{\"message\":5}";
	assert_int_equal(api_decode_error_body(body, strlen(body), code,
	    sizeof(code), msg, sizeof(msg)), 0);
	assert_string_equal(code, "");
	assert_string_equal(msg, "");
	body = "<html>502 Bad Gateway</html>";
	assert_int_equal(api_decode_error_body(body, strlen(body), code,
	    sizeof(code), msg, sizeof(msg)), -EBADMSG);
	assert_int_equal(api_decode_error_body(NULL, 0, code, sizeof(code), msg,
	    sizeof(msg)), -EBADMSG);
}

/* Bodies are not NUL-terminated in general: only len bytes may be read. */
static void
test_length_respected(void **state)
{
	const char *body = "{\"id\":1,\"slug\":\"s\"}GARBAGE";
	char err[256], *slug;
	int64_t id;
	(void)state;

	assert_int_equal(api_decode_created_project(body, strlen(body) - 7, &id,
	    &slug, err, sizeof(err)), 0);
	assert_int_equal(id, 1);
	free(slug);
	assert_int_equal(api_decode_created_project(body, 10, &id, &slug, err,
	    sizeof(err)), -EBADMSG);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_projects_page),
		cmocka_unit_test(test_projects_page_errors),
		cmocka_unit_test(test_projects_legacy_array),
		cmocka_unit_test(test_deployments),
		cmocka_unit_test(test_deployment_errors),
		cmocka_unit_test(test_single_deployment),
		cmocka_unit_test(test_created_project),
		cmocka_unit_test(test_token_details),
		cmocka_unit_test(test_error_body),
		cmocka_unit_test(test_length_respected),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
