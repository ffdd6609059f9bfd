/* test_arena.c: the bump allocator aligns, copies, grows, gives big blocks
 * their own chunk, releases to a mark (own chunks included) and frees
 * everything at once (ASan finds what it would leak). */
#include <errno.h>
#include <setjmp.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "arena.h"

static void
test_alloc_and_align(void **state)
{
	struct arena a = ARENA_INIT;
	char *s, *t;
	int64_t *n;
	void *p;
	(void)state;

	assert_int_equal(arena_bytes(&a), 0);
	s = arena_strdup(&a, "shop");
	assert_string_equal(s, "shop");
	t = arena_strndup(&a, "a\0b", 3);
	assert_memory_equal(t, "a\0b\0", 4);
	n = arena_alloc(&a, sizeof(*n), alignof(int64_t));
	assert_non_null(n);
	assert_int_equal((uintptr_t)n % alignof(int64_t), 0);
	*n = 42;
	p = arena_calloc(&a, 3, 16);
	assert_non_null(p);
	assert_int_equal((uintptr_t)p % alignof(max_align_t), 0);
	assert_memory_equal(p, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16);
	/* Nothing moved. */
	assert_string_equal(s, "shop");
	assert_int_equal(*n, 42);
	assert_true(arena_bytes(&a) > 0);
	/* Bad requests. */
	assert_null(arena_alloc(&a, 8, 3));
	assert_null(arena_alloc(&a, SIZE_MAX, 1));
	assert_null(arena_calloc(&a, SIZE_MAX / 2, 4));
	arena_free(&a);
	assert_int_equal(arena_bytes(&a), 0);
	arena_free(&a);
	arena_free(NULL);
}

/* Many small strings live together: a few chunks, not one per string. */
static void
test_growth(void **state)
{
	struct arena a = ARENA_INIT;
	char *first, name[32];
	(void)state;

	first = arena_strdup(&a, "p0");
	for (int i = 1; i < 100000; i++) {
		snprintf(name, sizeof(name), "p%d", i);
		assert_non_null(arena_strdup(&a, name));
	}
	assert_string_equal(first, "p0");
	/* About 700 KB of strings: chunks of up to 64 KiB, little waste. */
	assert_true(arena_bytes(&a) < 800 * 1024);
	assert_true(arena_bytes(&a) > 600 * 1024);
	arena_free(&a);
}

static void
test_big_blocks(void **state)
{
	struct arena a = ARENA_INIT;
	char *small1, *big, *small2;
	(void)state;

	small1 = arena_strdup(&a, "before");
	big = arena_alloc(&a, 100000, 1);
	assert_non_null(big);
	memset(big, 'x', 100000);
	/* The head chunk still serves small requests after a big one. */
	small2 = arena_strdup(&a, "after");
	assert_true(small2 > small1 && small2 - small1 < 1024);
	assert_string_equal(small1, "before");
	arena_free(&a);
}

static void
test_mark_release(void **state)
{
	struct arena a = ARENA_INIT;
	struct arena_mark m0, m1;
	size_t bytes;
	char *keep, *again;
	(void)state;

	m0 = arena_mark(&a);
	keep = arena_strdup(&a, "keep");
	arena_alloc(&a, 50000, 1);          /* an own chunk before the mark */
	m1 = arena_mark(&a);
	bytes = arena_bytes(&a);
	for (int i = 0; i < 1000; i++)
		assert_non_null(arena_alloc(&a, 200, 8));
	assert_non_null(arena_alloc(&a, 70000, 1));  /* own chunks after it */
	assert_non_null(arena_alloc(&a, 30000, 1));
	assert_true(arena_bytes(&a) > bytes);
	arena_release(&a, m1);
	assert_int_equal(arena_bytes(&a), bytes);
	assert_string_equal(keep, "keep");
	/* The space after the mark is handed out again. */
	again = arena_strdup(&a, "again");
	assert_ptr_equal(again, keep + 5);
	arena_release(&a, m0);
	assert_int_equal(arena_bytes(&a), 0);
	assert_non_null(arena_strdup(&a, "reused"));
	arena_free(&a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alloc_and_align),
		cmocka_unit_test(test_growth),
		cmocka_unit_test(test_big_blocks),
		cmocka_unit_test(test_mark_release),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
