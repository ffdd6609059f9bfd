/* test_index.c: index_sort (an in-place heap sort since issue 15) orders
 * by (str, num) and keeps the caller's order among equal keys, as the
 * stable sort before it did; lookups find what was set. pindex (positions
 * only, keys read from the caller's array) orders and finds the same. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "index.h"
#include "pindex.h"

static int
before(const struct index_item *a, const struct index_item *b)
{
	int c = strcmp(a->str ? a->str : "", b->str ? b->str : "");

	if (c != 0)
		return c < 0;
	if (a->num != b->num)
		return a->num < b->num;
	return a->pos < b->pos;
}

static void
test_sort_orders_and_is_stable(void **state)
{
	static const char *names[] = { "shop", "blog", NULL, "docs", "", "blog" };
	struct index ix;
	size_t n = 5000, i, first, m;
	unsigned seed = 15;
	(void)state;

	assert_int_equal(index_init(&ix, n), 0);
	for (i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		/* Few distinct keys: many equal ones, whose order must stay. */
		index_set(&ix, i, names[(seed >> 16) % 6], (int64_t)((seed >> 8) % 7) - 3, i);
	}
	index_sort(&ix);
	for (i = 1; i < n; i++)
		assert_true(before(&ix.items[i - 1], &ix.items[i]));
	m = index_range_str(&ix, "blog", &first);
	assert_true(m > 0);
	for (i = first; i < first + m; i++)
		assert_string_equal(ix.items[i].str, "blog");
	m = index_range_str(&ix, "docs", &first);
	assert_true(m > 0);
	assert_string_equal(index_find(&ix, "docs", ix.items[first].num)->str, "docs");
	assert_int_equal(index_find(&ix, "docs", ix.items[first].num)->num,
	    ix.items[first].num);
	assert_null(index_find(&ix, "docs", 1000));
	assert_null(index_find(&ix, "nope", 0));
	index_free(&ix);
}

static void
test_small(void **state)
{
	struct index ix;
	(void)state;

	assert_int_equal(index_init(&ix, 0), 0);
	index_sort(&ix);
	assert_null(index_find(&ix, "x", 0));
	index_free(&ix);
	assert_int_equal(index_init(&ix, 3), 0);
	index_set(&ix, 0, NULL, 9, 0);
	index_set(&ix, 1, NULL, -1, 1);
	index_set(&ix, 2, NULL, INT64_MAX, 2);
	index_sort(&ix);
	assert_int_equal(ix.items[0].num, -1);
	assert_int_equal(ix.items[1].num, 9);
	assert_int_equal(ix.items[2].num, INT64_MAX);
	assert_int_equal(index_find(&ix, NULL, INT64_MAX)->pos, 2);
	index_free(&ix);
}

struct row {
	const char *name;
	int64_t id;
};

static void
row_key(const void *ctx, size_t pos, const char **str, int64_t *num)
{
	const struct row *r = &((const struct row *)ctx)[pos];

	*str = r->name;
	*num = r->id;
}

/* The same rows in an index and a pindex: the same order, the same
 * answers, for every key and a few that are not there. */
static void
test_pindex_matches_index(void **state)
{
	static const char *names[] = { "shop", "blog", NULL, "docs", "", "blog" };
	struct row rows[3000];
	struct index ix;
	struct pindex px;
	size_t n = 3000, i, f1, f2, m1, m2;
	unsigned seed = 7;
	(void)state;

	assert_int_equal(index_init(&ix, n), 0);
	for (i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		rows[i].name = names[(seed >> 16) % 6];
		rows[i].id = (int64_t)((seed >> 4) % 11) - 5;
		if (i == 17)
			rows[i].id = INT64_MAX;
		index_set(&ix, i, rows[i].name, rows[i].id, i);
	}
	index_sort(&ix);
	assert_int_equal(pindex_build(&px, n, row_key, rows), 0);
	assert_int_equal(px.n, n);
	for (i = 0; i < n; i++)
		assert_int_equal(pindex_pos(&px, i), ix.items[i].pos);
	for (i = 0; i < 6; i++) {
		m1 = index_range_str(&ix, names[i], &f1);
		m2 = pindex_range_str(&px, names[i], &f2);
		assert_int_equal(m1, m2);
		assert_int_equal(f1, f2);
	}
	assert_int_equal(pindex_range_str(&px, "nope", &f2), 0);
	for (i = 0; i < n; i++) {
		const struct index_item *it = index_find(&ix, rows[i].name, rows[i].id);
		size_t at = pindex_find(&px, rows[i].name, rows[i].id);
		assert_non_null(it);
		assert_int_equal(at, it->pos);
		assert_int_equal(rows[at].id, rows[i].id);
	}
	assert_int_equal(pindex_find(&px, "shop", 1000), SIZE_MAX);
	assert_int_equal(pindex_find(&px, "nope", 0), SIZE_MAX);
	pindex_free(&px);
	pindex_free(&px);
	pindex_free(NULL);
	index_free(&ix);
	/* Empty. */
	assert_int_equal(pindex_build(&px, 0, row_key, rows), 0);
	assert_int_equal(pindex_find(&px, "x", 0), SIZE_MAX);
	assert_int_equal(pindex_range_str(&px, "x", &f1), 0);
	pindex_free(&px);
}

/* pindex_sort and pindex_search on a slice the caller owns. */
static void
test_pindex_slice(void **state)
{
	static struct row rows[] = {
		{ "staging", 0 }, { "production", 0 }, { "dev", 0 }, { "a", 0 },
		{ "production", 1 },
	};
	uint32_t pos[] = { 1, 2, 0, 4 };        /* a slice: 3 is left out */
	(void)state;

	pindex_sort(pos, 4, row_key, rows);
	assert_int_equal(pos[0], 2);            /* dev */
	assert_int_equal(pos[1], 1);            /* production, 0 */
	assert_int_equal(pos[2], 4);            /* production, 1 */
	assert_int_equal(pos[3], 0);            /* staging */
	assert_int_equal(pindex_search(pos, 4, row_key, rows, "production", 1), 4);
	assert_int_equal(pindex_search(pos, 4, row_key, rows, "staging", 0), 0);
	assert_int_equal(pindex_search(pos, 4, row_key, rows, "a", 0), SIZE_MAX);
	assert_int_equal(pindex_search(pos, 0, row_key, rows, "dev", 0), SIZE_MAX);
	pindex_sort(pos, 1, row_key, rows);     /* nothing to do */
	assert_int_equal(pos[0], 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sort_orders_and_is_stable),
		cmocka_unit_test(test_small),
		cmocka_unit_test(test_pindex_matches_index),
		cmocka_unit_test(test_pindex_slice),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
