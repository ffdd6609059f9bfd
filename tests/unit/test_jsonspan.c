/* test_jsonspan.c: the validating skip accepts what cJSON accepts (a
 * ledger must read as it did parsed whole) and stops where a text stops
 * being that; elements and members are walked one at a time. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "jsonspan.h"

static void
test_valid(void **state)
{
	static const char *const ok[] = {
		"0", "-0", "12", "-1.5e+10", "3.25E-2", "true", "false", "null",
		"\"\"", "\"a\\\"b\\\\c\\/\\b\\f\\n\\r\\t\\u00e9\"", "[]", "{}",
		" [ 1 , [ ] , { } , \"x\" ] ", "{\"a\":{\"b\":[1,2,{\"c\":null}]}}",
		/* cJSON's leniencies, kept: */
		"[01]", "1.", "-.5", "1.e5", "-0.5e-3", "1E+2", "\"\\ud83d\\ude00\"",
		"1234567890123456789012345678901234567890123456789012345678901234567890", "\"a\nb\x01\"", "\x01[1,\x1f" "2]\x02",
	};
	(void)state;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		size_t at = 0, len = strlen(ok[i]);
		assert_int_equal(jsonspan_skip(ok[i], len, &at), 0);
		assert_int_equal(jsonspan_space(ok[i], len, at), len);
	}
}

static void
test_invalid(void **state)
{
	static const struct {
		const char *text;
		size_t at;          /* where it stops being JSON */
	} bad[] = {
		{ "", 0 }, { "   ", 3 }, { "tru", 0 }, { "-", 0 }, { "+1", 0 },
		{ ".5", 0 }, { "[1e]", 2 }, { "[1e+]", 2 }, { "[-.]", 1 }, { "\"abc", 4 }, { "\"a\\x\"", 2 },
		{ "\"a\\u12g4\"", 2 }, { "[1,]", 3 },
		/* surrogates as cJSON checks them */
		{ "\"\\udc00\"", 1 }, { "\"\\ud800x\"", 1 },
		{ "\"\\ud800\\u0041\"", 1 },
		{ "[1 2]", 3 }, { "{\"a\" 1}", 5 }, { "{a:1}", 1 },
		{ "{\"a\":1,}", 7 }, { "[", 1 }, { "{\"a\":}", 5 },
	};
	(void)state;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t at = 0;
		assert_int_equal(jsonspan_skip(bad[i].text, strlen(bad[i].text), &at),
		    -EBADMSG);
		assert_int_equal(at, bad[i].at);
	}
}

static void
test_depth(void **state)
{
	size_t n = JSONSPAN_MAX_DEPTH + 1, at = 0;
	char *t = malloc(2 * n + 1);
	(void)state;

	assert_non_null(t);
	memset(t, '[', n);
	memset(t + n, ']', n);
	t[2 * n] = '\0';
	assert_int_equal(jsonspan_skip(t, 2 * n, &at), -EBADMSG);
	/* One level less is fine. */
	at = 0;
	assert_int_equal(jsonspan_skip(t + 1, 2 * n - 2, &at), 0);
	free(t);
}

static void
test_walk(void **state)
{
	const char *t = " { \"a\" : [ 1 , \"x\" , [ ] ] , \"b\":{}, \"c\" :null } ";
	size_t len = strlen(t), at, k, ke, s, e, n = 0;
	size_t arr = 0;
	(void)state;

	at = jsonspan_space(t, len, 0);
	while (jsonspan_member(t, len, &at, &k, &ke, &s, &e) == 1) {
		n++;
		if (n == 1) {
			assert_memory_equal(t + k, "\"a\"", ke - k);
			arr = s;
		}
		if (n == 2) {
			assert_memory_equal(t + k, "\"b\"", 3);
			assert_memory_equal(t + s, "{}", e - s);
		}
		if (n == 3)
			assert_memory_equal(t + s, "null", e - s);
	}
	assert_int_equal(n, 3);
	assert_int_equal(jsonspan_space(t, len, at), len);

	n = 0;
	at = arr;
	while (jsonspan_element(t, len, &at, &s, &e) == 1) {
		static const char *const want[] = { "1", "\"x\"", "[ ]" };
		assert_int_equal(e - s, strlen(want[n]));
		assert_memory_equal(t + s, want[n], e - s);
		n++;
	}
	assert_int_equal(n, 3);
	assert_int_equal(t[at - 1], ']');

	/* Empty containers have no element. */
	at = 0;
	assert_int_equal(jsonspan_element("[ ]", 3, &at, &s, &e), 0);
	assert_int_equal(at, 3);
	at = 0;
	assert_int_equal(jsonspan_member("{}", 2, &at, &k, &ke, &s, &e), 0);
	assert_int_equal(at, 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_depth),
		cmocka_unit_test(test_walk),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
