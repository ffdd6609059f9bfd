/* test_jsonint.c: exact 64-bit integers in JSON (util/jsonint.h): written
 * from their text, read back from the text the parser saw, at 2^53 + 1,
 * INT64_MAX and INT64_MIN; what is refused as not exact. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "jsonint.h"

#define TWO53_PLUS_1 9007199254740993LL

static const int64_t edge[] = {
	0, 1, -1, 9007199254740991LL, 9007199254740992LL, TWO53_PLUS_1,
	INT64_MAX - 1, INT64_MAX, INT64_MIN + 1, INT64_MIN,
};

static char *
print(const cJSON *o)
{
	char *s = cJSON_PrintUnformatted(o);

	assert_non_null(s);
	return s;
}

static void
test_write_exact(void **state)
{
	cJSON *o = cJSON_CreateObject();
	char *s;
	(void)state;

	assert_non_null(jsonint_add(o, "a", TWO53_PLUS_1));
	assert_non_null(jsonint_add(o, "b", INT64_MAX));
	assert_non_null(jsonint_add(o, "c", INT64_MIN));
	assert_non_null(jsonint_add(o, "d", 0));
	s = print(o);
	assert_string_equal(s, "{\"a\":9007199254740993,\"b\":9223372036854775807,"
	    "\"c\":-9223372036854775808,\"d\":0}");
	cJSON_free(s);
	cJSON_Delete(o);

	/* What the double would have printed: another number. */
	o = cJSON_CreateNumber((double)TWO53_PLUS_1);
	s = print(o);
	assert_string_not_equal(s, "9007199254740993");
	cJSON_free(s);
	cJSON_Delete(o);
}

/* Every edge value, written then parsed, comes back the same. */
static void
test_round_trip(void **state)
{
	cJSON *arr = cJSON_CreateArray(), *back;
	const cJSON *it;
	char err[128], *s;
	size_t i = 0;
	(void)state;

	for (size_t k = 0; k < sizeof(edge) / sizeof(edge[0]); k++)
		assert_true(cJSON_AddItemToArray(arr, jsonint_create(edge[k])));
	s = print(arr);
	assert_non_null(back = jsonint_parse(s, strlen(s), err, sizeof(err)));
	cJSON_ArrayForEach(it, back) {
		int64_t v = 0;

		assert_true(cJSON_IsNumber(it));
		assert_int_equal(jsonint_get(it, &v), 0);
		assert_true(v == edge[i]);
		i++;
	}
	assert_int_equal(i, sizeof(edge) / sizeof(edge[0]));
	cJSON_free(s);
	cJSON_Delete(back);
	cJSON_Delete(arr);
}

static int64_t
get_ok(const cJSON *root, const char *key)
{
	int64_t v = 0;

	assert_int_equal(jsonint_get(cJSON_GetObjectItemCaseSensitive(root, key), &v), 0);
	return v;
}

static int
get_rc(const cJSON *root, const char *key)
{
	int64_t v = 0;

	return jsonint_get(cJSON_GetObjectItemCaseSensitive(root, key), &v);
}

static void
test_read_exact(void **state)
{
	/* A byte order mark, control bytes as white space (cJSON skips every
	 * byte up to 0x20), strings holding digits, commas, escaped quotes
	 * and brackets, nesting, and a repeated key. */
	static const char text[] =
	    "\xef\xbb\xbf {\x01\"s\":\"1,2\\\"3]}\" , \"a\"\t:\n9007199254740993,"
	    "\"b\":9223372036854775807,\"c\":-9223372036854775808,"
	    "\"big\":9223372036854775808,\"small\":-9223372036854775809,"
	    "\"e\":42.0,\"f\":4.2e1,\"g\":9007199254740993.0,\"h\":1.5,"
	    "\"i\":\"7\",\"t\":true,\"n\":null,\"inf\":1e300,"
	    "\"j\":[1,{\"k\":9007199254740995,\"l\":[[],{}]}, -0],"
	    "\"a\":9007199254740997}";
	char err[128];
	cJSON *root = jsonint_parse(text, sizeof(text) - 1, err, sizeof(err));
	const cJSON *j, *k;
	int64_t v;
	(void)state;

	if (root == NULL)
		fail_msg("%s", err);
	assert_true(get_ok(root, "a") == TWO53_PLUS_1);
	assert_true(get_ok(root, "b") == INT64_MAX);
	assert_true(get_ok(root, "c") == INT64_MIN);
	assert_int_equal(get_rc(root, "big"), -ERANGE);
	assert_int_equal(get_rc(root, "small"), -ERANGE);
	/* Not integer literals: from the double, only below 2^53. */
	assert_true(get_ok(root, "e") == 42);
	assert_true(get_ok(root, "f") == 42);
	assert_int_equal(get_rc(root, "g"), -EINVAL);
	assert_int_equal(get_rc(root, "h"), -EINVAL);
	assert_int_equal(get_rc(root, "inf"), -EINVAL);
	/* Not numbers at all. */
	assert_int_equal(get_rc(root, "i"), -EINVAL);
	assert_int_equal(get_rc(root, "t"), -EINVAL);
	assert_int_equal(get_rc(root, "n"), -EINVAL);
	assert_int_equal(get_rc(root, "missing"), -EINVAL);
	/* Nested, and the second of two "a" keys: each item its own text. */
	j = cJSON_GetObjectItemCaseSensitive(root, "j");
	assert_int_equal(jsonint_get(cJSON_GetArrayItem(j, 0), &v), 0);
	assert_true(v == 1);
	k = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(j, 1), "k");
	assert_int_equal(jsonint_get(k, &v), 0);
	assert_true(v == 9007199254740995LL);
	assert_int_equal(jsonint_get(cJSON_GetArrayItem(j, 2), &v), 0);
	assert_true(v == 0);
	assert_int_equal(jsonint_get(root->child->prev, &v), 0);   /* the last member */
	assert_string_equal(root->child->prev->string, "a");
	assert_true(v == 9007199254740997LL);
	cJSON_Delete(root);
}

/* Items made in code have no text: the double, below 2^53 only. */
static void
test_without_text(void **state)
{
	cJSON *n = cJSON_CreateNumber(12345);
	int64_t v = 0;
	(void)state;

	assert_int_equal(jsonint_get(n, &v), 0);
	assert_true(v == 12345);
	cJSON_SetNumberValue(n, 9007199254740992.0);
	assert_int_equal(jsonint_get(n, &v), -EINVAL);
	cJSON_Delete(n);
	assert_int_equal(jsonint_get(NULL, &v), -EINVAL);
}

/* jsonint_parse refuses what jsonscan_parse refuses, with its words. */
static void
test_parse_refusals(void **state)
{
	static const struct {
		const char *text;
		size_t len;
		const char *why;
	} rows[] = {
		{ "", 0, "empty" },
		{ "{\"a\":1", 6, "invalid JSON" },
		{ "{\"a\":\"x\\u0000y\"}", 16, "NUL" },
		{ "{\"a\":1}{\"a\":2}", 14, "data after the JSON document" },
		{ "[1 2]", 5, "invalid JSON" },
	};
	char err[160];
	(void)state;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		err[0] = '\0';
		assert_null(jsonint_parse(rows[i].text, rows[i].len, err, sizeof(err)));
		if (strstr(err, rows[i].why) == NULL)
			fail_msg("row %zu: \"%s\" does not say \"%s\"", i, err, rows[i].why);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_write_exact),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_read_exact),
		cmocka_unit_test(test_without_text),
		cmocka_unit_test(test_parse_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
