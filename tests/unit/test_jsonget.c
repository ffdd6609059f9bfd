/* test_jsonget.c: the shared member getters: missing (absent or null)
 * apart from the wrong type, and integers exact with jsonint_parse's kept
 * text (2^53 + 1, INT64_MAX) but refused from a rounded double. */
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

#include "jsonget.h"
#include "jsonint.h"

static const char doc[] =
    "{\"s\":\"shop\",\"b\":true,\"n\":null,\"i\":42,\"big\":9007199254740993,"
    "\"max\":9223372036854775807,\"over\":9223372036854775808,\"f\":1.5,"
    "\"e\":4.2e1}";

static void
test_types(void **state)
{
	char err[128];
	cJSON *o = jsonint_parse(doc, strlen(doc), err, sizeof(err));
	const char *s = NULL;
	bool b = false;
	int64_t i = 0;
	(void)state;

	assert_non_null(o);
	assert_int_equal(jsonget_str(o, "s", &s), 0);
	assert_string_equal(s, "shop");
	assert_int_equal(jsonget_str(o, "b", &s), -EINVAL);
	assert_int_equal(jsonget_str(o, "n", &s), -ENOENT);
	assert_int_equal(jsonget_str(o, "absent", &s), -ENOENT);
	assert_null(jsonget_member(o, "n"));
	assert_non_null(jsonget_member(o, "s"));
	assert_int_equal(jsonget_bool(o, "b", &b), 0);
	assert_true(b);
	assert_int_equal(jsonget_bool(o, "s", &b), -EINVAL);
	assert_int_equal(jsonget_bool(o, "n", &b), -ENOENT);
	assert_int_equal(jsonget_int(o, "i", &i), 0);
	assert_int_equal(i, 42);
	assert_int_equal(jsonget_int(o, "big", &i), 0);
	assert_true(i == 9007199254740993LL);
	assert_int_equal(jsonget_int(o, "max", &i), 0);
	assert_true(i == INT64_MAX);
	assert_int_equal(jsonget_int(o, "over", &i), -ERANGE);
	assert_int_equal(jsonget_int(o, "f", &i), -EINVAL);
	assert_int_equal(jsonget_int(o, "e", &i), 0);   /* 4.2e1 is 42 */
	assert_int_equal(i, 42);
	assert_int_equal(jsonget_int(o, "s", &i), -EINVAL);
	assert_int_equal(jsonget_int(o, "n", &i), -ENOENT);
	cJSON_Delete(o);
}

/* A plain cJSON tree keeps no text: 2^53 + 1 arrives as a rounded double,
 * which cannot be told from 2^53, so it is refused, never misread. */
static void
test_plain_tree(void **state)
{
	cJSON *o = cJSON_Parse("{\"big\":9007199254740993,\"ok\":9007199254740991}");
	int64_t i = 0;
	(void)state;

	assert_non_null(o);
	assert_int_equal(jsonget_int(o, "big", &i), -EINVAL);
	assert_int_equal(jsonget_int(o, "ok", &i), 0);
	assert_true(i == 9007199254740991LL);
	cJSON_Delete(o);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_types),
		cmocka_unit_test(test_plain_tree),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
