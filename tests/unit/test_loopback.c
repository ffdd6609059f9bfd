/* test_loopback.c: the one loopback-host rule (util/loopback.c) that both
 * the settings and the API client apply to a plain http:// URL. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "loopback.h"

static bool
lb(const char *s)
{
	return loopback_host(s, strlen(s));
}

static void
test_loopback(void **state)
{
	(void)state;
	assert_true(lb("localhost"));
	assert_true(lb("LocalHost"));
	assert_true(lb("127.0.0.1"));
	assert_true(lb("127.255.1.2"));
	assert_true(lb("::1"));
	assert_true(lb("[::1]"));
	assert_true(lb("[0:0:0:0:0:0:0:1]"));
	assert_false(lb("128.0.0.1"));
	assert_false(lb("10.0.0.1"));
	assert_false(lb("localhost.example.com"));
	assert_false(lb("127.0.0.1.example.com"));
	assert_false(lb("[::2]"));
	assert_false(lb("::"));
	assert_false(lb("[::1"));
	assert_false(lb("[]"));
	assert_false(lb(""));
	/* Only n bytes count, and an embedded NUL is not a shorter host. */
	assert_true(loopback_host("127.0.0.1:8050", 9));
	assert_false(loopback_host("localhost\0.evil", 15));
	assert_false(loopback_host(NULL, 3));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_loopback),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
