/* test_plan_markdown.c: the plan as a pull-request comment (SPEC section
 * 13): summary and table, hostile names escaped, no secret, folded and
 * bounded when long with an exact "N more" count. */
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

#include "plan_markdown.h"
#include "secrets.h"

static struct desired_deployment staging = {
	.reference = "staging", .type = DEP_DEV, DESIRED_DEPLOYMENT_UNSET,
};
static const struct plan_env_change env_changes[] = {
	{ .name = "STRIPE_KEY", .value = "sk_live_do_not_show", .type = DEP_PROD,
	  .change = PLAN_ENV_CHANGED },
	{ .name = "SITE_URL", .value = "https://shop.example.com", .type = DEP_PROD,
	  .change = PLAN_ENV_SET },
};
static struct plan_action example_actions[] = {
	{ .op = PLAN_CREATE, .kind = PLAN_PROJECT, .reason = REASON_DECLARED,
	  .project = "shop", .parent = PLAN_NO_PARENT },
	{ .op = PLAN_CREATE, .kind = PLAN_DEPLOYMENT, .reason = REASON_DECLARED,
	  .project = "shop", .parent = 0, .reference = "staging", .want = &staging },
	{ .op = PLAN_UPDATE, .kind = PLAN_ENV, .reason = REASON_DECLARED,
	  .project = "shop", .project_id = 7, .parent = PLAN_NO_PARENT,
	  .env = env_changes, .n_env = 2 },
	{ .op = PLAN_DELETE, .kind = PLAN_PROJECT, .reason = REASON_ABSENT,
	  .project = "legacy-tool", .project_id = 1234, .parent = PLAN_NO_PARENT },
};
static struct plan_drift example_drift[] = {
	{ .project = "shop", .reference = "production", .deployment_name = "happy-otter-1",
	  .field = "region", .want = "aws-eu-west-1", .have = "aws-us-east-1",
	  .reason = "a region cannot be changed" },
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
md_of(const struct plan *p, const struct plan_markdown_opts *o)
{
	struct buf b;

	buf_init(&b, 1 << 24);
	assert_int_equal(plan_print_markdown(p, o, &b), 0);
	assert_non_null(b.data);
	return buf_steal(&b);
}

/* Cell separators of a table row: '|' not escaped by a backslash. */
static size_t
bare_pipes(const char *line, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		if (line[i] == '\\') {
			i++;
			continue;
		}
		n += line[i] == '|';
	}
	return n;
}

/* Every row of the table has exactly three separators (two cells), and
 * no '<' is bare outside the <details> lines this printer writes. */
static size_t
check_table(const char *md)
{
	size_t rows = 0;

	for (const char *p = md; *p != '\0';) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);

		if (n > 0 && p[0] == '|') {
			if (bare_pipes(p, n) != 3)
				fail_msg("a row with %zu separators: %.*s",
				    bare_pipes(p, n), (int)n, p);
			rows++;
		}
		if (strncmp(p, "<details>", 9) != 0 && strncmp(p, "</details>", 10) != 0) {
			for (size_t i = 0; i < n; i++) {
				if (p[i] == '\\')
					i++;
				else if (p[i] == '<' || p[i] == '>' || p[i] == '`' ||
				    p[i] == '&')
					if (!(p[i] == '>' && i == 0) &&
					    !(p[i] == '`' && n > 5 && (i == 2 || i == 4)))
						fail_msg("a bare %c: %.*s", p[i], (int)n, p);
			}
		}
		p += n + (nl != NULL);
	}
	return rows;
}

static void
test_example(void **state)
{
	struct plan p = example();
	char *md = md_of(&p, NULL);

	(void)state;
	assert_non_null(strstr(md, "#### convex-provisioner plan\n\n"));
	/* The summary of the text plan, bold, its ':' escaped. */
	assert_non_null(strstr(md, "**Plan\\: 2 to create, 1 to update, 1 to delete, "
	    "1 drifted, 1 blocked.**\n"));
	assert_non_null(strstr(md, "> [!WARNING]\n> 1 item is blocked by a guard"));
	assert_non_null(strstr(md, "| | Change |\n|:-:|---|\n"));
	assert_non_null(strstr(md, "| `+` | create project \"shop\" |\n"));
	assert_non_null(strstr(md, "| `+` | create deployment \"shop/staging\" \\(dev\\) |\n"));
	assert_non_null(strstr(md, "| `~` | env shop prod STRIPE\\_KEY \\(value changed\\) |\n"));
	assert_non_null(strstr(md, "| `-` | delete project \"legacy-tool\" \\(1234\\) |\n"));
	assert_non_null(strstr(md, "| `~` | drift deployment \"shop/production\""));
	assert_non_null(strstr(md, "| `!` | blocked max\\_deletes\\: 12 deletes planned"));
	/* Short: not folded, and nothing left out. */
	assert_null(strstr(md, "<details>"));
	assert_null(strstr(md, "more"));
	assert_int_equal(check_table(md), 1 + 6 + 1 + 1);
	/* Names only, never a value. */
	assert_null(strstr(md, "sk_live_do_not_show"));
	assert_null(strstr(md, "shop.example.com"));
	free(md);
}

static void
test_no_changes(void **state)
{
	struct plan p = { 0 };
	char *md = md_of(&p, NULL);

	(void)state;
	assert_string_equal(md, "#### convex-provisioner plan\n\n"
	    "**No changes. The team matches the files.**\n");
	free(md);
}

/* Names from the files and the API are whatever their authors typed. */
static void
test_hostile_names(void **state)
{
	static const char *const names[] = {
		"a|b", "<img src=x onerror=alert(1)>", "`code` **bold**",
		"</details><script>x</script>", "line\nbreak | x", "[link](http://evil)",
		"@everyone #1 $x$ ~~s~~ &amp;", "back\\slash|", "\xe2\x80\xaertl\x9bx",
	};
	struct plan_action acts[sizeof(names) / sizeof(names[0])];
	struct plan p = { .actions = acts, .n_actions = sizeof(acts) / sizeof(acts[0]) };
	char *md;

	(void)state;
	memset(acts, 0, sizeof(acts));
	for (size_t i = 0; i < p.n_actions; i++) {
		acts[i].op = PLAN_CREATE;
		acts[i].kind = PLAN_PROJECT;
		acts[i].project = names[i];
		acts[i].parent = PLAN_NO_PARENT;
	}
	md = md_of(&p, NULL);
	assert_int_equal(check_table(md), 2 + p.n_actions);
	assert_non_null(strstr(md, "\\<img"));
	assert_null(strstr(md, "</details><script>"));
	assert_null(strstr(md, "**bold**"));
	assert_non_null(strstr(md, "\\@everyone"));
	assert_null(strstr(md, "](http"));
	assert_non_null(strstr(md, "a\\|b"));
	assert_non_null(strstr(md, "\\<img src=x onerror=alert\\(1\\)\\>"));
	/* The newline was escaped by the text printer: one row per name. */
	assert_non_null(strstr(md, "line\\\\x0abreak \\| x"));
	free(md);
}

/* A secret registered with the scrubber never shows, even in a name. */
static void
test_registered_secret_masked(void **state)
{
	struct plan_action a = { .op = PLAN_CREATE, .kind = PLAN_PROJECT,
	    .project = "shop-hunter2-secret", .parent = PLAN_NO_PARENT };
	struct plan p = { .actions = &a, .n_actions = 1 };
	char *md;

	(void)state;
	assert_int_equal(secrets_register("hunter2-secret"), 0);
	md = md_of(&p, NULL);
	assert_null(strstr(md, "hunter2"));
	assert_non_null(strstr(md, "shop-\\*\\*\\*"));
	free(md);
	secrets_free();
}

static struct plan
many(size_t n, struct plan_action **acts, char ***names)
{
	struct plan p = { 0 };

	*acts = calloc(n, sizeof(**acts));
	*names = calloc(n, sizeof(**names));
	assert_non_null(*acts);
	assert_non_null(*names);
	for (size_t i = 0; i < n; i++) {
		assert_true(asprintf(&(*names)[i], "project-%05zu", i) > 0);
		(*acts)[i].op = PLAN_CREATE;
		(*acts)[i].kind = PLAN_PROJECT;
		(*acts)[i].project = (*names)[i];
		(*acts)[i].parent = PLAN_NO_PARENT;
	}
	p.actions = *acts;
	p.n_actions = n;
	return p;
}

static void
free_many(struct plan_action *acts, char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	free(acts);
}

/* "... and N more": N is exactly the rows left out. */
static size_t
more_of(const char *md)
{
	const char *m = strstr(md, "*... and ");

	return m == NULL ? 0 : strtoul(m + 9, NULL, 10);
}

static void
test_long_plan_folded_and_bounded(void **state)
{
	struct plan_action *acts;
	char **names;
	struct plan p = many(1000, &acts, &names);
	char *md = md_of(&p, NULL);
	size_t rows;

	(void)state;
	assert_non_null(strstr(md, "<details><summary>1000 lines of changes, drift "
	    "and guards</summary>\n"));
	assert_non_null(strstr(md, "\n</details>\n"));
	rows = check_table(md) - 2 - 1;   /* header, rule, "more" row */
	assert_int_equal(rows, PLAN_MARKDOWN_MAX_ROWS);
	assert_int_equal(more_of(md), 1000 - PLAN_MARKDOWN_MAX_ROWS);
	assert_true(strlen(md) <= PLAN_MARKDOWN_MAX_BYTES);
	/* The first rows are the plan's first actions, in order. */
	assert_non_null(strstr(md, "| `+` | create project \"project-00000\" |\n"
	    "| `+` | create project \"project-00001\" |\n"));
	free(md);
	free_many(acts, names, 1000);
}

/* The byte bound cuts before the row bound; the sum still adds up. */
static void
test_byte_bound(void **state)
{
	struct plan_action *acts;
	char **names;
	struct plan p = many(500, &acts, &names);
	struct plan_markdown_opts o = { 1000, 4096, 10 };
	char *md = md_of(&p, &o);
	size_t rows;

	(void)state;
	assert_true(strlen(md) <= 4096);
	rows = check_table(md) - 3;
	assert_true(rows > 10 && rows < 100);
	assert_int_equal(rows + more_of(md), 500);
	free(md);
	o.max_bytes = PLAN_MARKDOWN_MIN_BYTES - 1;
	{
		struct buf b;

		buf_init(&b, 1 << 20);
		assert_int_equal(plan_print_markdown(&p, &o, &b), -EINVAL);
		buf_free(&b);
	}
	free_many(acts, names, 500);
}

static void
test_escape(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 1024);
	assert_int_equal(plan_markdown_escape(&b, "a_b*c`d|e<f>g[h](i)\\j", 21), 0);
	assert_string_equal(b.data, "a\\_b\\*c\\`d\\|e\\<f\\>g\\[h\\]\\(i\\)\\\\j");
	buf_reset(&b);
	assert_int_equal(plan_markdown_escape(&b, "plain-name/ref.1", 16), 0);
	assert_string_equal(b.data, "plain-name/ref.1");
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_example),
		cmocka_unit_test(test_no_changes),
		cmocka_unit_test(test_hostile_names),
		cmocka_unit_test(test_registered_secret_masked),
		cmocka_unit_test(test_long_plan_folded_and_bounded),
		cmocka_unit_test(test_byte_bound),
		cmocka_unit_test(test_escape),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
