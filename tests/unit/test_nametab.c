/* test_nametab.c: the enum name tables (util/nametab.c) and the cut-marking
 * formatter (util/strcut.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cdefs.h"
#include "nametab.h"
#include "strcut.h"

static const char *const names[] = { "none", "owned", NULL, "all" };

static void
test_name(void **state)
{
	(void)state;
	assert_string_equal(nametab_name(names, CP_NELEM(names), 0), "none");
	assert_string_equal(nametab_name(names, CP_NELEM(names), 3), "all");
	assert_string_equal(nametab_name(names, CP_NELEM(names), 2), "?");
	assert_string_equal(nametab_name(names, CP_NELEM(names), 4), "?");
	assert_string_equal(nametab_name(names, CP_NELEM(names), (unsigned)-1), "?");
}

static void
test_find(void **state)
{
	(void)state;
	assert_int_equal(nametab_find(names, CP_NELEM(names), "owned"), 1);
	assert_int_equal(nametab_find(names, CP_NELEM(names), "all"), 3);
	assert_int_equal(nametab_find(names, CP_NELEM(names), "Owned"), -1);
	assert_int_equal(nametab_find(names, CP_NELEM(names), "own"), -1);
	assert_int_equal(nametab_find(names, CP_NELEM(names), ""), -1);
	assert_int_equal(nametab_find(names, CP_NELEM(names), NULL), -1);
}

static void
test_strcut(void **state)
{
	char b[8];
	(void)state;

	strcut_printf(b, sizeof(b), "%s", "abc");
	assert_string_equal(b, "abc");
	strcut_printf(b, sizeof(b), "%s", "abcdefg");     /* exactly fits */
	assert_string_equal(b, "abcdefg");
	strcut_printf(b, sizeof(b), "%s-%d", "abcdefg", 12);
	assert_string_equal(b, "abcd...");
	memset(b, 'x', sizeof(b));
	strcut_printf(b, 0, "%s", "never written");
	assert_int_equal(b[0], 'x');
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_name),
		cmocka_unit_test(test_find),
		cmocka_unit_test(test_strcut),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
