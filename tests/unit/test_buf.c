/* test_buf.c: the bounded buffer grows, caps and hands over its data. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "buf.h"

static void
test_append_and_cap(void **state)
{
	struct buf b;
	(void)state;

	buf_init(&b, 10);
	assert_int_equal(buf_append(&b, "hello", 5), 0);
	assert_int_equal(buf_appendf(&b, "%d", 1234), 0);
	assert_string_equal(b.data, "hello1234");
	assert_int_equal(buf_append(&b, "xy", 2), -E2BIG);
	assert_int_equal(buf_append(&b, "x", 1), 0);
	assert_int_equal(b.len, 10);
	assert_int_equal(buf_appendf(&b, "%s", "z"), -E2BIG);
	assert_string_equal(b.data, "hello1234x");
	buf_free(&b);
}

static void
test_steal_and_reset(void **state)
{
	struct buf b;
	char *s;
	(void)state;

	buf_init(&b, 1 << 20);
	s = buf_steal(&b);          /* empty buffer still yields a string */
	assert_string_equal(s, "");
	free(s);
	for (int i = 0; i < 1000; i++)
		assert_int_equal(buf_append(&b, "abcdefgh", 8), 0);
	assert_int_equal(b.len, 8000);
	buf_reset(&b);
	assert_int_equal(b.len, 0);
	assert_string_equal(b.data, "");
	assert_int_equal(buf_append(&b, "q", 1), 0);
	s = buf_steal(&b);
	assert_string_equal(s, "q");
	assert_null(b.data);
	free(s);
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_append_and_cap),
		cmocka_unit_test(test_steal_and_reset),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
