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
	api_page_free(&page);

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
		assert_false(page.has_more);   /* a refused page promises nothing */
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
	api_page_free(&page);

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
	observed_deployment_free(&d);

	assert_int_equal(api_decode_deployment(LOCAL, strlen(LOCAL), &d, &local,
	    err, sizeof(err)), 0);
	assert_true(local);
	assert_null(d.name);

	body = "{\"kind\":\"cloud\",\"id\":true}";
	assert_int_equal(api_decode_deployment(body, strlen(body), &d, &local,
	    err, sizeof(err)), -EBADMSG);
	assert_string_equal(err, "id: expected an integer");
}

/* SPEC section 8's fields: booleans or null (-1), expiresAt or null (0);
 * the usual URL is not kept, another one is. */
static void
test_deployment_settings(void **state)
{
	struct observed_deployment d;
	char err[256], url[128];
	bool local;
	const char *body;
	(void)state;

	body = DEP(",\"dashboardEditConfirmation\":true,\"sendLogsToClient\":false,"
	    "\"expiresAt\":1900000000000");
	assert_int_equal(api_decode_deployment(body, strlen(body), &d, &local,
	    err, sizeof(err)), 0);
	assert_int_equal(d.dashboard_edit_confirmation, 1);
	assert_int_equal(d.send_logs_to_client, 0);
	assert_int_equal(d.expires_at, 1900000000000);
	assert_null(d.url);
	assert_string_equal(observed_deployment_url(&d, url, sizeof(url)),
	    "https://happy-otter-123.convex.cloud");
	observed_deployment_free(&d);

	body = DEP(",\"dashboardEditConfirmation\":null,\"expiresAt\":null");
	assert_int_equal(api_decode_deployment(body, strlen(body), &d, &local,
	    err, sizeof(err)), 0);
	assert_int_equal(d.dashboard_edit_confirmation, -1);
	assert_int_equal(d.send_logs_to_client, -1);
	assert_int_equal(d.expires_at, 0);
	observed_deployment_free(&d);

	body = "{\"kind\":\"cloud\",\"id\":5,\"name\":\"calm-cow-456\",\"projectId\":9,"
	    "\"deploymentType\":\"dev\",\"reference\":\"eu\",\"region\":\"aws-eu-west-1\","
	    "\"class\":\"s16\",\"isDefault\":false,"
	    "\"deploymentUrl\":\"https://calm-cow-456.eu-west-1.convex.cloud\"}";
	assert_int_equal(api_decode_deployment(body, strlen(body), &d, &local,
	    err, sizeof(err)), 0);
	assert_string_equal(d.url, "https://calm-cow-456.eu-west-1.convex.cloud");
	assert_string_equal(observed_deployment_url(&d, url, sizeof(url)),
	    "https://calm-cow-456.eu-west-1.convex.cloud");
	observed_deployment_free(&d);

	body = DEP(",\"sendLogsToClient\":\"yes\"");
	assert_int_equal(api_decode_deployment(body, strlen(body), &d, &local,
	    err, sizeof(err)), -EBADMSG);
	assert_string_equal(err, "sendLogsToClient: expected true or false");
	body = DEP(",\"expiresAt\":-5");
	assert_int_equal(api_decode_deployment(body, strlen(body), &d, &local,
	    err, sizeof(err)), -EBADMSG);
	assert_string_equal(err, "expiresAt: expected a time after 1970");
	body = DEP(",\"expiresAt\":1.5");
	assert_int_equal(api_decode_deployment(body, strlen(body), &d, &local,
	    err, sizeof(err)), -EBADMSG);
	assert_string_equal(err, "expiresAt: expected an integer");
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
	api_token_info_free(&ti);

	assert_int_equal(api_decode_token_details(project, strlen(project), &ti,
	    err, sizeof(err)), 0);
	assert_false(ti.team_token);
	assert_int_equal(ti.project_id, 9);
	api_token_info_free(&ti);

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

/* Which decoder a row is for. */
enum dec { D_PAGE, D_ARRAY, D_DEPS_PAGE, D_DEPS_ARRAY, D_DEP, D_CREATED, D_TOKEN, D_ERROR };

static int
decode_any(enum dec which, const char *body, size_t len, char *err, size_t errlen)
{
	struct observed_project *p = NULL;
	struct observed_deployment *d = NULL, one;
	struct api_page page = { 0 };
	struct api_token_info ti;
	char code[64], msg[256], *slug = NULL;
	int64_t id;
	bool local;
	size_t n = 0;
	int rc;

	switch (which) {
	case D_PAGE:
		rc = api_decode_projects_page(body, len, &p, &n, &page, err, errlen);
		break;
	case D_ARRAY:
		rc = api_decode_projects_array(body, len, &p, &n, err, errlen);
		break;
	case D_DEPS_PAGE:
		rc = api_decode_deployments_page(body, len, &d, &n, &page, err, errlen);
		break;
	case D_DEPS_ARRAY:
		rc = api_decode_deployments_array(body, len, &d, &n, err, errlen);
		break;
	case D_DEP:
		rc = api_decode_deployment(body, len, &one, &local, err, errlen);
		if (rc == 0)
			observed_deployment_free(&one);
		break;
	case D_CREATED:
		rc = api_decode_created_project(body, len, &id, &slug, err, errlen);
		free(slug);
		break;
	case D_TOKEN:
		rc = api_decode_token_details(body, len, &ti, err, errlen);
		if (rc == 0)
			api_token_info_free(&ti);
		break;
	default:
		rc = api_decode_error_body(body, len, code, sizeof(code), msg,
		    sizeof(msg));
		snprintf(err, errlen, "%s", msg);
		break;
	}
	api_projects_free(p, n);
	api_deployments_free(d, n);
	api_page_free(&page);
	return rc;
}

#define PROJ(name) "{\"id\":1,\"name\":\"" name "\",\"slug\":\"s\",\"teamId\":1}"
#define PAGE(items) "{\"items\":[" items "],\"pagination\":{\"hasMore\":false}}"
#define CDEP(name, ref) "{\"kind\":\"cloud\",\"id\":5,\"name\":\"" name "\"," \
    "\"projectId\":9,\"deploymentType\":\"prod\",\"reference\":\"" ref "\"," \
    "\"region\":\"r\",\"class\":\"s16\",\"isDefault\":true}"

/* A string holding U+0000 cannot be represented (cJSON cuts it, "shop\0-prod"
 * would read "shop" and match a declared name): every decoder refuses the
 * whole body, wherever the NUL is; so is data after the document (issue
 * 18, classes 1 and 2). */
static void
test_nul_and_trailing_refused(void **state)
{
	static const struct {
		enum dec which;
		const char *body;
		size_t len;             /* 0: strlen */
	} bad[] = {
		{ D_PAGE, PAGE(PROJ("shop\\u0000-prod-db")), 0 },
		{ D_PAGE, PAGE(PROJ("shop") "," PROJ("x\\u0000")), 0 },
		{ D_PAGE, PAGE("{\"id\":1,\"name\":\"a\",\"slug\":\"s\\u0000\"}"), 0 },
		{ D_PAGE, PAGE("{\"id\":1,\"name\":\"a\",\"slug\":\"s\",\"other\":\"\\u0000\"}"), 0 },
		/* A key with a NUL shadows the real one once cut. */
		{ D_PAGE, PAGE("{\"id\":1,\"name\\u0000x\":\"shop\",\"name\":\"shop-prod\",\"slug\":\"s\"}"), 0 },
		{ D_PAGE, "{\"items\":[],\"pagination\":{\"hasMore\":true,\"nextCursor\":\"c\\u0000\"}}", 0 },
		{ D_PAGE, PAGE(PROJ("shop\\u0000")), 0 },
		/* cJSON reads a \u escape that is not four hex digits as
		 * U+0000 too ("shop\ueate" would read "shop"). */
		{ D_PAGE, PAGE(PROJ("shop\\ueate")), 0 },
		{ D_DEPS_PAGE, PAGE(CDEP("happy-otter-1", "prod\\u12g4")), 0 },
		{ D_PAGE, PAGE(PROJ("\\u0000shop")), 0 },
		/* A raw NUL byte, inside a string and outside. */
		{ D_PAGE, PAGE(PROJ("shop\0-prod")), sizeof(PAGE(PROJ("shop\0-prod"))) - 1 },
		{ D_PAGE, PAGE(PROJ("shop")) "\0", sizeof(PAGE(PROJ("shop"))) },
		{ D_ARRAY, "[" PROJ("shop\\u0000-prod-db") "]", 0 },
		{ D_DEPS_PAGE, PAGE(CDEP("happy\\u0000-otter-1", "production")), 0 },
		{ D_DEPS_PAGE, PAGE(CDEP("happy-otter-1", "prod\\u0000uction")), 0 },
		{ D_DEPS_PAGE, PAGE("{\"kind\":\"local\\u0000\",\"name\":\"l\",\"projectId\":9}"), 0 },
		{ D_DEPS_ARRAY, "[" CDEP("a\\u0000", "r") "]", 0 },
		{ D_DEP, CDEP("happy-otter-1", "staging\\u0000"), 0 },
		{ D_DEP, "{\"kind\":\"cloud\",\"id\":5,\"name\":\"n\",\"projectId\":9,"
		  "\"deploymentType\":\"prod\",\"reference\":\"r\",\"region\":\"aws\\u0000\","
		  "\"class\":\"s16\",\"isDefault\":true}", 0 },
		{ D_CREATED, "{\"id\":1,\"slug\":\"sh\\u0000op\"}", 0 },
		{ D_TOKEN, "{\"type\":\"teamToken\\u0000x\",\"teamId\":1}", 0 },
		{ D_TOKEN, "{\"type\":\"teamToken\",\"teamId\":1,\"name\":\"\\u0000\"}", 0 },
		{ D_ERROR, "{\"code\":\"Bad\",\"message\":\"cut\\u0000here\"}", 0 },
		/* Two documents, or anything after one. */
		{ D_PAGE, PAGE(PROJ("shop")) PAGE(PROJ("other")), 0 },
		{ D_PAGE, PAGE(PROJ("shop")) " x", 0 },
		{ D_CREATED, "{\"id\":1}{\"id\":2}", 0 },
		{ D_TOKEN, "{\"type\":\"teamToken\",\"teamId\":1} 7", 0 },
		{ D_DEP, CDEP("a", "b") "]", 0 },
		{ D_ERROR, "{\"code\":\"A\",\"message\":\"m\"}{\"code\":\"B\"}", 0 },
	};
	static const struct {
		enum dec which;
		const char *body;
	} good[] = {
		/* An escaped backslash before "u0000" is text, not a NUL. */
		{ D_PAGE, PAGE(PROJ("a\\\\u0000b")) },
		{ D_PAGE, PAGE(PROJ("a\\u0001b")) },
		{ D_PAGE, PAGE(PROJ("shop")) " \n\t\r " },
		{ D_CREATED, "\n{\"id\":1}\n" },
	};
	char err[256];
	(void)state;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t len = bad[i].len ? bad[i].len : strlen(bad[i].body);
		int rc = decode_any(bad[i].which, bad[i].body, len, err, sizeof(err));

		if (rc != -EBADMSG)
			fail_msg("bad row %zu decoded (rc %d): %s", i, rc, bad[i].body);
		if (bad[i].which != D_ERROR &&
		    strstr(err, "NUL") == NULL && strstr(err, "after the JSON") == NULL)
			fail_msg("bad row %zu: error \"%s\"", i, err);
	}
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		int rc = decode_any(good[i].which, good[i].body, strlen(good[i].body),
		    err, sizeof(err));
		if (rc != 0)
			fail_msg("good row %zu refused: %s", i, err);
	}
}


/* ---- SPEC section 9 ---------------------------------------------------- */

static void
test_env_page(void **state)
{
	const char *body = "{\"items\":["
	    "{\"deploymentTypes\":[\"dev\",\"prod\"],\"name\":\"SITE_URL\",\"value\":\"https://x\"},"
	    "{\"deploymentTypes\":[\"preview\",\"preview\"],\"name\":\"A\",\"value\":\"\"},"
	    "{\"deploymentTypes\":[],\"name\":\"NONE\",\"value\":\"v\"}],"
	    "\"pagination\":{\"hasMore\":true,\"nextCursor\":\"c2\"}}";
	struct observed_env_var *v;
	struct api_page page;
	char err[256];
	size_t n;
	(void)state;

	assert_int_equal(api_decode_env_page(body, strlen(body), 44, &v, &n, &page,
	    err, sizeof(err)), 0);
	/* Groups expanded, a type named twice counted once. */
	assert_int_equal(n, 3);
	assert_int_equal(page.n_items, 3);
	assert_true(page.has_more);
	assert_string_equal(page.next_cursor, "c2");
	assert_int_equal(v[0].project_id, 44);
	assert_int_equal(v[0].type, DEP_DEV);
	assert_int_equal(v[1].type, DEP_PROD);
	assert_string_equal(v[1].name, "SITE_URL");
	assert_string_equal(v[1].value, "https://x");
	assert_int_equal(v[2].type, DEP_PREVIEW);
	assert_string_equal(v[2].value, "");
	for (size_t i = 0; i < n; i++)
		observed_env_var_free(&v[i]);
	free(v);
	api_page_free(&page);
}

/* A bad item is named; its value is never quoted. */
static void
test_env_page_errors(void **state)
{
	static const struct { const char *body, *want; } rows[] = {
	    { "{\"items\":[{\"deploymentTypes\":[\"qa\"],\"name\":\"A\",\"value\":\"s3cret-v\"}],"
	      "\"pagination\":{\"hasMore\":false}}", "items[0].deploymentTypes: an unknown deployment type" },
	    { "{\"items\":[{\"deploymentTypes\":[\"dev\"],\"name\":\"A\",\"value\":7}],"
	      "\"pagination\":{\"hasMore\":false}}", "items[0].value: expected a string" },
	    { "{\"items\":[{\"deploymentTypes\":[\"dev\"],\"value\":\"s3cret-v\"}],"
	      "\"pagination\":{\"hasMore\":false}}", "items[0].name: expected a non-empty string" },
	    { "{\"items\":[{\"deploymentTypes\":\"dev\",\"name\":\"A\",\"value\":\"s3cret-v\"}],"
	      "\"pagination\":{\"hasMore\":false}}", "items[0].deploymentTypes: expected an array" },
	    { "{\"items\":[]}", "pagination: missing" },
	};
	struct observed_env_var *v;
	struct api_page page;
	char err[256];
	size_t n;
	(void)state;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		err[0] = '\0';
		assert_int_equal(api_decode_env_page(rows[i].body, strlen(rows[i].body), 1,
		    &v, &n, &page, err, sizeof(err)), -EBADMSG);
		assert_string_equal(err, rows[i].want);
		assert_null(strstr(err, "s3cret"));
		assert_null(v);
		assert_int_equal(n, 0);
		assert_null(page.next_cursor);
	}
}

static void
test_domains(void **state)
{
	const char *body = "{\"domains\":["
	    "{\"creationTime\":5,\"deploymentName\":\"x\",\"domain\":\"a.example.com\","
	    "\"requestDestination\":\"convexCloud\",\"verificationTime\":null},"
	    "{\"creationTime\":6,\"domain\":\"b.example.com\","
	    "\"requestDestination\":\"convexSite\",\"verificationTime\":1700000000000}]}";
	struct observed_domain *d;
	char err[256];
	size_t n;
	(void)state;

	assert_int_equal(api_decode_domains(body, strlen(body), "happy-otter-1", &d, &n,
	    err, sizeof(err)), 0);
	assert_int_equal(n, 2);
	assert_string_equal(d[0].deployment, "happy-otter-1");
	assert_string_equal(d[0].domain, "a.example.com");
	assert_int_equal(d[0].destination, DESIRED_DEST_CONVEX_CLOUD);
	assert_int_equal(d[0].verification_time, 0);
	assert_int_equal(d[0].create_time, 5);
	assert_int_equal(d[1].destination, DESIRED_DEST_CONVEX_SITE);
	assert_int_equal(d[1].verification_time, 1700000000000LL);
	for (size_t i = 0; i < n; i++)
		observed_domain_free(&d[i]);
	free(d);

	body = "{\"domains\":[{\"domain\":\"a.example.com\",\"requestDestination\":\"convexMoon\"}]}";
	assert_int_equal(api_decode_domains(body, strlen(body), "x", &d, &n, err,
	    sizeof(err)), -EBADMSG);
	assert_string_equal(err, "domains[0].requestDestination: unknown destination \"convexMoon\"");
	body = "[]";
	assert_int_equal(api_decode_domains(body, strlen(body), "x", &d, &n, err,
	    sizeof(err)), -EBADMSG);
	body = "{\"domains\":[]}";
	assert_int_equal(api_decode_domains(body, strlen(body), "x", &d, &n, err,
	    sizeof(err)), 0);
	assert_int_equal(n, 0);
	assert_null(d);
}

static void
test_deploy_keys(void **state)
{
	const char *body = "[{\"allowedActions\":[],\"creationTime\":7,\"id\":500000000,"
	    "\"name\":\"ci\"},{\"creationTime\":8,\"id\":500000001,\"name\":\"x.y\"}]";
	struct observed_deploy_key *k;
	char err[256], *secret;
	size_t n;
	(void)state;

	assert_int_equal(api_decode_deploy_keys(body, strlen(body), "happy-otter-1", &k,
	    &n, err, sizeof(err)), 0);
	assert_int_equal(n, 2);
	assert_string_equal(k[0].name, "ci");
	assert_string_equal(k[1].deployment, "happy-otter-1");
	assert_int_equal(k[1].create_time, 8);
	assert_false(k[0].secret_file);
	for (size_t i = 0; i < n; i++)
		observed_deploy_key_free(&k[i]);
	free(k);
	/* Keys are matched by name: one without is refused. */
	body = "[{\"creationTime\":7,\"id\":500000000}]";
	assert_int_equal(api_decode_deploy_keys(body, strlen(body), "x", &k, &n, err,
	    sizeof(err)), -EBADMSG);
	assert_string_equal(err, "[0].name: missing");

	body = "{\"deployKey\":\"prod:happy-otter-1|eyJ2MiI6Isecret\"}";
	assert_int_equal(api_decode_created_deploy_key(body, strlen(body), &secret, err,
	    sizeof(err)), 0);
	assert_string_equal(secret, "prod:happy-otter-1|eyJ2MiI6Isecret");
	free(secret);
	body = "{\"deployKey\":\"\"}";
	assert_int_equal(api_decode_created_deploy_key(body, strlen(body), &secret, err,
	    sizeof(err)), -EBADMSG);
	assert_null(secret);
	body = "{\"deployKey\":\"prod:a|eyJ";   /* cut short: never quoted */
	assert_int_equal(api_decode_created_deploy_key(body, strlen(body), &secret, err,
	    sizeof(err)), -EBADMSG);
	assert_null(strstr(err, "eyJ"));
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
		cmocka_unit_test(test_deployment_settings),
		cmocka_unit_test(test_created_project),
		cmocka_unit_test(test_token_details),
		cmocka_unit_test(test_error_body),
		cmocka_unit_test(test_length_respected),
		cmocka_unit_test(test_nul_and_trailing_refused),
		cmocka_unit_test(test_env_page),
		cmocka_unit_test(test_env_page_errors),
		cmocka_unit_test(test_domains),
		cmocka_unit_test(test_deploy_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
