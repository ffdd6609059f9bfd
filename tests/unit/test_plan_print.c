/* test_plan_print.c: the plan's text lines and JSON object (SPEC section 4),
 * for a plan and for an apply with per-action results. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "execute.h"
#include "plan_print.h"

/* The example of SPEC section 4, built by hand: the printer does not care
 * whether a plan is consistent, only how it reads. */
static struct desired_deployment staging = {
	.reference = "staging", .type = DEP_DEV, .is_default = TRI_UNSET,
};
static struct plan_action example_actions[] = {
	{ .op = PLAN_CREATE, .kind = PLAN_PROJECT, .reason = REASON_DECLARED,
	  .project = "shop", .parent = PLAN_NO_PARENT },
	{ .op = PLAN_CREATE, .kind = PLAN_DEPLOYMENT, .reason = REASON_DECLARED,
	  .project = "shop", .parent = 0, .reference = "staging", .want = &staging },
	{ .op = PLAN_DELETE, .kind = PLAN_DEPLOYMENT, .reason = REASON_PRUNE,
	  .project = "shop", .project_id = 12, .parent = PLAN_NO_PARENT,
	  .reference = "old", .deployment_name = "happy-otter-123" },
	{ .op = PLAN_DELETE, .kind = PLAN_PROJECT, .reason = REASON_ABSENT,
	  .project = "legacy-tool", .project_id = 1234, .parent = PLAN_NO_PARENT },
};
static struct plan_drift example_drift[] = {
	{ .project = "shop", .reference = "production", .deployment_name = "happy-otter-1",
	  .field = "class", .want = "s256", .have = "s16" },
};
static struct plan_blocked example_blocked[] = {
	{ .guard = GUARD_MAX_DELETES, .message = "12 deletes planned, at most 10 allowed" },
};

static struct plan
example(void)
{
	struct plan p = {
		.actions = example_actions, .n_actions = 4,
		.drift = example_drift, .n_drift = 1,
		.blocked = example_blocked, .n_blocked = 1,
	};
	return p;
}

static char *
text_of(const struct plan *p, const struct action_result *r, unsigned flags)
{
	struct buf b;

	buf_init(&b, 1 << 20);
	assert_int_equal(plan_print_text(p, r, flags, &b), 0);
	return buf_steal(&b);
}

static cJSON *
json_of(const struct plan *p, const struct action_result *r, int pretty)
{
	struct buf b;
	cJSON *root;

	buf_init(&b, 1 << 20);
	assert_int_equal(plan_print_json(p, r, pretty, &b), 0);
	assert_true(b.len > 2);
	assert_int_equal(b.data[b.len - 1], '\n');
	/* One object, on one line unless pretty. */
	if (!pretty)
		assert_ptr_equal(strchr(b.data, '\n'), b.data + b.len - 1);
	root = cJSON_Parse(b.data);
	assert_non_null(root);
	buf_free(&b);
	return root;
}

static const char *
str(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	if (!cJSON_IsString(v))
		fail_msg("\"%s\" is not a string", k);
	return v->valuestring;
}

static double
num(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	if (!cJSON_IsNumber(v))
		fail_msg("\"%s\" is not a number", k);
	return v->valuedouble;
}

static bool
has(const cJSON *o, const char *k)
{
	return cJSON_GetObjectItemCaseSensitive(o, k) != NULL;
}

static const cJSON *
at(const cJSON *root, const char *arr, int i)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(root, arr);

	assert_true(cJSON_IsArray(a));
	assert_true(i < cJSON_GetArraySize(a));
	return cJSON_GetArrayItem(a, i);
}

static int
count(const cJSON *root, const char *arr)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(root, arr);

	assert_true(cJSON_IsArray(a));
	return cJSON_GetArraySize(a);
}

static void
test_text_plan(void **state)
{
	struct plan p = example();
	char *t = text_of(&p, NULL, 0);
	(void)state;

	assert_string_equal(t,
	    "+ create project \"shop\"\n"
	    "+ create deployment \"shop/staging\" (dev)\n"
	    "- delete deployment \"shop/old\" (happy-otter-123)\n"
	    "- delete project \"legacy-tool\" (1234)\n"
	    "~ drift deployment \"shop/production\" (happy-otter-1): class is s16, files say s256\n"
	    "! blocked max_deletes: 12 deletes planned, at most 10 allowed\n"
	    "Plan: 2 to create, 2 to delete, 1 drifted, 1 blocked.\n");
	free(t);
}

static void
test_text_colour(void **state)
{
	struct plan p = example();
	char *t = text_of(&p, NULL, PLAN_PRINT_COLOUR);
	(void)state;

	assert_string_equal(t,
	    "\033[32m+\033[0m create project \"shop\"\n"
	    "\033[32m+\033[0m create deployment \"shop/staging\" (dev)\n"
	    "\033[31m-\033[0m delete deployment \"shop/old\" (happy-otter-123)\n"
	    "\033[31m-\033[0m delete project \"legacy-tool\" (1234)\n"
	    "\033[33m~\033[0m drift deployment \"shop/production\" (happy-otter-1): class is s16, files say s256\n"
	    "\033[33m!\033[0m blocked max_deletes: 12 deletes planned, at most 10 allowed\n"
	    "Plan: 2 to create, 2 to delete, 1 drifted, 1 blocked.\n");
	free(t);
}

static void
test_text_no_changes_and_held(void **state)
{
	struct plan p = { 0 };
	char *t = text_of(&p, NULL, PLAN_PRINT_COLOUR);
	(void)state;

	assert_string_equal(t, "No changes. The team matches the files.\n");
	free(t);

	/* Drift alone is not "no changes" for a reader: it is listed. */
	p.drift = example_drift;
	p.n_drift = 1;
	t = text_of(&p, NULL, 0);
	assert_string_equal(t,
	    "~ drift deployment \"shop/production\" (happy-otter-1): class is s16, files say s256\n"
	    "Plan: 0 to create, 0 to delete, 1 drifted, 0 blocked.\n");
	free(t);

	p = example();
	p.n_actions = 2;
	p.n_drift = 0;
	p.n_held = 12;
	t = text_of(&p, NULL, 0);
	assert_string_equal(t,
	    "+ create project \"shop\"\n"
	    "+ create deployment \"shop/staging\" (dev)\n"
	    "! blocked max_deletes: 12 deletes planned, at most 10 allowed\n"
	    "Plan: 2 to create, 0 to delete, 0 drifted, 1 blocked (12 deletes held back).\n");
	free(t);
	p.n_held = 1;
	t = text_of(&p, NULL, 0);
	assert_non_null(strstr(t, "1 blocked (1 delete held back).\n"));
	free(t);
}

static void
test_text_create_details_and_unset(void **state)
{
	struct desired_deployment prod = {
		.reference = "production", .type = DEP_PROD, .region = "aws-us-east-1",
		.class_name = "s16", .is_default = TRI_TRUE,
	};
	struct desired_deployment dev = {
		.reference = "dev-eu", .type = DEP_DEV, .is_default = TRI_FALSE,
	};
	struct plan_action acts[] = {
		{ .op = PLAN_CREATE, .kind = PLAN_DEPLOYMENT, .project = "shop",
		  .project_id = 12, .parent = PLAN_NO_PARENT, .reference = "production", .want = &prod },
		{ .op = PLAN_CREATE, .kind = PLAN_DEPLOYMENT, .project = "shop",
		  .project_id = 12, .parent = PLAN_NO_PARENT, .reference = "dev-eu", .want = &dev },
	};
	struct plan_drift drift = {
		.project = "shop", .reference = "staging", .deployment_name = "brave-cat-2",
		.field = "region", .want = "aws-eu-west-1", .have = "",
	};
	struct plan p = { .actions = acts, .n_actions = 2, .drift = &drift, .n_drift = 1 };
	char *t = text_of(&p, NULL, 0);
	cJSON *root;
	const cJSON *o;
	(void)state;

	assert_string_equal(t,
	    "+ create deployment \"shop/production\" (prod, region aws-us-east-1, class s16, default)\n"
	    "+ create deployment \"shop/dev-eu\" (dev, not default)\n"
	    "~ drift deployment \"shop/staging\" (brave-cat-2): region is unset, files say aws-eu-west-1\n"
	    "Plan: 2 to create, 0 to delete, 1 drifted, 0 blocked.\n");
	free(t);

	root = json_of(&p, NULL, 0);
	o = at(root, "actions", 0);
	assert_string_equal(str(o, "type"), "prod");
	assert_string_equal(str(o, "region"), "aws-us-east-1");
	assert_string_equal(str(o, "class"), "s16");
	assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "default")));
	o = at(root, "actions", 1);
	assert_string_equal(str(o, "type"), "dev");
	assert_false(has(o, "region"));
	assert_false(has(o, "class"));
	assert_true(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(o, "default")));
	o = at(root, "drift", 0);
	assert_string_equal(str(o, "want"), "aws-eu-west-1");
	assert_string_equal(str(o, "have"), "");
	cJSON_Delete(root);
}

/* Names come from files and the API: quotes, newlines and escape
 * sequences must not forge lines or colour a terminal. */
static void
test_text_escapes(void **state)
{
	struct plan_action a = {
		.op = PLAN_DELETE, .kind = PLAN_PROJECT, .reason = REASON_PRUNE,
		.project = "a\"b\\c\nd\033[31m", .project_id = 5, .parent = PLAN_NO_PARENT,
	};
	struct plan_blocked b = { .guard = GUARD_PROTECTED, .message = "line\nforged" };
	struct plan p = { .actions = &a, .n_actions = 1, .blocked = &b, .n_blocked = 1 };
	char *t = text_of(&p, NULL, 0);
	cJSON *root;
	(void)state;

	assert_string_equal(t,
	    "- delete project \"a\\\"b\\\\c\\x0ad\\x1b[31m\" (5)\n"
	    "! blocked protected: line\\x0aforged\n"
	    "Plan: 0 to create, 1 to delete, 0 drifted, 1 blocked.\n");
	free(t);

	/* JSON keeps the exact name (cJSON escapes it). */
	root = json_of(&p, NULL, 0);
	assert_string_equal(str(at(root, "actions", 0), "project"), a.project);
	assert_string_equal(str(at(root, "blocked", 0), "message"), "line\nforged");
	cJSON_Delete(root);
}

/* C1 controls from the API (U+009B is a one-character CSI, U+0085 a line
 * end), raw bytes 0x80-0x9f that are not UTF-8, and other invalid UTF-8:
 * escaped in text, valid escaped UTF-8 in JSON (issue 18, class 10). */
static void
test_c1_and_invalid_utf8(void **state)
{
	struct plan_action a[] = {
		{ .op = PLAN_DELETE, .kind = PLAN_PROJECT, .reason = REASON_PRUNE,
		  .project = "shop\xc2\x9b" "2J\xc2\x85x", .project_id = 5,
		  .parent = PLAN_NO_PARENT },
		{ .op = PLAN_DELETE, .kind = PLAN_DEPLOYMENT, .reason = REASON_PRUNE,
		  .project = "caf\xc3\xa9", .project_id = 6, .parent = PLAN_NO_PARENT,
		  .reference = "r\x9b" "1m", .deployment_name = "d\xff\xc0\x80" },
	};
	struct action_result r[] = {
		{ .state = ACTION_FAILED, .error = (char *)"HTTP 500: \xc2\x9b" "31m" },
		{ .state = ACTION_OK },
	};
	struct plan p = { .actions = a, .n_actions = 2 };
	char *t = text_of(&p, r, 0);
	struct buf b;
	cJSON *root;
	(void)state;

	assert_string_equal(t,
	    "- delete project \"shop\\u009b2J\\u0085x\" (5): error: HTTP 500: "
	    "\\u009b31m\n"
	    "- delete deployment \"caf\xc3\xa9/r\\x9b1m\" (d\\xff\\xc0\\x80): ok\n"
	    "Apply: 1 ok, 1 failed, 0 skipped, 0 drifted, 0 blocked.\n");
	for (const unsigned char *c = (const unsigned char *)t; *c; c++)
		assert_true(*c == '\n' || (*c >= 0x20 && *c < 0x7f) ||
		    *c == 0xc3 || *c == 0xa9);
	free(t);

	/* JSON: C1 as \u escapes, bytes that are not UTF-8 as U+FFFD. */
	buf_init(&b, 1 << 20);
	assert_int_equal(plan_print_json(&p, r, 0, &b), 0);
	assert_non_null(strstr(b.data, "\"shop\\u009b2J\\u0085x\""));
	assert_non_null(strstr(b.data, "\"r\\ufffd1m\""));
	assert_null(strstr(b.data, "\xc2\x9b"));
	assert_null(strchr(b.data, 0x9b));
	buf_free(&b);
	root = json_of(&p, r, 0);
	assert_string_equal(str(at(root, "actions", 0), "project"), a[0].project);
	assert_string_equal(str(at(root, "actions", 1), "name"),
	    "d\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	cJSON_Delete(root);
}

static void
check_example_json(const cJSON *root)
{
	const cJSON *o, *sum;

	assert_int_equal(count(root, "actions"), 4);
	o = at(root, "actions", 0);
	assert_string_equal(str(o, "op"), "create");
	assert_string_equal(str(o, "kind"), "project");
	assert_string_equal(str(o, "project"), "shop");
	assert_string_equal(str(o, "reason"), "declared");
	assert_false(has(o, "reference"));
	assert_false(has(o, "id"));

	o = at(root, "actions", 1);
	assert_string_equal(str(o, "op"), "create");
	assert_string_equal(str(o, "kind"), "deployment");
	assert_string_equal(str(o, "project"), "shop");
	assert_string_equal(str(o, "reference"), "staging");
	assert_string_equal(str(o, "type"), "dev");
	assert_false(has(o, "region"));
	assert_false(has(o, "class"));
	assert_false(has(o, "default"));
	assert_false(has(o, "name"));

	o = at(root, "actions", 2);
	assert_string_equal(str(o, "op"), "delete");
	assert_string_equal(str(o, "kind"), "deployment");
	assert_string_equal(str(o, "project"), "shop");
	assert_string_equal(str(o, "reference"), "old");
	assert_string_equal(str(o, "name"), "happy-otter-123");
	assert_string_equal(str(o, "reason"), "prune");
	assert_false(has(o, "type"));

	o = at(root, "actions", 3);
	assert_string_equal(str(o, "op"), "delete");
	assert_string_equal(str(o, "kind"), "project");
	assert_string_equal(str(o, "project"), "legacy-tool");
	assert_true(num(o, "id") == 1234);
	assert_string_equal(str(o, "reason"), "absent");

	assert_int_equal(count(root, "drift"), 1);
	o = at(root, "drift", 0);
	assert_string_equal(str(o, "kind"), "deployment");
	assert_string_equal(str(o, "project"), "shop");
	assert_string_equal(str(o, "reference"), "production");
	assert_string_equal(str(o, "field"), "class");
	assert_string_equal(str(o, "want"), "s256");
	assert_string_equal(str(o, "have"), "s16");

	assert_int_equal(count(root, "blocked"), 1);
	o = at(root, "blocked", 0);
	assert_string_equal(str(o, "guard"), "max_deletes");
	assert_string_equal(str(o, "message"), "12 deletes planned, at most 10 allowed");
	assert_false(has(o, "project"));

	sum = cJSON_GetObjectItemCaseSensitive(root, "summary");
	assert_true(cJSON_IsObject(sum));
	assert_true(num(sum, "create") == 2);
	assert_true(num(sum, "delete") == 2);
	assert_true(num(sum, "drift") == 1);
	assert_true(num(sum, "blocked") == 1);
	assert_true(num(sum, "held") == 0);
}

static void
test_json_plan(void **state)
{
	struct plan p = example();
	cJSON *root;
	(void)state;

	root = json_of(&p, NULL, 0);
	check_example_json(root);
	assert_false(has(at(root, "actions", 0), "result"));
	assert_false(has(cJSON_GetObjectItemCaseSensitive(root, "summary"), "ok"));
	cJSON_Delete(root);

	root = json_of(&p, NULL, 1);
	check_example_json(root);
	cJSON_Delete(root);

	/* The embeddable object prints as the same document (ids in it are
	 * raw items holding their exact digits, so they are read printed). */
	root = plan_to_cjson(&p, NULL);
	assert_non_null(root);
	assert_true(cJSON_IsRaw(cJSON_GetObjectItemCaseSensitive(at(root, "actions", 3), "id")));
	{
		char *text = cJSON_PrintUnformatted(root);
		cJSON *back = cJSON_Parse(text);

		assert_non_null(back);
		check_example_json(back);
		cJSON_Delete(back);
		cJSON_free(text);
	}
	cJSON_Delete(root);
}

static void
test_json_empty(void **state)
{
	struct plan p = { 0 };
	cJSON *root = json_of(&p, NULL, 0);
	const cJSON *sum;
	(void)state;

	assert_int_equal(count(root, "actions"), 0);
	assert_int_equal(count(root, "drift"), 0);
	assert_int_equal(count(root, "blocked"), 0);
	sum = cJSON_GetObjectItemCaseSensitive(root, "summary");
	assert_true(num(sum, "create") == 0);
	assert_true(num(sum, "delete") == 0);
	assert_true(num(sum, "drift") == 0);
	assert_true(num(sum, "blocked") == 0);
	cJSON_Delete(root);
}

/* The executor's results (execute.h); the strings are not freed here. */
static char err500[] = "HTTP 500 InternalServerError: boom";
static char stopping[] = "shutting down";

static void
apply_results(struct action_result r[4])
{
	memset(r, 0, 4 * sizeof(*r));
	r[0].state = ACTION_FAILED;
	r[0].error = err500;
	r[1].state = ACTION_SKIPPED;        /* its parent failed; the printer says so */
	r[2].state = ACTION_OK;
	r[3].state = ACTION_SKIPPED;
	r[3].error = stopping;
}

static void
test_text_apply(void **state)
{
	struct plan p = example();
	struct action_result r[4];
	char *t;
	(void)state;

	apply_results(r);
	t = text_of(&p, r, 0);
	assert_string_equal(t,
	    "+ create project \"shop\": error: HTTP 500 InternalServerError: boom\n"
	    "+ create deployment \"shop/staging\" (dev): skipped: project \"shop\" was not created\n"
	    "- delete deployment \"shop/old\" (happy-otter-123): ok\n"
	    "- delete project \"legacy-tool\" (1234): skipped: shutting down\n"
	    "~ drift deployment \"shop/production\" (happy-otter-1): class is s16, files say s256\n"
	    "! blocked max_deletes: 12 deletes planned, at most 10 allowed\n"
	    "Apply: 1 ok, 1 failed, 2 skipped, 1 drifted, 1 blocked.\n");
	free(t);

	/* A skipped action whose parent succeeded and that has no reason; a
	 * failure without words; an action never started (pending). */
	r[0].state = ACTION_OK;
	r[2].state = ACTION_FAILED;
	r[3].state = ACTION_PENDING;
	r[3].error = NULL;
	t = text_of(&p, r, 0);
	assert_string_equal(t,
	    "+ create project \"shop\": ok\n"
	    "+ create deployment \"shop/staging\" (dev): skipped: not run\n"
	    "- delete deployment \"shop/old\" (happy-otter-123): error: failed\n"
	    "- delete project \"legacy-tool\" (1234): skipped: not run\n"
	    "~ drift deployment \"shop/production\" (happy-otter-1): class is s16, files say s256\n"
	    "! blocked max_deletes: 12 deletes planned, at most 10 allowed\n"
	    "Apply: 1 ok, 1 failed, 2 skipped, 1 drifted, 1 blocked.\n");
	free(t);
}

static void
test_json_apply(void **state)
{
	struct plan p = example();
	struct action_result r[4];
	cJSON *root;
	const cJSON *o, *sum;
	(void)state;

	apply_results(r);
	root = json_of(&p, r, 0);
	check_example_json(root);
	o = at(root, "actions", 0);
	assert_string_equal(str(o, "result"), "error");
	assert_string_equal(str(o, "error"), "HTTP 500 InternalServerError: boom");
	assert_false(has(o, "ambiguous"));
	o = at(root, "actions", 1);
	assert_string_equal(str(o, "result"), "skipped");
	assert_string_equal(str(o, "error"), "project \"shop\" was not created");
	o = at(root, "actions", 2);
	assert_string_equal(str(o, "result"), "ok");
	assert_false(has(o, "error"));
	o = at(root, "actions", 3);
	assert_string_equal(str(o, "result"), "skipped");
	assert_string_equal(str(o, "error"), "shutting down");
	sum = cJSON_GetObjectItemCaseSensitive(root, "summary");
	assert_true(num(sum, "ok") == 1);
	assert_true(num(sum, "failed") == 1);
	assert_true(num(sum, "skipped") == 2);
	cJSON_Delete(root);

	/* A create that may have happened says so. */
	r[0].ambiguous = true;
	root = json_of(&p, r, 0);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(at(root, "actions", 0),
	    "ambiguous")));
	cJSON_Delete(root);
}

/* Ids in the JSON of plan and apply are exact at any size (issue 14): a
 * project delete's id, and what a create made (the new project's id, the
 * new deployment's name), at 2^53 + 1 and INT64_MAX. */
static void
test_json_exact_ids(void **state)
{
	static const struct {
		int64_t id;
		const char *digits;
	} rows[] = {
		{ 9007199254740993LL, "9007199254740993" },
		{ INT64_MAX, "9223372036854775807" },
	};
	static char made[] = "brave-cat-7";
	(void)state;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct plan_action acts[] = {
			{ .op = PLAN_CREATE, .kind = PLAN_PROJECT, .reason = REASON_DECLARED,
			  .project = "new", .parent = PLAN_NO_PARENT },
			{ .op = PLAN_CREATE, .kind = PLAN_DEPLOYMENT, .reason = REASON_DECLARED,
			  .project = "new", .parent = 0, .reference = "staging", .want = &staging },
			{ .op = PLAN_DELETE, .kind = PLAN_PROJECT, .reason = REASON_ABSENT,
			  .project = "old", .project_id = rows[i].id, .parent = PLAN_NO_PARENT },
		};
		struct plan p = { .actions = acts, .n_actions = 3 };
		struct action_result r[3];
		char want[80];
		struct buf b;

		memset(r, 0, sizeof(r));
		r[0].state = ACTION_OK;
		r[0].project_id = rows[i].id;
		r[1].state = ACTION_OK;
		r[1].project_id = rows[i].id;
		r[1].deployment_name = made;
		r[2].state = ACTION_OK;
		for (int apply = 0; apply < 2; apply++) {
			buf_init(&b, 1 << 20);
			assert_int_equal(plan_print_json(&p, apply ? r : NULL, 0, &b), 0);
			snprintf(want, sizeof(want), "\"project\":\"old\",\"id\":%s,",
			    rows[i].digits);
			if (strstr(b.data, want) == NULL)
				fail_msg("%s does not hold %s", b.data, want);
			snprintf(want, sizeof(want), "\"project\":\"new\",\"reason\":"
			    "\"declared\",\"result\":\"ok\",\"id\":%s}", rows[i].digits);
			if (apply && strstr(b.data, want) == NULL)
				fail_msg("%s does not hold %s", b.data, want);
			if (apply && strstr(b.data, "\"result\":\"ok\",\"name\":\"brave-cat-7\"") == NULL)
				fail_msg("%s does not name the new deployment", b.data);
			buf_free(&b);
		}
	}
}

/* A plan made by plan_build prints as the lead's examples read. */
static void
test_from_plan_build(void **state)
{
	struct desired_deployment dd[] = {
		{ .reference = "staging", .type = DEP_DEV, .is_default = TRI_UNSET },
		{ .reference = "production", .type = DEP_PROD, .class_name = "s256",
		  .is_default = TRI_UNSET },
	};
	struct desired_project dp[] = {
		{ .name = "shop", .deployments = dd, .n_deployments = 2 },
		{ .name = "legacy-tool", .absent = true },
	};
	struct desired_state ds = { .projects = dp, .n_projects = 2 };
	struct observed_project op[] = {
		{ .id = 12, .name = "shop" }, { .id = 1234, .name = "legacy-tool" },
	};
	struct observed_deployment od[] = {
		{ .name = "happy-otter-1", .project_id = 12, .type = DEP_PROD,
		  .reference = "production", .class_name = "s16" },
		{ .name = "happy-otter-123", .project_id = 12, .type = DEP_DEV,
		  .reference = "old" },
	};
	struct observed_state os = { .projects = op, .n_projects = 2,
	    .deployments = od, .n_deployments = 2 };
	struct ledger l = { 0 };
	struct plan_settings set = { .prune = PRUNE_ALL, .max_deletes = 10 };
	struct plan p;
	char *t;
	(void)state;

	assert_int_equal(plan_build(&ds, &os, &l, &set, &p), 0);
	t = text_of(&p, NULL, 0);
	assert_string_equal(t,
	    "+ create deployment \"shop/staging\" (dev)\n"
	    "- delete deployment \"shop/old\" (happy-otter-123)\n"
	    "- delete project \"legacy-tool\" (1234)\n"
	    "~ drift deployment \"shop/production\" (happy-otter-1): class is s16, files say s256\n"
	    "Plan: 1 to create, 2 to delete, 1 drifted, 0 blocked.\n");
	free(t);

	set.max_deletes = 1;
	plan_free(&p);
	assert_int_equal(plan_build(&ds, &os, &l, &set, &p), 0);
	t = text_of(&p, NULL, 0);
	assert_string_equal(t,
	    "+ create deployment \"shop/staging\" (dev)\n"
	    "~ drift deployment \"shop/production\" (happy-otter-1): class is s16, files say s256\n"
	    "! blocked max_deletes: 2 deletes planned, at most 1 allowed\n"
	    "Plan: 1 to create, 0 to delete, 1 drifted, 1 blocked (2 deletes held back).\n");
	free(t);
	plan_free(&p);
}

/* A full buffer is reported, never overrun; appending stops cleanly. */
static void
test_buffer_limit(void **state)
{
	struct plan p = example();
	struct action_result r[4];
	struct buf b;
	size_t full_text, full_json;
	(void)state;

	apply_results(r);
	buf_init(&b, 1 << 20);
	assert_int_equal(plan_print_text(&p, r, PLAN_PRINT_COLOUR, &b), 0);
	full_text = b.len;
	buf_free(&b);
	buf_init(&b, 1 << 20);
	assert_int_equal(plan_print_json(&p, r, 1, &b), 0);
	full_json = b.len;
	buf_free(&b);

	for (size_t max = 0; max < full_text; max++) {
		buf_init(&b, max);
		assert_int_equal(plan_print_text(&p, r, PLAN_PRINT_COLOUR, &b), -E2BIG);
		assert_true(b.len <= max);
		buf_free(&b);
	}
	for (size_t max = 0; max < full_json; max += 7) {
		buf_init(&b, max);
		assert_int_equal(plan_print_json(&p, r, 1, &b), -E2BIG);
		buf_free(&b);
	}
	buf_init(&b, full_text);
	assert_int_equal(plan_print_text(&p, r, PLAN_PRINT_COLOUR, &b), 0);
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_plan),
		cmocka_unit_test(test_text_colour),
		cmocka_unit_test(test_text_no_changes_and_held),
		cmocka_unit_test(test_text_create_details_and_unset),
		cmocka_unit_test(test_text_escapes),
		cmocka_unit_test(test_c1_and_invalid_utf8),
		cmocka_unit_test(test_json_plan),
		cmocka_unit_test(test_json_empty),
		cmocka_unit_test(test_text_apply),
		cmocka_unit_test(test_json_apply),
		cmocka_unit_test(test_json_exact_ids),
		cmocka_unit_test(test_from_plan_build),
		cmocka_unit_test(test_buffer_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
