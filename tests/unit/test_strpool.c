/* test_strpool.c: strings packed in one pool, repeated values interned
 * once, a pool moved into another without copying, and arena_move keeping
 * the destination's head serving (ASan finds what a move would leak or
 * free twice). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "arena.h"
#include "strpool.h"

static void
test_add_and_intern(void **state)
{
	struct strpool p;
	char *a, *b, *r1, *r2, *r3;
	(void)state;

	strpool_init(&p);
	assert_null(strpool_add(&p, NULL));
	assert_null(strpool_intern(&p, NULL));
	a = strpool_add(&p, "happy-otter-123");
	b = strpool_add(&p, "happy-otter-123");
	assert_string_equal(a, "happy-otter-123");
	/* add copies every time ... */
	assert_ptr_not_equal(a, b);
	/* ... packed: the next string starts right after the NUL. */
	assert_ptr_equal(b, a + strlen(a) + 1);
	r1 = strpool_intern(&p, "aws-us-east-1");
	r2 = strpool_intern(&p, "aws-eu-west-1");
	r3 = strpool_intern(&p, "aws-us-east-1");
	assert_ptr_equal(r1, r3);
	assert_ptr_not_equal(r1, r2);
	assert_string_equal(r2, "aws-eu-west-1");
	assert_string_equal(strpool_intern(&p, ""), "");
	assert_ptr_equal(strpool_intern(&p, ""), strpool_intern(&p, ""));
	assert_true(strpool_bytes(&p) > 0);
	strpool_free(&p);
	assert_int_equal(strpool_bytes(&p), 0);
	strpool_free(&p);       /* twice is fine */
	strpool_free(NULL);
}

static void
test_many_strings_stay_put(void **state)
{
	struct strpool p;
	char buf[32], *s[5000];
	size_t i;
	(void)state;

	strpool_init(&p);
	for (i = 0; i < 5000; i++) {
		snprintf(buf, sizeof(buf), "p%zu", i);
		s[i] = (i % 2) ? strpool_add(&p, buf) :
		    strpool_intern(&p, i % 4 ? "s16" : "s256");
		assert_non_null(s[i]);
	}
	for (i = 0; i < 5000; i++) {
		snprintf(buf, sizeof(buf), "p%zu", i);
		assert_string_equal(s[i], (i % 2) ? buf : (i % 4 ? "s16" : "s256"));
	}
	/* Far less than a malloc per string would take (32 bytes each). */
	assert_true(strpool_bytes(&p) < 2500 * 32);
	strpool_free(&p);
}

/* Past STRPOOL_INTERN_MAX distinct values, interning only copies: still
 * right, and the table stops growing. */
static void
test_intern_bound(void **state)
{
	struct strpool p;
	char buf[32], *a, *b;
	size_t i, cap;
	(void)state;

	strpool_init(&p);
	for (i = 0; i < STRPOOL_INTERN_MAX; i++) {
		snprintf(buf, sizeof(buf), "ref-%zu", i);
		assert_non_null(strpool_intern(&p, buf));
	}
	cap = p.interned.cap;
	a = strpool_intern(&p, "one-more");
	b = strpool_intern(&p, "one-more");
	assert_string_equal(a, "one-more");
	assert_string_equal(b, "one-more");
	assert_ptr_not_equal(a, b);
	assert_int_equal(p.interned.n, STRPOOL_INTERN_MAX);
	assert_int_equal(p.interned.cap, cap);
	/* The first ones are still shared. */
	assert_ptr_equal(strpool_intern(&p, "ref-0"), strpool_intern(&p, "ref-0"));
	strpool_free(&p);
}

static void
test_move(void **state)
{
	struct strpool dst, src;
	char *d1, *s1, *s2, *d2, *i1, *i2;
	size_t before;
	(void)state;

	strpool_init(&dst);
	strpool_init(&src);
	d1 = strpool_add(&dst, "shop");
	i1 = strpool_intern(&dst, "s16");
	s1 = strpool_add(&src, "blog");
	s2 = strpool_intern(&src, "s256");
	before = strpool_bytes(&dst);
	strpool_move(&dst, &src);
	assert_int_equal(strpool_bytes(&src), 0);
	assert_true(strpool_bytes(&dst) > before);
	/* Nothing was copied: the strings are where they were. */
	assert_string_equal(d1, "shop");
	assert_string_equal(s1, "blog");
	assert_string_equal(s2, "s256");
	/* dst's head still serves, its interned values still found. */
	d2 = strpool_add(&dst, "docs");
	assert_ptr_equal(d2, d1 + 5 + 4);
	assert_ptr_equal(strpool_intern(&dst, "s16"), i1);
	i2 = strpool_intern(&dst, "s256");
	assert_string_equal(i2, "s256");
	/* The emptied source is usable again. */
	assert_string_equal(strpool_add(&src, "again"), "again");
	strpool_move(&dst, &src);
	strpool_move(&dst, &src);       /* an empty source: nothing */
	strpool_free(&src);
	strpool_free(&dst);
}

static void
test_arena_move_into_empty(void **state)
{
	struct arena a = ARENA_INIT, b = ARENA_INIT;
	char *big, *s;
	(void)state;

	s = arena_strdup(&b, "x");
	big = arena_alloc(&b, 100000, 1);      /* a chunk of its own */
	assert_non_null(big);
	memset(big, 'y', 100000);
	arena_move(&a, &b);
	assert_int_equal(arena_bytes(&b), 0);
	assert_true(arena_bytes(&a) >= 100000);
	assert_string_equal(s, "x");
	assert_string_equal(arena_strdup(&a, "z"), "z");
	arena_free(&a);
	arena_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_and_intern),
		cmocka_unit_test(test_many_strings_stay_put),
		cmocka_unit_test(test_intern_bound),
		cmocka_unit_test(test_move),
		cmocka_unit_test(test_arena_move_into_empty),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
