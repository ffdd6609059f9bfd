/* test_atomicfile.c: a file replaced whole (written 0600, the old content
 * gone, no temporary file left), what sits at the temporary name (a FIFO)
 * never blocks or is written through, and a failure says where and leaves
 * the target as it was. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "atomicfile.h"
#include "readfile.h"

static char dir[64];

static int
setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/cp-atomicfile.XXXXXX");
	return mkdtemp(dir) != NULL ? 0 : -1;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static char *
slurp(const char *path)
{
	char *data, err[200];
	size_t len;

	assert_int_equal(readfile(path, 1 << 20, &data, &len, err, sizeof(err)), 0);
	return data;
}

static void
test_write_and_replace(void **state)
{
	char path[128], tmp[160], err[256];
	struct stat st;
	char *got;

	(void)state;
	snprintf(path, sizeof(path), "%s/f.json", dir);
	assert_int_equal(atomicfile_write(path, "first\n", 6, err, sizeof(err)), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(atomicfile_write(path, "second", 6, err, sizeof(err)), 0);
	got = slurp(path);
	assert_string_equal(got, "second");
	free(got);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	assert_int_not_equal(access(tmp, F_OK), 0);
	/* A FIFO at the temporary name: removed, never opened. */
	assert_int_equal(mkfifo(tmp, 0600), 0);
	assert_int_equal(atomicfile_write(path, "third", 5, err, sizeof(err)), 0);
	got = slurp(path);
	assert_string_equal(got, "third");
	free(got);
}

static void
test_failure_leaves_target(void **state)
{
	char path[128], err[256] = "";

	(void)state;
	snprintf(path, sizeof(path), "%s/missing/f.json", dir);
	assert_int_equal(atomicfile_write(path, "x", 1, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "cannot create"));
	assert_non_null(strstr(err, "missing/f.json.tmp"));
	/* A folder where the file should be: the rename fails, it stays. */
	snprintf(path, sizeof(path), "%s/adir", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_not_equal(atomicfile_write(path, "x", 1, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "cannot write"));
	{
		struct stat st;
		char tmp[160];

		assert_int_equal(stat(path, &st), 0);
		assert_true(S_ISDIR(st.st_mode));
		snprintf(tmp, sizeof(tmp), "%s.tmp", path);
		assert_int_not_equal(access(tmp, F_OK), 0);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_write_and_replace, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failure_leaves_target, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
