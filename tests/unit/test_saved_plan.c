/* test_saved_plan.c: the saved plan of `plan --out` / `apply FILE` (SPEC
 * section 13): written 0600 and read back; hostile files refused with the
 * right error (truncated at every length, another version, an edited
 * digest or line, another token, not JSON, a link); the digests (a
 * changed env value changes the plan's, the observation's ignores order);
 * the settings check and the explanation of a stale plan. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "readfile.h"
#include "saved_plan.h"

static const struct plan_env_change env_changes[] = {
	{ .name = "STRIPE_KEY", .value = "sk_live_1234", .type = DEP_PROD,
	  .change = PLAN_ENV_CHANGED },
};
static struct plan_action actions[] = {
	{ .op = PLAN_CREATE, .kind = PLAN_PROJECT, .reason = REASON_DECLARED,
	  .project = "shop", .parent = PLAN_NO_PARENT },
	{ .op = PLAN_UPDATE, .kind = PLAN_ENV, .reason = REASON_DECLARED,
	  .project = "tools", .project_id = 7, .parent = PLAN_NO_PARENT,
	  .env = env_changes, .n_env = 1 },
	{ .op = PLAN_DELETE, .kind = PLAN_PROJECT, .reason = REASON_ABSENT,
	  .project = "legacy-tool", .project_id = 9007199254740993, .parent = PLAN_NO_PARENT },
};

static struct plan
example(void)
{
	struct plan p = { .actions = actions, .n_actions = 3 };
	return p;
}

struct fixture {
	char dir[64];
	char path[128];
	struct plan_digest_key key;
	struct plan_digest_desired desired;
	struct plan_settings settings;
	char *text;
	size_t len;
};

static void
fill_desired(struct plan_digest_desired *d)
{
	memset(d, 0, sizeof(*d));
	d->files = calloc(2, sizeof(*d->files));
	assert_non_null(d->files);
	d->files[0].path = strdup("shop.yaml");
	d->files[1].path = strdup("teams/tools.yaml");
	memset(d->files[0].hex, 'a', SHA256_HEX_LEN - 1);
	memset(d->files[1].hex, 'b', SHA256_HEX_LEN - 1);
	memset(d->values, 'c', SHA256_HEX_LEN - 1);
	memset(d->all, 'd', SHA256_HEX_LEN - 1);
	d->n_files = 2;
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct plan p = example();
	struct saved_plan_input in = { 0 };
	char err[512], obs[SHA256_HEX_LEN], dig[SHA256_HEX_LEN];

	assert_non_null(f);
	strcpy(f->dir, "/tmp/cp-saved-plan.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/convex.plan", f->dir);
	plan_digest_key("sim-token-for-the-test", &f->key);
	fill_desired(&f->desired);
	f->settings.prune = PRUNE_OWNED;
	f->settings.max_deletes = 5;
	memset(obs, 'e', SHA256_HEX_LEN - 1);
	obs[SHA256_HEX_LEN - 1] = '\0';
	assert_int_equal(plan_digest_plan(&p, &f->key, dig), 0);
	in.api_url = "http://127.0.0.1:8050/v1";
	in.team_id = 42;
	in.settings = &f->settings;
	in.desired_path = "convex";
	in.desired = &f->desired;
	in.observed = obs;
	in.plan_digest = dig;
	in.plan = &p;
	in.now_ms = 1764680000000;
	assert_int_equal(saved_plan_write(f->path, &in, &f->key, err, sizeof(err)), 0);
	assert_int_equal(readfile(f->path, 1 << 20, &f->text, &f->len, err, sizeof(err)), 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	unlink(f->path);
	rmdir(f->dir);
	plan_digest_desired_free(&f->desired);
	free(f->text);
	free(f);
	return 0;
}

static int
parse(const struct fixture *f, const char *text, size_t len, char *err, size_t n)
{
	struct saved_plan sp;
	int rc = saved_plan_parse(text, len, &f->key, &sp, err, n);

	saved_plan_free(&sp);
	return rc;
}

static void
test_round_trip(void **state)
{
	struct fixture *f = *state;
	struct saved_plan sp;
	struct stat st;
	char err[512], dig[SHA256_HEX_LEN];
	struct plan p = example();

	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(saved_plan_read(f->path, &f->key, &sp, err, sizeof(err)), 0);
	assert_int_equal(sp.version, SAVED_PLAN_VERSION);
	assert_string_equal(sp.created, "2025-12-02T12:53:20Z");
	assert_string_equal(sp.api_url, "http://127.0.0.1:8050/v1");
	assert_int_equal(sp.team_id, 42);
	assert_int_equal(sp.settings.prune, PRUNE_OWNED);
	assert_int_equal(sp.settings.max_deletes, 5);
	assert_false(sp.settings.allow_empty);
	assert_int_equal(sp.settings.drift, DRIFT_CORRECT);
	assert_string_equal(sp.desired_path, "convex");
	assert_int_equal(sp.desired.n_files, 2);
	assert_string_equal(sp.desired.files[1].path, "teams/tools.yaml");
	assert_string_equal(sp.desired.files[1].hex, f->desired.files[1].hex);
	assert_string_equal(sp.desired.values, f->desired.values);
	assert_int_equal(plan_digest_plan(&p, &f->key, dig), 0);
	assert_string_equal(sp.plan_digest, dig);
	assert_int_equal(sp.n_lines, 3);
	assert_string_equal(sp.lines[0], "+ create project \"shop\"");
	assert_string_equal(sp.lines[1], "~ env tools prod STRIPE_KEY (value changed)");
	/* Exact ids, whatever their size. */
	assert_non_null(strstr(f->text, "9007199254740993"));
	/* No secret: the env value is nowhere. */
	assert_null(strstr(f->text, "sk_live_1234"));
	saved_plan_free(&sp);
	/* No temporary file left beside it. */
	{
		char tmp[200];

		snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", f->path, (long)getpid());
		assert_int_not_equal(access(tmp, F_OK), 0);
	}
}

/* Every prefix of the file is refused, none crashes or passes. */
static void
test_truncated(void **state)
{
	struct fixture *f = *state;
	char err[512];

	for (size_t n = 0; n < f->len; n++) {
		int rc = parse(f, f->text, n, err, sizeof(err));

		if (rc != -EBADMSG && rc != -EKEYREJECTED)
			fail_msg("truncated at %zu: %d (%s)", n, rc, err);
	}
	assert_int_equal(parse(f, f->text, f->len, err, sizeof(err)), 0);
}

static char *
replaced(const char *text, const char *from, const char *to)
{
	const char *at = strstr(text, from);
	char *out;

	assert_non_null(at);
	assert_true(asprintf(&out, "%.*s%s%s", (int)(at - text), text, to,
	    at + strlen(from)) > 0);
	return out;
}

static void
expect(const struct fixture *f, const char *from, const char *to, int want,
    const char *msg_part)
{
	char *t = replaced(f->text, from, to), err[512] = "";
	int rc = parse(f, t, strlen(t), err, sizeof(err));

	if (rc != want)
		fail_msg("%s -> %s: %d, want %d (%s)", from, to, rc, want, err);
	if (msg_part != NULL && strstr(err, msg_part) == NULL)
		fail_msg("%s -> %s: \"%s\" lacks \"%s\"", from, to, err, msg_part);
	free(t);
}

static void
test_wrong_version(void **state)
{
	struct fixture *f = *state;

	expect(f, "\"version\":\t1,", "\"version\":\t2,", -EPROTONOSUPPORT,
	    "format version 2");
	expect(f, "\"version\":\t1,", "\"version\":\t\"1\",", -EBADMSG, "no version");
	expect(f, "\"format\":\t\"convex-provisioner plan\"", "\"format\":\t\"other\"",
	    -EBADMSG, "not a saved plan");
}

static void
test_tampered(void **state)
{
	struct fixture *f = *state;
	struct saved_plan sp;
	char *t, err[512];
	const char *d = strstr(f->text, "\"plan_digest\":\t\"");

	assert_non_null(d);
	/* One digit of the plan's digest. */
	t = strdup(f->text);
	t[(d - f->text) + 16] ^= 1;
	assert_int_equal(parse(f, t, strlen(t), err, sizeof(err)), -EKEYREJECTED);
	assert_non_null(strstr(err, "edited"));
	free(t);
	/* A line, a setting, the team. */
	expect(f, "\"prune\":\t\"owned\"", "\"prune\":\t\"all\"", -EKEYREJECTED, "seal");
	expect(f, "\"team_id\":\t42", "\"team_id\":\t43", -EKEYREJECTED, "seal");
	expect(f, "+ create project", "- delete project", -EKEYREJECTED, "seal");
	/* The seal itself, or reformatted. */
	expect(f, "\"seal\":\t\"", "\"seal\": \"", -EKEYREJECTED, "reformatted");
	/* Data after the document. */
	t = malloc(f->len + 3);
	memcpy(t, f->text, f->len);
	memcpy(t + f->len, "{}", 3);
	assert_int_equal(parse(f, t, f->len + 2, err, sizeof(err)), -EBADMSG);
	free(t);
	/* Another token. */
	{
		struct plan_digest_key other;

		plan_digest_key("another-token", &other);
		assert_int_equal(saved_plan_parse(f->text, f->len, &other, &sp, err,
		    sizeof(err)), -EKEYREJECTED);
		assert_non_null(strstr(err, "another API token"));
		saved_plan_free(&sp);
	}
}

static void
test_not_a_plan(void **state)
{
	struct fixture *f = *state;
	static const char *const bad[] = {
		"", "null", "[]", "{}", "{\"format\": 1}", "not json at all",
		"{\"format\": \"convex-provisioner plan\"}", "\x00\x01",
	};
	char err[512], link[200];
	struct saved_plan sp;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(parse(f, bad[i], strlen(bad[i]), err, sizeof(err)),
		    -EBADMSG);
	/* A symbolic link is not followed (readfile.h). */
	snprintf(link, sizeof(link), "%s/link.plan", f->dir);
	assert_int_equal(symlink(f->path, link), 0);
	assert_int_equal(saved_plan_read(link, &f->key, &sp, err, sizeof(err)), -ELOOP);
	unlink(link);
	assert_int_equal(saved_plan_read("/nonexistent/x.plan", &f->key, &sp, err,
	    sizeof(err)), -ENOENT);
}

static void
test_check_settings(void **state)
{
	struct fixture *f = *state;
	struct saved_plan sp;
	struct plan_settings ps;
	char err[1024];

	assert_int_equal(saved_plan_read(f->path, &f->key, &sp, err, sizeof(err)), 0);
	ps = f->settings;
	assert_int_equal(saved_plan_check_settings(&sp, "http://127.0.0.1:8050/v1", 0,
	    &ps, err, sizeof(err)), 0);
	assert_int_equal(saved_plan_check_settings(&sp, "http://127.0.0.1:8050/v1", 42,
	    &ps, err, sizeof(err)), 0);
	ps.prune = PRUNE_ALL;
	ps.max_deletes = 50;
	assert_int_equal(saved_plan_check_settings(&sp, "http://127.0.0.1:9/v1", 41,
	    &ps, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "the API URL is http://127.0.0.1:9/v1"));
	assert_non_null(strstr(err, "the team is 41, the plan was made for team 42"));
	assert_non_null(strstr(err, "prune is all, the plan was made with owned"));
	assert_non_null(strstr(err, "max_deletes is 50, the plan was made with 5"));
	saved_plan_free(&sp);
}

static void
test_explain(void **state)
{
	struct fixture *f = *state;
	struct saved_plan sp;
	struct plan_digest_desired now;
	struct plan_action acts[2];
	struct plan p = { .actions = acts, .n_actions = 2 };
	char err[512], obs[SHA256_HEX_LEN];
	struct buf b;

	assert_int_equal(saved_plan_read(f->path, &f->key, &sp, err, sizeof(err)), 0);
	fill_desired(&now);
	free(now.files[1].path);
	now.files[1].path = strdup("new.yaml");     /* tools.yaml gone, new added */
	now.files[0].hex[3] = 'f';                  /* shop.yaml changed */
	now.values[0] = '0';
	memset(obs, '1', SHA256_HEX_LEN - 1);
	obs[SHA256_HEX_LEN - 1] = '\0';
	acts[0] = actions[0];                       /* kept */
	memset(&acts[1], 0, sizeof(acts[1]));       /* new */
	acts[1].op = PLAN_CREATE;
	acts[1].kind = PLAN_PROJECT;
	acts[1].project = "blog";
	acts[1].parent = PLAN_NO_PARENT;
	buf_init(&b, 1 << 20);
	assert_int_equal(saved_plan_explain(&sp, &now, obs, &p, &b), 0);
	assert_non_null(strstr(b.data, "  file changed: shop.yaml\n"));
	assert_non_null(strstr(b.data, "  file removed: teams/tools.yaml\n"));
	assert_non_null(strstr(b.data, "  file added: new.yaml\n"));
	assert_non_null(strstr(b.data, "  env values changed"));
	assert_non_null(strstr(b.data, "  the team changed since the plan was made"));
	assert_non_null(strstr(b.data, "  no longer in the plan: ~ env tools prod STRIPE_KEY (value changed)\n"));
	assert_non_null(strstr(b.data, "  no longer in the plan: - delete project \"legacy-tool\" (9007199254740993)\n"));
	assert_non_null(strstr(b.data, "  new in the plan: + create project \"blog\"\n"));
	assert_null(strstr(b.data, "\"shop\""));   /* unchanged: not listed */
	buf_free(&b);
	plan_digest_desired_free(&now);
	saved_plan_free(&sp);
}

/* A changed secret changes the plan's digest though no printed line does;
 * the digest is keyed (another key, another digest). */
static void
test_plan_digest(void **state)
{
	struct fixture *f = *state;
	struct plan p = example();
	struct plan_env_change ch = env_changes[0];
	struct plan_action acts[3];
	struct plan q = { .actions = acts, .n_actions = 3 };
	struct plan_digest_key other;
	char a[SHA256_HEX_LEN], b[SHA256_HEX_LEN];

	memcpy(acts, actions, sizeof(acts));
	assert_int_equal(plan_digest_plan(&p, &f->key, a), 0);
	assert_int_equal(plan_digest_plan(&q, &f->key, b), 0);
	assert_string_equal(a, b);
	ch.value = "sk_live_1235";
	acts[1].env = &ch;
	assert_int_equal(plan_digest_plan(&q, &f->key, b), 0);
	assert_string_not_equal(a, b);
	plan_digest_key("another-token", &other);
	assert_int_equal(plan_digest_plan(&p, &other, b), 0);
	assert_string_not_equal(a, b);
	assert_true(plan_digest_equal(a, a));
	assert_false(plan_digest_equal(a, b));
}

static void
test_observed_digest(void **state)
{
	struct fixture *f = *state;
	struct observed_project pr[2] = {
		{ .id = 1, .name = "shop", .slug = "shop" },
		{ .id = 2, .name = "blog", .slug = "blog" },
	};
	struct observed_project rev[2] = { pr[1], pr[0] };
	struct observed_env_var ev = { .project_id = 1, .name = "K", .value = "v1",
	    .type = DEP_PROD };
	struct observed_state os = { .projects = pr, .n_projects = 2 };
	struct observed_state os2 = { .projects = rev, .n_projects = 2 };
	char a[SHA256_HEX_LEN], b[SHA256_HEX_LEN];

	assert_int_equal(plan_digest_observed(&os, &f->key, a), 0);
	assert_int_equal(plan_digest_observed(&os2, &f->key, b), 0);
	assert_string_equal(a, b);
	os2.env_vars = &ev;
	os2.n_env_vars = 1;
	assert_int_equal(plan_digest_observed(&os2, &f->key, b), 0);
	assert_string_not_equal(a, b);
	ev.value = "v2";
	assert_int_equal(plan_digest_observed(&os2, &f->key, a), 0);
	assert_string_not_equal(a, b);
}

/* The files as loaded: one digest per file, by relative path; a changed
 * byte changes that file's digest only. */
static void
test_desired_digest(void **state)
{
	struct fixture *f = *state;
	char dir[200], p1[256], p2[256], err[256];
	char *files[2] = { p1, p2 };
	struct desired_state ds = { .files = files, .n_files = 2 };
	struct plan_digest_desired d1, d2;
	FILE *fp;

	snprintf(dir, sizeof(dir), "%s/convex", f->dir);
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(p1, sizeof(p1), "%s/a.yaml", dir);
	snprintf(p2, sizeof(p2), "%s/a.yaml.2", dir);
	assert_non_null(fp = fopen(p1, "w"));
	fputs("projects: []\n", fp);
	fclose(fp);
	assert_non_null(fp = fopen(p2, "w"));
	fputs("projects: [{name: x}]\n", fp);
	fclose(fp);
	assert_int_equal(plan_digest_desired(dir, &ds, &f->key, &d1, err, sizeof(err)), 0);
	assert_string_equal(d1.files[0].path, "a.yaml");
	assert_non_null(fp = fopen(p2, "w"));
	fputs("projects: [{name: y}]\n", fp);
	fclose(fp);
	assert_int_equal(plan_digest_desired(dir, &ds, &f->key, &d2, err, sizeof(err)), 0);
	assert_string_equal(d1.files[0].hex, d2.files[0].hex);
	assert_string_not_equal(d1.files[1].hex, d2.files[1].hex);
	assert_string_not_equal(d1.all, d2.all);
	plan_digest_desired_free(&d1);
	plan_digest_desired_free(&d2);
	unlink(p1);
	assert_int_equal(plan_digest_desired(dir, &ds, &f->key, &d1, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "a.yaml"));
	unlink(p2);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_version, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tampered, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_a_plan, setup, teardown),
		cmocka_unit_test_setup_teardown(test_check_settings, setup, teardown),
		cmocka_unit_test_setup_teardown(test_explain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plan_digest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_observed_digest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_desired_digest, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
