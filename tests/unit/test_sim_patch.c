/* test_sim_patch.c: convex-api-sim's PATCH /deployments/{name} and PATCH /projects/{id}, and the deployment settings in every view. */
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

static int
reset(void **state)
{
	(void)state;
	sim_reset(&sim);
	return 0;
}

static long
create_project(const char *name)
{
	char body[256];
	cJSON *j;
	long id;

	snprintf(body, sizeof(body), "{\"projectName\":\"%s\"}", name);
	j = post_json(&sim, "/teams/1/create_project", body, 200);
	id = (long)num(j, "id", NULL);
	cJSON_Delete(j);
	return id;
}

/* Creates a deployment; returns its name (caller frees). */
static char *
create_dep(long pid, const char *body)
{
	char path[128], *name;
	cJSON *j;

	snprintf(path, sizeof(path), "/projects/%ld/create_deployment", pid);
	j = post_json(&sim, path, body, 200);
	name = strdup(str(j, "name"));
	cJSON_Delete(j);
	return name;
}

static cJSON *
get_dep(const char *name)
{
	char path[128];

	snprintf(path, sizeof(path), "/deployments/%s", name);
	return get_json(&sim, path, 200);
}

static void
patch_ok(const char *name, const char *body)
{
	char path[128];

	snprintf(path, sizeof(path), "/deployments/%s", name);
	cJSON_Delete(call_json(&sim, "PATCH", path, body, 200));
}

static void
patch_refused(const char *name, const char *body, const char *code)
{
	char path[128];

	snprintf(path, sizeof(path), "/deployments/%s", name);
	call_expect(&sim, "PATCH", path, body, 400, code);
}

static void
assert_settings(const cJSON *d, bool confirm, bool logs)
{
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(d, "dashboardEditConfirmation");
	const cJSON *l = cJSON_GetObjectItemCaseSensitive(d, "sendLogsToClient");

	assert_true(cJSON_IsBool(c));
	assert_true(cJSON_IsBool(l));
	assert_int_equal(cJSON_IsTrue(c), confirm);
	assert_int_equal(cJSON_IsTrue(l), logs);
}

/* The item of the team listing (and of the project listing) named name. */
static cJSON *
find_listed(const char *path, const char *name)
{
	cJSON *j = get_json(&sim, path, 200), *items, *it, *found = NULL;

	items = cJSON_IsArray(j) ? j : cJSON_GetObjectItemCaseSensitive(j, "items");
	cJSON_ArrayForEach(it, items)
		if (strcmp(str(it, "name"), name) == 0)
			found = cJSON_Duplicate(it, 1);
	cJSON_Delete(j);
	assert_non_null(found);
	return found;
}

/* ---- views */

static void
test_views_carry_type_defaults(void **state)
{
	static const struct {
		const char *body;
		bool confirm, logs, expires;
	} rows[] = {
		{ "{\"type\":\"prod\"}", true, false, false },
		{ "{\"type\":\"dev\"}", false, true, false },
		{ "{\"type\":\"preview\"}", false, true, true },
		{ "{\"type\":\"custom\"}", false, true, false },
	};
	char path[128];
	long pid;

	(void)state;
	pid = create_project("views");
	snprintf(path, sizeof(path), "/projects/%ld/create_deployment", pid);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		cJSON *made = post_json(&sim, path, rows[i].body, 200), *v;
		char lp[128];
		const char *name = str(made, "name");

		/* the create answer, GET, both listings */
		assert_settings(made, rows[i].confirm, rows[i].logs);
		assert_true(rows[i].expires ? num(made, "expiresAt", NULL) > 0 :
		    is_null(made, "expiresAt"));
		v = get_dep(name);
		assert_settings(v, rows[i].confirm, rows[i].logs);
		cJSON_Delete(v);
		snprintf(lp, sizeof(lp), "/projects/%ld/list_deployments", pid);
		v = find_listed(lp, name);
		assert_settings(v, rows[i].confirm, rows[i].logs);
		cJSON_Delete(v);
		v = find_listed("/teams/1/list_deployments", name);
		assert_settings(v, rows[i].confirm, rows[i].logs);
		assert_true(cJSON_HasObjectItem(v, "expiresAt"));
		cJSON_Delete(v);
		cJSON_Delete(made);
	}
}

/* ---- PATCH /deployments/{name} */

static void
test_patch_settings_and_reset(void **state)
{
	cJSON *d, *st, *it;
	char *name;
	long pid;

	(void)state;
	pid = create_project("settings");
	name = create_dep(pid, "{\"type\":\"dev\",\"reference\":\"feature\"}");
	patch_ok(name, "{\"dashboardEditConfirmation\":true,\"sendLogsToClient\":false}");
	d = get_dep(name);
	assert_settings(d, true, false);
	cJSON_Delete(d);
	/* explicit values survive a type change; null goes back to the default */
	patch_ok(name, "{\"deploymentType\":\"prod\"}");
	d = get_dep(name);
	assert_settings(d, true, false);
	cJSON_Delete(d);
	patch_ok(name, "{\"dashboardEditConfirmation\":null}");
	d = get_dep(name);
	assert_settings(d, true, false);   /* prod's defaults */
	cJSON_Delete(d);
	patch_ok(name, "{\"deploymentType\":\"dev\",\"sendLogsToClient\":null}");
	d = get_dep(name);
	assert_settings(d, false, true);   /* unset: dev's defaults */
	cJSON_Delete(d);
	/* the state keeps "unset" apart from an explicit value */
	patch_ok(name, "{\"sendLogsToClient\":true}");
	st = sim_state(&sim);
	cJSON_ArrayForEach(it, cJSON_GetObjectItem(st, "deployments"))
		if (strcmp(str(it, "name"), name) == 0) {
			assert_true(is_null(it, "dashboardEditConfirmation"));
			assert_true(is_true(it, "sendLogsToClient"));
		}
	cJSON_Delete(st);
	free(name);
}

static void
test_patch_second_default_refused(void **state)
{
	char *a, *b, *p1, *p2, path[128];
	cJSON *d, *proj;
	long pid;

	(void)state;
	pid = create_project("defaults");
	a = create_dep(pid, "{\"type\":\"dev\"}");                       /* default */
	b = create_dep(pid, "{\"type\":\"dev\",\"reference\":\"second\"}");
	p1 = create_dep(pid, "{\"type\":\"prod\"}");                     /* default */
	p2 = create_dep(pid, "{\"type\":\"prod\",\"reference\":\"prod-b\"}");
	patch_refused(b, "{\"isDefault\":true}", "DefaultDeploymentExists");
	patch_refused(p2, "{\"isDefault\":true,\"class\":\"s256\"}", "DefaultDeploymentExists");
	d = get_dep(p2);
	assert_true(is_false(d, "isDefault"));
	assert_string_equal(str(d, "class"), "s16");   /* nothing applied */
	cJSON_Delete(d);
	/* the default of another type does not count */
	patch_ok(a, "{\"isDefault\":true}");   /* already it: a no-op */
	/* clear the old one first, then set the new one */
	patch_ok(a, "{\"isDefault\":false}");
	patch_ok(b, "{\"isDefault\":true}");
	snprintf(path, sizeof(path), "/projects/%ld", pid);
	proj = get_json(&sim, path, 200);
	assert_string_equal(str(proj, "devDeploymentName"), b);
	assert_string_equal(str(proj, "prodDeploymentName"), p1);
	cJSON_Delete(proj);
	/* a non-default dev becoming prod while prod has a default: fine;
	 * a default dev becoming prod: a second default prod, refused */
	patch_refused(b, "{\"deploymentType\":\"prod\"}", "DefaultDeploymentExists");
	patch_ok(a, "{\"deploymentType\":\"prod\"}");
	d = get_dep(a);
	assert_string_equal(str(d, "deploymentType"), "prod");
	assert_true(is_false(d, "isDefault"));
	cJSON_Delete(d);
	free(a);
	free(b);
	free(p1);
	free(p2);
}

static void
test_patch_default_on_preview_or_custom(void **state)
{
	char *pr, *cu, *dv;
	cJSON *d;
	long pid;

	(void)state;
	pid = create_project("previews");
	pr = create_dep(pid, "{\"type\":\"preview\"}");
	cu = create_dep(pid, "{\"type\":\"custom\"}");
	dv = create_dep(pid, "{\"type\":\"dev\"}");   /* the default dev */
	patch_refused(pr, "{\"isDefault\":true}", "BadRequest");
	patch_refused(cu, "{\"isDefault\":true}", "BadRequest");
	patch_ok(pr, "{\"isDefault\":false}");
	patch_ok(cu, "{\"isDefault\":null}");
	/* a default dev cannot become preview while default; with
	 * isDefault false in the same body it can */
	patch_refused(dv, "{\"deploymentType\":\"preview\"}", "BadRequest");
	patch_ok(dv, "{\"deploymentType\":\"preview\",\"isDefault\":false}");
	d = get_dep(dv);
	assert_string_equal(str(d, "deploymentType"), "preview");
	assert_true(is_false(d, "isDefault"));
	assert_settings(d, false, true);
	cJSON_Delete(d);
	free(pr);
	free(cu);
	free(dv);
}

static void
test_patch_expires_at(void **state)
{
	char *name, body[128];
	double now = now_ms_wall(), exp;
	cJSON *d;
	long pid;

	(void)state;
	pid = create_project("expiry");
	name = create_dep(pid, "{\"type\":\"dev\",\"reference\":\"temp\"}");
	snprintf(body, sizeof(body), "{\"expiresAt\":%.0f}", now + 10 * 60 * 1000);
	patch_refused(name, body, "BadRequest");
	snprintf(body, sizeof(body), "{\"expiresAt\":%.0f}", now + 29 * 60 * 1000);
	patch_refused(name, body, "BadRequest");
	snprintf(body, sizeof(body), "{\"expiresAt\":%.0f}", now - 1000);
	patch_refused(name, body, "BadRequest");
	patch_refused(name, "{\"expiresAt\":\"tomorrow\"}", "BadRequest");
	patch_refused(name, "{\"expiresAt\":1.5e12}", "BadRequest");
	d = get_dep(name);
	assert_true(is_null(d, "expiresAt"));
	cJSON_Delete(d);
	exp = now + 31 * 60 * 1000;
	snprintf(body, sizeof(body), "{\"expiresAt\":%.0f}", exp);
	patch_ok(name, body);
	d = get_dep(name);
	assert_true(num(d, "expiresAt", NULL) == exp);
	cJSON_Delete(d);
	patch_ok(name, "{\"expiresAt\":null}");
	d = get_dep(name);
	assert_true(is_null(d, "expiresAt"));
	cJSON_Delete(d);
	/* create_deployment takes it too, with the same rule */
	snprintf(body, sizeof(body), "{\"type\":\"dev\",\"reference\":\"temp-2\",\"expiresAt\":%.0f}", exp);
	free(name);
	name = create_dep(pid, body);
	d = get_dep(name);
	assert_true(num(d, "expiresAt", NULL) == exp);
	cJSON_Delete(d);
	free(name);
}

static void
test_patch_reference_rules(void **state)
{
	static const char *const bad[] = {
		"ab", "UPPER", "has space", "under_score", "happy-otter-123",
		"local-laptop", "prod", "dev", "cloud", "local", "default", "name",
		"new", "existing", "deployment", "preview",
	};
	char *a, *b, *other, body[256], big[160];
	cJSON *d;
	long pid, pid2;

	(void)state;
	pid = create_project("refs");
	pid2 = create_project("refs-other");
	a = create_dep(pid, "{\"type\":\"dev\",\"reference\":\"alpha\"}");
	b = create_dep(pid, "{\"type\":\"dev\",\"reference\":\"beta\"}");
	other = create_dep(pid2, "{\"type\":\"dev\",\"reference\":\"gamma\"}");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(body, sizeof(body), "{\"reference\":\"%s\"}", bad[i]);
		patch_refused(a, body, "InvalidReference");
	}
	memset(big, 'x', 101);
	big[101] = '\0';
	snprintf(body, sizeof(body), "{\"reference\":\"%s\"}", big);
	patch_refused(a, body, "InvalidReference");
	patch_refused(a, "{\"reference\":\"beta\"}", "ReferenceAlreadyExists");
	patch_ok(a, "{\"reference\":\"alpha\"}");          /* its own: fine */
	patch_ok(a, "{\"reference\":\"gamma\"}");          /* another project's: fine */
	patch_ok(a, "{\"reference\":\"team/feature-1\"}"); /* "/" allowed */
	patch_ok(a, "{\"reference\":null}");               /* null: unchanged */
	d = get_dep(a);
	assert_string_equal(str(d, "reference"), "team/feature-1");
	cJSON_Delete(d);
	/* the old reference is free again */
	patch_ok(b, "{\"reference\":\"alpha\"}");
	free(a);
	free(b);
	free(other);
}

static void
test_patch_body_rules(void **state)
{
	static const char *const ill[] = {
		"{\"class\":5}", "{\"class\":\"xl\"}", "{\"isDefault\":\"yes\"}",
		"{\"dashboardEditConfirmation\":\"true\"}", "{\"sendLogsToClient\":1}",
		"{\"deploymentType\":\"staging\"}", "{\"deploymentType\":3}",
		"{\"reference\":12}", "{\"expiresAt\":\"soon\"}",
		"{\"class\":\"s256\",\"colour\":\"red\"}", "{\"Class\":\"s256\"}",
		"[]", "\"class\"", "not json", "{\"class\":\"s256\"",
	};
	char *name;
	cJSON *d;
	long pid;

	(void)state;
	pid = create_project("bodies");
	name = create_dep(pid, "{\"type\":\"dev\",\"reference\":\"body\",\"class\":\"s16\"}");
	for (size_t i = 0; i < sizeof(ill) / sizeof(ill[0]); i++)
		patch_refused(name, ill[i], "BadRequest");
	/* all or nothing: a good field with a bad one changes nothing */
	patch_refused(name, "{\"class\":\"d1024\",\"reference\":\"dev\"}", "InvalidReference");
	d = get_dep(name);
	assert_string_equal(str(d, "class"), "s16");
	assert_string_equal(str(d, "reference"), "body");
	cJSON_Delete(d);
	/* only what is present changes */
	patch_ok(name, "{\"class\":\"d1024\"}");
	patch_ok(name, "{}");
	patch_ok(name, "{\"class\":null}");
	d = get_dep(name);
	assert_string_equal(str(d, "class"), "d1024");
	assert_string_equal(str(d, "reference"), "body");
	assert_string_equal(str(d, "deploymentType"), "dev");
	assert_true(is_false(d, "isDefault"));
	assert_string_equal(str(d, "region"), "aws-us-east-1");
	cJSON_Delete(d);
	call_expect(&sim, "PATCH", "/deployments/no-such-dep-1", "{}", 404,
	    "DeploymentNotFound");
	free(name);
}

/* ---- PATCH /projects/{id} */

static void
test_project_patch(void **state)
{
	static const char *const bad_slugs[] = {
		"Shop", "with space", "-lead", "trail-", "under_score", "dot.ted", "",
	};
	char path[64], body[256], big[80];
	cJSON *p, *lst, *it;
	long a, b, c;
	bool seen = false;

	(void)state;
	a = create_project("Shop");
	b = create_project("Garden");
	snprintf(path, sizeof(path), "/projects/%ld", a);
	p = call_json(&sim, "PATCH", path, "{\"name\":\"Shop & Co\",\"slug\":\"store\"}", 200);
	/* the answer is the updated ProjectResponse */
	assert_string_equal(str(p, "name"), "Shop & Co");
	assert_string_equal(str(p, "slug"), "store");
	assert_true((long)num(p, "id", NULL) == a);
	assert_true(cJSON_HasObjectItem(p, "teamSlug"));
	cJSON_Delete(p);
	p = get_json(&sim, path, 200);
	assert_string_equal(str(p, "slug"), "store");
	cJSON_Delete(p);
	lst = get_json(&sim, "/teams/1/projects", 200);
	cJSON_ArrayForEach(it, cJSON_GetObjectItem(lst, "items"))
		if ((long)num(it, "id", NULL) == a) {
			assert_string_equal(str(it, "name"), "Shop & Co");
			assert_string_equal(str(it, "slug"), "store");
			seen = true;
		}
	assert_true(seen);
	cJSON_Delete(lst);
	/* the old slug is free: a new "Shop" gets it */
	c = create_project("Shop");
	snprintf(path, sizeof(path), "/projects/%ld", c);
	p = get_json(&sim, path, 200);
	assert_string_equal(str(p, "slug"), "shop");
	cJSON_Delete(p);

	snprintf(path, sizeof(path), "/projects/%ld", b);
	for (size_t i = 0; i < sizeof(bad_slugs) / sizeof(bad_slugs[0]); i++) {
		snprintf(body, sizeof(body), "{\"slug\":\"%s\"}", bad_slugs[i]);
		call_expect(&sim, "PATCH", path, body, 400, "InvalidProjectSlug");
	}
	memset(big, 'a', 65);
	big[65] = '\0';
	snprintf(body, sizeof(body), "{\"slug\":\"%s\"}", big);
	call_expect(&sim, "PATCH", path, body, 400, "InvalidProjectSlug");
	call_expect(&sim, "PATCH", path, "{\"slug\":\"store\"}", 400, "ProjectSlugAlreadyExists");
	call_expect(&sim, "PATCH", path, "{\"name\":\"   \"}", 400, "InvalidProjectName");
	call_expect(&sim, "PATCH", path, "{\"name\":\"\"}", 400, "InvalidProjectName");
	memset(big, 'n', 79);
	big[79] = '\0';
	snprintf(body, sizeof(body), "{\"name\":\"%s%s\"}", big, big);   /* 158 bytes */
	call_expect(&sim, "PATCH", path, body, 400, "InvalidProjectName");
	call_expect(&sim, "PATCH", path, "{\"name\":7}", 400, "BadRequest");
	call_expect(&sim, "PATCH", path, "{\"title\":\"x\"}", 400, "BadRequest");
	/* a refused name with a good slug changes neither */
	call_expect(&sim, "PATCH", path, "{\"name\":\"\",\"slug\":\"fine\"}", 400,
	    "InvalidProjectName");
	p = call_json(&sim, "PATCH", path, "{\"slug\":\"garden\",\"name\":null}", 200);
	assert_string_equal(str(p, "name"), "Garden");   /* own slug, null name */
	assert_string_equal(str(p, "slug"), "garden");
	cJSON_Delete(p);
	p = call_json(&sim, "PATCH", path, "{\"slug\":\"a1-b2\"}", 200);
	assert_string_equal(str(p, "slug"), "a1-b2");
	cJSON_Delete(p);
	call_expect(&sim, "PATCH", "/projects/424242", "{\"name\":\"x\"}", 404, "ProjectNotFound");
	call_expect(&sim, "PATCH", "/projects/abc", "{\"name\":\"x\"}", 400, "BadRequest");
	/* the legacy listing shows the new values too */
	lst = get_json(&sim, "/teams/1/list_projects", 200);
	seen = false;
	cJSON_ArrayForEach(it, lst)
		if ((long)num(it, "id", NULL) == b) {
			assert_string_equal(str(it, "slug"), "a1-b2");
			seen = true;
		}
	assert_true(seen);
	cJSON_Delete(lst);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_views_carry_type_defaults, reset),
		cmocka_unit_test_setup(test_patch_settings_and_reset, reset),
		cmocka_unit_test_setup(test_patch_second_default_refused, reset),
		cmocka_unit_test_setup(test_patch_default_on_preview_or_custom, reset),
		cmocka_unit_test_setup(test_patch_expires_at, reset),
		cmocka_unit_test_setup(test_patch_reference_rules, reset),
		cmocka_unit_test_setup(test_patch_body_rules, reset),
		cmocka_unit_test_setup(test_project_patch, reset),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
