/* test_yread.c: the streaming reader gives what the tree gives (nodes,
 * positions, every diagnostic in the same order, the same result) on a
 * table of inputs, including anchors, aliases, dropped pairs inside
 * anchored nodes and every limit; reading from a file gives the same
 * positions as reading from memory; the walk's protocol is enforced. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cfgtest.h"
#include "diag.h"
#include "yparity.h"
#include "yread.h"
#include "ytree.h"

static const char *const parity_rows[] = {
	/* plain trees and scalar types */
	"",
	"# only a comment\n",
	"a: 1\n---\n---\nb: 2\n...\n",
	"top:\n  - name: shop\n    n: 12\n  - {a: ~, b: true, c: \"true\", d: "
	"1.5e3, e: '', f: null, g: -7}\nblock: |\n  text\n",
	"- [1, [2, [3, []]], {}]\n- {a: {b: {c: d}}}\n",
	"\"a\\0b\": \"c\\0d\"\n",
	"? a\n: 1\n",
	/* duplicates and odd keys */
	"a: 1\nb: 2\na: 3\n",
	"a: 1\na: {x: 1, x: 2}\nb: [1]\n",
	"? [a]\n: 1\nb: 2\n",
	"? {k: 1, k: 2}\n: [x]\n? [y]\n: z\n",
	"{a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7, h: 8, i: 9, j: 10, a: 11}\n",
	"\"\\e[31m\": 1\n\"\\e[31m\": 2\n",
	"1: a\n\"1\": b\n",
	/* tags */
	"a: !!int 3\nb: !foo x\nc: !!str 3\n",
	"!!map {a: 1}\n",
	"a: !!seq [1]\nb: !!map {}\nc: !weird [x]\n",
	"? !!int 1\n: 2\n? !!int 1\n: 3\n",
	/* anchors and aliases */
	"a: &x 1\nb: *x\n",
	"a: &m {k: v, l: [1, 2]}\nb: *m\nc: [*m, *m]\n",
	"a: &m {k: v, k: w, z: &in [1]}\nb: *m\nc: *in\n",
	"a: &m {? [q]: 1, k: &deep {x: 1}, j: 2}\nb: *m\nc: *deep\n",
	"&k a: 1\n*k : 2\n",
	"a: &k key\nm: {*k : 1, key: 2}\n",
	"a: &c [1, 2]\nm: {*c : 1, x: 2}\n",
	"a: &o [1, &o [2], *o]\nb: *o\n",
	"a: &x [1]\nb: &x [2]\nc: *x\n",
	"a: &x [1, &y {p: q}]\nb: {r: *y, s: *x}\nc: &z [*x, *y]\nd: [*z, *z]\n",
	"- &a [a]\n- &b [*a, *a]\n- &c [*b, *b]\n- *c\n",
	"a: &m {b: &n {c: 1, c: 2}}\nx: *m\ny: *n\n",
	"a: &k {x: 1}\nm: {? *k : 1}\n",
	"a: *nope\n",
	"a: &x [1, *x]\n",
	"a: &x 1\n---\nb: *x\n",
	/* errors that stop the reading */
	"a: b\n  c: d\n",
	"a: [1, 2\n",
	"a: b\nname: caf\xe9!\n",
	"a: \xff\n",
	"\x7f" "ELF\x02\x01\x01",
	"\xff\xfe" "a\0:\0 \0b\0",
	"\xef\xbb\xbf" "a: 1\nb: 2\na: 3\n",
	"a: 1\na: 2\nb: [\n",
	"x: {a: 1, a: 2}\ny: {b: 1, b: 2\n",
	"projects: [\n",
	"- [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\n",
	"a: &d [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\nb: [[[[[[[[[[[[[[[[[[[[[[[[[*d]]]]]]]]]]]]]]]]]]]]]]]]\n",
};

static void
test_parity_rows(void **state)
{
	int bad = 0;
	(void)state;

	for (size_t i = 0; i < sizeof(parity_rows) / sizeof(parity_rows[0]); i++) {
		const char *text = parity_rows[i];
		/* Rows with NULs inside (UTF-16) give their length by hand. */
		size_t len = strcmp(text, "\xff\xfe" "a") == 0 ? 10 : strlen(text);
		char *diff = yparity_check(text, len, NULL);

		if (diff != NULL) {
			fprintf(stderr, "row %zu (%s):\n%s", i, text, diff);
			bad++;
			free(diff);
		}
	}
	assert_int_equal(bad, 0);
}

/* The same under small limits: depth and node budget crossed here and
 * there, through aliases too. */
static void
test_parity_tight(void **state)
{
	static const struct ytree_limits tight[] = {
		{ 4096, 3, 1000 }, { 4096, 64, 7 }, { 4096, 2, 5 }, { 40, 64, 100 },
	};
	int bad = 0;
	(void)state;

	for (size_t l = 0; l < sizeof(tight) / sizeof(tight[0]); l++) {
		for (size_t i = 0; i < sizeof(parity_rows) / sizeof(parity_rows[0]);
		    i++) {
			char *diff = yparity_check(parity_rows[i],
			    strlen(parity_rows[i]), &tight[l]);

			if (diff != NULL) {
				fprintf(stderr, "limits %zu, row %zu:\n%s", l, i, diff);
				bad++;
				free(diff);
			}
		}
	}
	assert_int_equal(bad, 0);
}

static void
test_parity_big_inputs(void **state)
{
	char *text = malloc(30 * 80 + 128), *diff;
	size_t o = 0;
	(void)state;

	/* The billion laughs: refused on line 6 by both. */
	assert_non_null(text);
	o += (size_t)sprintf(text + o, "l0: &l0 [lol, lol, lol, lol, lol, lol, "
	    "lol, lol, lol, lol]\n");
	for (int i = 1; i < 30; i++) {
		o += (size_t)sprintf(text + o, "l%d: &l%d [", i, i);
		for (int j = 0; j < 10; j++)
			o += (size_t)sprintf(text + o, "%s*l%d", j ? ", " : "", i - 1);
		o += (size_t)sprintf(text + o, "]\n");
	}
	diff = yparity_check(text, o, NULL);
	if (diff != NULL)
		fail_msg("%s", diff);
	free(text);

	/* Many keys: the hash takes over from the linear search. */
	text = malloc(20000 * 16 + 32);
	assert_non_null(text);
	o = 0;
	for (size_t i = 0; i < 20000; i++)
		o += (size_t)sprintf(text + o, "k%zu: %zu\n", i, i);
	o += (size_t)sprintf(text + o, "k77: dup\nk19999: dup\n");
	diff = yparity_check(text, o, NULL);
	if (diff != NULL)
		fail_msg("%s", diff);
	free(text);
}

/* A file gives the positions memory gives, a reader error's too (found
 * again by reading the file up to its offset). */
static void
test_file_positions(void **state)
{
	static const char *const texts[] = {
		"a: 1\nb:\n  - c\n  - d: \xe9x\n",
		("\xef\xbb\xbf" "a: 1\nb: \x01\n"),
		"a: 1\na: 2\n",
	};
	char *dir = cfgtest_mkdtemp();
	(void)state;

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		struct diag d1, d2;
		struct yread *r;
		char *path, *g1, *g2;
		int rc;

		path = cfgtest_write_len(dir, "f.yaml", texts[i], strlen(texts[i]));
		diag_init(&d1);
		diag_init(&d2);
		rc = yread_open(&r, path, "f.yaml", NULL, NULL, &d1);
		while (rc == 0 && (rc = yread_document(r)) > 0)
			rc = yread_skip(r);
		yread_close(r);
		rc = yread_open_mem(&r, "f.yaml", texts[i], strlen(texts[i]), NULL,
		    NULL, &d2);
		while (rc == 0 && (rc = yread_document(r)) > 0)
			rc = yread_skip(r);
		yread_close(r);
		g1 = cfgtest_diags(&d1, NULL);
		g2 = cfgtest_diags(&d2, NULL);
		assert_string_not_equal(g1, "");
		assert_string_equal(g1, g2);
		free(g1);
		free(g2);
		free(path);
		diag_free(&d1);
		diag_free(&d2);
	}
	cfgtest_rmtree(dir);
}

static void
test_file_errors(void **state)
{
	char *dir = cfgtest_mkdtemp(), *missing, *got, *data, *path;
	size_t max = YTREE_MAX_BYTES;
	struct yread *r;
	struct diag d;
	(void)state;

	assert_true(asprintf(&missing, "%s/none.yaml", dir) > 0);
	diag_init(&d);
	assert_int_equal(yread_open(&r, missing, "none.yaml", NULL, NULL, &d),
	    -ENOENT);
	assert_null(r);
	assert_int_equal(yread_open(&r, dir, "dir.yaml", NULL, NULL, &d), -EINVAL);
	data = malloc(max + 1);
	assert_non_null(data);
	memset(data, '#', max + 1);
	path = cfgtest_write_len(dir, "big.yaml", data, max + 1);
	assert_int_equal(yread_open(&r, path, "big.yaml", NULL, NULL, &d), -EFBIG);
	free(path);
	got = cfgtest_diags(&d, NULL);
	assert_string_equal(got,
	    "none.yaml: error: cannot read: No such file or directory\n"
	    "dir.yaml: error: not a regular file\n"
	    "big.yaml: error: file is larger than 4 MiB\n");
	free(got);
	/* Exactly at the limit is fine (a comment: no document at all). */
	path = cfgtest_write_len(dir, "max.yaml", data, max);
	diag_free(&d);
	diag_init(&d);
	assert_int_equal(yread_open(&r, path, "max.yaml", NULL, NULL, &d), 0);
	assert_int_equal(yread_document(r), 0);
	assert_int_equal(d.n, 0);
	yread_close(r);
	free(path);
	free(data);
	free(missing);
	diag_free(&d);
	cfgtest_rmtree(dir);
}

/* Out-of-order calls are refused (and stay refused), never undefined. */
static void
test_protocol(void **state)
{
	struct yread_node n, k;
	struct yread *r;
	struct diag d;
	(void)state;

	diag_init(&d);
	assert_int_equal(yread_open_mem(&r, "t.yaml", "a: [1]\n", 7, NULL, NULL,
	    &d), 0);
	assert_int_equal(yread_next_item(r), -EPROTO);   /* no document yet */
	assert_int_equal(yread_document(r), -EPROTO);    /* sticky */
	yread_close(r);

	assert_int_equal(yread_open_mem(&r, "t.yaml", "a: [1]\n", 7, NULL, NULL,
	    &d), 0);
	assert_int_equal(yread_document(r), 1);
	assert_int_equal(yread_value(r, &n), 0);
	assert_int_equal(n.kind, YTREE_MAP);
	assert_int_equal(yread_next_key(r, &k), 1);
	assert_string_equal(k.value, "a");
	assert_int_equal(yread_next_key(r, &k), -EPROTO); /* the value first */
	yread_close(r);

	assert_int_equal(yread_open_mem(&r, "t.yaml", "a: [1]\nb: 2\n", 12, NULL,
	    NULL, &d), 0);
	assert_int_equal(yread_document(r), 1);
	assert_int_equal(yread_value(r, &n), 0);
	assert_int_equal(yread_next_key(r, &k), 1);
	assert_int_equal(yread_value(r, &n), 0);
	assert_int_equal(n.kind, YTREE_SEQ);
	assert_int_equal(yread_leave(r), 0);
	assert_int_equal(yread_next_key(r, &k), 1);
	assert_string_equal(k.value, "b");
	assert_int_equal(k.line, 2);
	assert_int_equal(yread_value(r, &n), 0);
	assert_string_equal(n.value, "2");
	assert_int_equal(n.stype, YTREE_INT);
	assert_int_equal(yread_next_key(r, &k), 0);
	assert_int_equal(yread_document(r), 0);
	assert_int_equal(yread_document(r), 0);
	yread_close(r);
	assert_int_equal(d.n, 0);
	diag_free(&d);
}

/* A key stays readable while its value is walked (keys are kept until
 * their mapping ends), also for a replayed mapping. */
static void
test_key_lifetime(void **state)
{
	const char *text = "a: &m {key1: {inner: [1, 2]}}\nb: *m\n";
	struct yread_node n, k, k2;
	struct yread *r;
	struct diag d;
	(void)state;

	diag_init(&d);
	assert_int_equal(yread_open_mem(&r, "t.yaml", text, strlen(text), NULL,
	    NULL, &d), 0);
	assert_int_equal(yread_document(r), 1);
	assert_int_equal(yread_value(r, &n), 0);
	for (int pass = 0; pass < 2; pass++) {
		assert_int_equal(yread_next_key(r, &k), 1);
		assert_int_equal(yread_value(r, &n), 0);
		assert_int_equal(n.kind, YTREE_MAP);
		/* Where the anchored node starts: at its anchor. */
		assert_int_equal(n.line, 1);
		assert_int_equal(n.col, 4);
		assert_int_equal(yread_next_key(r, &k2), 1);
		assert_string_equal(k2.value, "key1");
		assert_int_equal(yread_skip(r), 0);
		assert_string_equal(k2.value, "key1");
		assert_string_equal(k.value, pass == 0 ? "a" : "b");
		assert_int_equal(yread_next_key(r, &k2), 0);
	}
	assert_int_equal(yread_next_key(r, &k), 0);
	assert_int_equal(yread_document(r), 0);
	yread_close(r);
	diag_free(&d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parity_rows),
		cmocka_unit_test(test_parity_tight),
		cmocka_unit_test(test_parity_big_inputs),
		cmocka_unit_test(test_file_positions),
		cmocka_unit_test(test_file_errors),
		cmocka_unit_test(test_protocol),
		cmocka_unit_test(test_key_lifetime),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
