/* test_ytree.c: the YAML tree keeps positions and types, and its limits
 * (size, depth, node count with aliases expanded, encoding) are clean
 * errors at the right place. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "cfgtest.h"
#include "diag.h"
#include "ytree.h"

static char *
diags(const struct diag *d)
{
	return cfgtest_diags(d, NULL);
}

/* ---- positions and scalar types ----------------------------------------- */

static void
test_positions_and_types(void **state)
{
	const char *text =
	    "top:\n"
	    "  - name: shop\n"
	    "    n: 12\n"
	    "  - {a: ~, b: true, c: \"true\", d: 1.5e3, e: '', f: null, g: -7}\n"
	    "block: |\n"
	    "  text\n";
	struct ytree t;
	struct diag d;
	const struct ytree_node *root, *list, *m, *v;
	(void)state;

	diag_init(&d);
	assert_int_equal(ytree_parse(&t, "t.yaml", text, strlen(text), NULL,
	    NULL, &d), 0);
	assert_int_equal(d.n, 0);
	assert_int_equal(t.n_docs, 1);
	root = t.docs[0];
	assert_int_equal(root->kind, YTREE_MAP);
	assert_int_equal(root->n, 2);
	list = ytree_map_get(root, "top");
	assert_non_null(list);
	assert_int_equal(list->kind, YTREE_SEQ);
	assert_int_equal(list->line, 2);
	assert_int_equal(list->col, 3);
	m = list->items[0];
	assert_int_equal(m->line, 2);
	assert_int_equal(m->col, 5);
	v = ytree_map_get(m, "name");
	assert_string_equal(v->value, "shop");
	assert_int_equal(v->line, 2);
	assert_int_equal(v->col, 11);
	assert_int_equal(v->stype, YTREE_STR);
	v = ytree_map_get(m, "n");
	assert_int_equal(v->stype, YTREE_INT);
	assert_int_equal(v->line, 3);
	assert_int_equal(v->col, 8);

	m = list->items[1];
	assert_int_equal(m->kind, YTREE_MAP);
	assert_int_equal(m->col, 5);
	assert_int_equal(ytree_map_get(m, "a")->stype, YTREE_NULL);
	v = ytree_map_get(m, "b");
	assert_int_equal(v->stype, YTREE_BOOL);
	assert_true(v->bval);
	assert_int_equal(ytree_map_get(m, "c")->stype, YTREE_STR);
	assert_int_equal(ytree_map_get(m, "d")->stype, YTREE_FLOAT);
	assert_int_equal(ytree_map_get(m, "e")->stype, YTREE_STR);
	assert_int_equal(ytree_map_get(m, "f")->stype, YTREE_NULL);
	assert_int_equal(ytree_map_get(m, "g")->stype, YTREE_INT);
	assert_null(ytree_map_get(m, "zz"));
	v = ytree_map_get(root, "block");
	assert_string_equal(v->value, "text\n");
	assert_int_equal(v->stype, YTREE_STR);
	assert_string_equal(ytree_describe(root), "a mapping");
	assert_string_equal(ytree_describe(list), "a list");
	ytree_free(&t);
	diag_free(&d);
}

/* Plain scalars under the YAML 1.2 core schema: only these spellings are
 * booleans (yes/no/on/off are text), and so on. */
static void
test_plain_resolution(void **state)
{
	static const struct {
		const char *text;
		enum ytree_stype want;
	} rows[] = {
		{ "~", YTREE_NULL }, { "null", YTREE_NULL }, { "Null", YTREE_NULL },
		{ "NULL", YTREE_NULL }, { "", YTREE_NULL },
		{ "true", YTREE_BOOL }, { "True", YTREE_BOOL }, { "FALSE", YTREE_BOOL },
		{ "yes", YTREE_STR }, { "no", YTREE_STR }, { "on", YTREE_STR },
		{ "tRUE", YTREE_STR },
		{ "0", YTREE_INT }, { "-12", YTREE_INT }, { "+3", YTREE_INT },
		{ "0o17", YTREE_INT }, { "0x1F", YTREE_INT },
		{ "1.5", YTREE_FLOAT }, { ".5", YTREE_FLOAT }, { "1e3", YTREE_FLOAT },
		{ "-.inf", YTREE_FLOAT }, { ".nan", YTREE_FLOAT },
		{ "1e", YTREE_STR }, { "0x", YTREE_STR }, { "1.2.3", YTREE_STR },
		{ "shop", YTREE_STR }, { "a-b", YTREE_STR }, { "12abc", YTREE_STR },
	};
	(void)state;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char text[64];
		struct ytree t;
		struct diag d;

		snprintf(text, sizeof(text), "k: %s\n", rows[i].text);
		diag_init(&d);
		assert_int_equal(ytree_parse(&t, "t.yaml", text, strlen(text),
		    NULL, NULL, &d), 0);
		if (ytree_map_get(t.docs[0], "k")->stype != rows[i].want)
			fail_msg("%s: got type %d, want %d", rows[i].text,
			    ytree_map_get(t.docs[0], "k")->stype, rows[i].want);
		ytree_free(&t);
		diag_free(&d);
	}
}

static void
test_documents(void **state)
{
	const char *text = "a: 1\n---\n---\nb: 2\n...\n";
	struct ytree t;
	struct diag d;
	(void)state;

	diag_init(&d);
	assert_int_equal(ytree_parse(&t, "t.yaml", text, strlen(text), NULL,
	    NULL, &d), 0);
	assert_int_equal(t.n_docs, 3);
	assert_non_null(ytree_map_get(t.docs[0], "a"));
	assert_int_equal(t.docs[1]->stype, YTREE_NULL);   /* empty document */
	assert_non_null(ytree_map_get(t.docs[2], "b"));
	assert_int_equal(t.docs[2]->line, 4);
	ytree_free(&t);

	/* Nothing, or only comments: no document at all. */
	assert_int_equal(ytree_parse(&t, "t.yaml", "", 0, NULL, NULL, &d), 0);
	assert_int_equal(t.n_docs, 0);
	ytree_free(&t);
	assert_int_equal(ytree_parse(&t, "t.yaml", "# hi\n", 5, NULL, NULL, &d), 0);
	assert_int_equal(t.n_docs, 0);
	ytree_free(&t);
	assert_int_equal(d.n, 0);
	diag_free(&d);
}

/* Aliases share the node they name, and count as its expanded size. */
static void
test_alias_counts_expanded(void **state)
{
	const char *text = "a: &x [1, 2, 3]\nb: *x\nc: *x\n";
	struct ytree t;
	struct diag d;
	size_t used = 0;
	(void)state;

	diag_init(&d);
	assert_int_equal(ytree_parse(&t, "t.yaml", text, strlen(text), NULL,
	    &used, &d), 0);
	/* map + 3 keys + list(4) + two aliases of 4 each */
	assert_int_equal(used, 1 + 3 + 4 + 4 + 4);
	assert_int_equal(t.docs[0]->weight, used);
	assert_ptr_equal(ytree_map_get(t.docs[0], "a"),
	    ytree_map_get(t.docs[0], "b"));
	ytree_free(&t);
	diag_free(&d);
}

/* ---- errors, one row each ----------------------------------------------- */

static const struct {
	const char *name;
	const char *text;
	int rc;
	const char *want;
} error_rows[] = {
	{ "duplicate key", "a: 1\nb: 2\na: 3\n", 0,
	  "t.yaml:3:1: error: duplicate key \"a\" (first at 1:1)\n" },
	{ "complex key", "? [a]\n: 1\nb: 2\n", 0,
	  "t.yaml:1:3: error: a mapping key must be a scalar, not a list\n" },
	{ "unknown anchor", "a: *nope\n", -EBADMSG,
	  "t.yaml:1:4: error: unknown anchor \"nope\"\n" },
	{ "recursive alias", "a: &x [1, *x]\n", -EBADMSG,
	  "t.yaml:1:11: error: alias \"x\" refers to a node that contains it\n" },
	{ "anchors end with their document", "a: &x 1\n---\nb: *x\n", -EBADMSG,
	  "t.yaml:3:4: error: unknown anchor \"x\"\n" },
	{ "unsupported tag", "a: !!int 3\nb: !foo x\nc: !!str 3\n", 0,
	  "t.yaml:1:4: error: unsupported tag \"!!int\" (only !!str is understood)\n"
	  "t.yaml:2:4: error: unsupported tag \"!foo\" (only !!str is understood)\n" },
	{ "syntax", "a: b\n  c: d\n", -EBADMSG,
	  "t.yaml:2:4: error: invalid YAML: mapping values are not allowed in this "
	  "context\n" },
	{ "unclosed flow", "a: [1, 2\n", -EBADMSG,
	  "t.yaml:2:1: error: invalid YAML: did not find expected ',' or ']' "
	  "(while parsing a flow sequence at 1:4)\n" },
	/* Latin-1 text: the byte after the \xe9 cannot continue it. */
	{ "invalid UTF-8", "a: b\nname: caf\xe9!\n", -EBADMSG,
	  "t.yaml:2:11: error: not valid UTF-8: invalid trailing UTF-8 octet "
	  "0x21\n" },
	{ "invalid UTF-8 lead", "a: \xff\n", -EBADMSG,
	  "t.yaml:1:4: error: not valid UTF-8: invalid leading UTF-8 octet 0xff\n" },
	{ "binary garbage", "\x7f" "ELF\x02\x01\x01", -EBADMSG,
	  "t.yaml:1:1: error: control character 0x7f is not allowed\n" },
	{ "UTF-16", "\xff\xfe" "a\0:\0 \0b\0", -EBADMSG,
	  "t.yaml:1:1: error: UTF-16 text is not supported; save the file as "
	  "UTF-8\n" },
	{ "a UTF-8 byte order mark is fine", "\xef\xbb\xbf" "a: 1\nb: 2\na: 3\n", 0,
	  "t.yaml:3:1: error: duplicate key \"a\" (first at 1:1)\n" },
	{ "escape in a key is quoted", "\"\\e[31m\": 1\n\"\\e[31m\": 2\n", 0,
	  "t.yaml:2:1: error: duplicate key \"\\x1b[31m\" (first at 1:1)\n" },
};

static void
test_error_rows(void **state)
{
	(void)state;

	for (size_t i = 0; i < sizeof(error_rows) / sizeof(error_rows[0]); i++) {
		struct ytree t;
		struct diag d;
		char *got;
		int rc;

		diag_init(&d);
		rc = ytree_parse(&t, "t.yaml", error_rows[i].text,
		    strlen(error_rows[i].text), NULL, NULL, &d);
		got = diags(&d);
		if (rc != error_rows[i].rc || strcmp(got, error_rows[i].want) != 0)
			fail_msg("%s: rc %d (want %d)\ngot:  %swant: %s",
			    error_rows[i].name, rc, error_rows[i].rc, got,
			    error_rows[i].want);
		if (rc != 0)
			assert_int_equal(t.n_docs, 0);
		free(got);
		ytree_free(&t);
		diag_free(&d);
	}
}

/* The duplicate is left out: the first value stays. */
static void
test_duplicate_key_keeps_first(void **state)
{
	const char *text = "a: 1\na: 3\n";
	struct ytree t;
	struct diag d;
	(void)state;

	diag_init(&d);
	assert_int_equal(ytree_parse(&t, "t.yaml", text, strlen(text), NULL,
	    NULL, &d), 0);
	assert_int_equal(t.docs[0]->n, 1);
	assert_string_equal(ytree_map_get(t.docs[0], "a")->value, "1");
	ytree_free(&t);
	diag_free(&d);
}

/* A mapping with many keys checks duplicates with a hash, not pairwise. */
static void
test_many_keys(void **state)
{
	struct ytree t;
	struct diag d;
	char *text, *got;
	size_t o = 0, n = 20000;
	(void)state;

	text = malloc(n * 16 + 32);
	assert_non_null(text);
	for (size_t i = 0; i < n; i++)
		o += (size_t)sprintf(text + o, "k%zu: %zu\n", i, i);
	o += (size_t)sprintf(text + o, "k77: dup\n");
	diag_init(&d);
	assert_int_equal(ytree_parse(&t, "t.yaml", text, o, NULL, NULL, &d), 0);
	assert_int_equal(t.docs[0]->n, n);
	got = diags(&d);
	assert_string_equal(got,
	    "t.yaml:20001:1: error: duplicate key \"k77\" (first at 78:1)\n");
	free(got);
	free(text);
	ytree_free(&t);
	diag_free(&d);
}

/* ---- limits ------------------------------------------------------------- */

static char *
nested(unsigned levels)
{
	char *s = malloc(2 * levels + 2);

	assert_non_null(s);
	memset(s, '[', levels);
	memset(s + levels, ']', levels);
	s[2 * levels] = '\n';
	s[2 * levels + 1] = '\0';
	return s;
}

static void
test_depth(void **state)
{
	struct ytree t;
	struct diag d;
	char *ok = nested(64), *bad = nested(65), *got;
	(void)state;

	diag_init(&d);
	assert_int_equal(ytree_parse(&t, "t.yaml", ok, strlen(ok), NULL, NULL,
	    &d), 0);
	assert_int_equal(t.docs[0]->height, 64);
	assert_int_equal(d.n, 0);
	ytree_free(&t);
	assert_int_equal(ytree_parse(&t, "t.yaml", bad, strlen(bad), NULL, NULL,
	    &d), -EBADMSG);
	got = diags(&d);
	assert_string_equal(got, "t.yaml:1:65: error: nesting deeper than 64 "
	    "levels\n");
	free(got);
	ytree_free(&t);
	diag_free(&d);
	free(ok);
	free(bad);
}

/* Block style counts the same way as flow style. */
static void
test_depth_block(void **state)
{
	struct ytree t;
	struct diag d;
	char *text = malloc(65 * 140), *got;
	size_t o = 0;
	(void)state;

	assert_non_null(text);
	for (int i = 0; i < 65; i++)
		o += (size_t)sprintf(text + o, "%*sk:\n", 2 * i, "");
	o += (size_t)sprintf(text + o, "%*sv\n", 2 * 65, "");
	diag_init(&d);
	assert_int_equal(ytree_parse(&t, "t.yaml", text, o, NULL, NULL, &d),
	    -EBADMSG);
	got = diags(&d);
	assert_string_equal(got, "t.yaml:65:129: error: nesting deeper than 64 "
	    "levels\n");
	free(got);
	free(text);
	ytree_free(&t);
	diag_free(&d);
}

/* An alias of a deep node placed deep inside counts its full depth. */
static void
test_depth_through_alias(void **state)
{
	struct ytree t;
	struct diag d;
	char *deep = nested(40), *text, *got;
	(void)state;

	deep[strlen(deep) - 1] = '\0';
	assert_true(asprintf(&text, "- &d %s\n- %s*d%s\n", deep,
	    "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]") > 0);
	diag_init(&d);
	assert_int_equal(ytree_parse(&t, "t.yaml", text, strlen(text), NULL,
	    NULL, &d), -EBADMSG);
	got = diags(&d);
	assert_string_equal(got, "t.yaml:2:33: error: nesting deeper than 64 "
	    "levels\n");
	free(got);
	free(text);
	free(deep);
	ytree_free(&t);
	diag_free(&d);
}

static void
test_node_limit_exact(void **state)
{
	struct ytree_limits lim = { YTREE_MAX_BYTES, 64, 5 };
	struct ytree t;
	struct diag d;
	size_t used = 0;
	char *got;
	(void)state;

	diag_init(&d);
	/* map, a, 1, b, 2: exactly five nodes */
	assert_int_equal(ytree_parse(&t, "t.yaml", "a: 1\nb: 2\n", 10, &lim,
	    &used, &d), 0);
	assert_int_equal(used, 5);
	ytree_free(&t);
	/* The budget is shared: one more node in the next file fails... */
	assert_int_equal(ytree_parse(&t, "u.yaml", "x\n", 2, &lim, &used, &d),
	    -E2BIG);
	got = diags(&d);
	assert_string_equal(got, "u.yaml:1:1: error: more than 5 YAML nodes "
	    "(aliases counted as expanded)\n");
	free(got);
	ytree_free(&t);
	/* ...and once exhausted, later files are refused without a word. */
	assert_int_equal(ytree_parse(&t, "v.yaml", "y\n", 2, &lim, &used, &d),
	    -E2BIG);
	assert_int_equal(d.n, 1);
	ytree_free(&t);
	diag_free(&d);
}

/* The "billion laughs": 30 levels of ten aliases each would expand to
 * 10^30 nodes. Expanding even a small part would never finish (the test
 * timeout catches that); counting stops it at the limit, on the level where
 * the count passes one million. */
static void
test_billion_laughs(void **state)
{
	struct ytree t;
	struct diag d;
	size_t used = 0, o = 0;
	char *text = malloc(30 * 80 + 128), *got;
	(void)state;

	assert_non_null(text);
	o += (size_t)sprintf(text + o, "l0: &l0 [lol, lol, lol, lol, lol, lol, "
	    "lol, lol, lol, lol]\n");
	for (int i = 1; i < 30; i++) {
		o += (size_t)sprintf(text + o, "l%d: &l%d [", i, i);
		for (int j = 0; j < 10; j++)
			o += (size_t)sprintf(text + o, "%s*l%d", j ? ", " : "", i - 1);
		o += (size_t)sprintf(text + o, "]\n");
	}
	diag_init(&d);
	assert_int_equal(ytree_parse(&t, "lol.yaml", text, o, NULL, &used, &d),
	    -E2BIG);
	assert_int_equal(t.n_docs, 0);
	got = diags(&d);
	/* About 123,000 nodes up to level 4; each alias on level 5 adds
	 * 111,111: the 8th (column 45) passes one million. */
	assert_string_equal(got, "lol.yaml:6:45: error: more than 1000000 YAML "
	    "nodes (aliases counted as expanded)\n");
	free(got);
	free(text);
	ytree_free(&t);
	diag_free(&d);
}

static void
test_file_size(void **state)
{
	char *dir = cfgtest_mkdtemp(), *path, *data, *got;
	size_t max = YTREE_MAX_BYTES;
	struct ytree t;
	struct diag d;
	(void)state;

	/* Exactly 4 MiB of comments: fine. One byte more: refused. */
	data = malloc(max + 1);
	assert_non_null(data);
	memset(data, '#', max + 1);
	for (size_t i = 79; i < max + 1; i += 80)
		data[i] = '\n';
	path = cfgtest_write_len(dir, "max.yaml", data, max);
	diag_init(&d);
	assert_int_equal(ytree_load_file(&t, path, "max.yaml", NULL, NULL, &d), 0);
	assert_int_equal(d.n, 0);
	ytree_free(&t);
	free(path);
	path = cfgtest_write_len(dir, "big.yaml", data, max + 1);
	assert_int_equal(ytree_load_file(&t, path, "big.yaml", NULL, NULL, &d),
	    -EFBIG);
	got = diags(&d);
	assert_string_equal(got, "big.yaml: error: file is larger than 4 MiB\n");
	free(got);
	ytree_free(&t);
	diag_free(&d);
	/* The same limit applies to text handed over directly. */
	diag_init(&d);
	assert_int_equal(ytree_parse(&t, "big.yaml", data, max + 1, NULL, NULL,
	    &d), -EFBIG);
	assert_int_equal(d.n, 1);
	ytree_free(&t);
	diag_free(&d);
	free(path);
	free(data);
	cfgtest_rmtree(dir);
}

static void
test_file_errors(void **state)
{
	char *dir = cfgtest_mkdtemp(), *got, *missing;
	struct ytree t;
	struct diag d;
	(void)state;

	assert_true(asprintf(&missing, "%s/none.yaml", dir) > 0);
	diag_init(&d);
	assert_int_equal(ytree_load_file(&t, missing, "none.yaml", NULL, NULL,
	    &d), -ENOENT);
	assert_int_equal(ytree_load_file(&t, dir, "dir.yaml", NULL, NULL, &d),
	    -EINVAL);
	got = diags(&d);
	assert_string_equal(got,
	    "none.yaml: error: cannot read: No such file or directory\n"
	    "dir.yaml: error: not a regular file\n");
	free(got);
	free(missing);
	ytree_free(&t);
	diag_free(&d);
	cfgtest_rmtree(dir);
}

static void
test_diag_quote(void **state)
{
	char buf[DIAG_QUOTE_MAX], long_s[100];
	(void)state;

	assert_string_equal(diag_quote(buf, sizeof(buf), "a\"b\\c\n\t", 7),
	    "\"a\\\"b\\\\c\\n\\t\"");
	assert_string_equal(diag_quote(buf, sizeof(buf), "\x1b[0m\x7f", 5),
	    "\"\\x1b[0m\\x7f\"");
	assert_string_equal(diag_quote(buf, sizeof(buf), "a\0b", 3),
	    "\"a\\x00b\"");
	assert_string_equal(diag_quote(buf, sizeof(buf), "caf\xc3\xa9 \xc2\x9b", 8),
	    "\"caf\xc3\xa9 \\u009b\"");
	memset(long_s, 'x', sizeof(long_s));
	diag_quote(buf, sizeof(buf), long_s, sizeof(long_s));
	assert_int_equal(strlen(buf), 1 + 64 + 1 + 3);
	assert_string_equal(buf + 66, "...");
}

static void
test_diag_cap_and_sort(void **state)
{
	struct diag d;
	char *got;
	(void)state;

	diag_init(&d);
	diag_error(&d, "f", 3, 1, "c");
	diag_error(&d, "f", 1, 5, "a");
	diag_warning(&d, "f", 1, 5, "b");
	diag_error(&d, "f", 0, 0, "whole");
	diag_sort(&d, 0);
	got = diags(&d);
	assert_string_equal(got, "f: error: whole\nf:1:5: error: a\n"
	    "f:1:5: warning: b\nf:3:1: error: c\n");
	free(got);
	assert_int_equal(diag_errors(&d), 3);
	for (int i = 0; i < DIAG_MAX + 5; i++)
		diag_error(&d, NULL, 0, 0, "e%d", i);
	assert_int_equal(d.n, DIAG_MAX);
	assert_int_equal(diag_errors(&d), DIAG_MAX + 8);
	assert_int_equal(d.dropped, 9);
	diag_free(&d);
	diag_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_positions_and_types),
		cmocka_unit_test(test_plain_resolution),
		cmocka_unit_test(test_documents),
		cmocka_unit_test(test_alias_counts_expanded),
		cmocka_unit_test(test_error_rows),
		cmocka_unit_test(test_duplicate_key_keeps_first),
		cmocka_unit_test(test_many_keys),
		cmocka_unit_test(test_depth),
		cmocka_unit_test(test_depth_block),
		cmocka_unit_test(test_depth_through_alias),
		cmocka_unit_test(test_node_limit_exact),
		cmocka_unit_test(test_billion_laughs),
		cmocka_unit_test(test_file_size),
		cmocka_unit_test(test_file_errors),
		cmocka_unit_test(test_diag_quote),
		cmocka_unit_test(test_diag_cap_and_sort),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
