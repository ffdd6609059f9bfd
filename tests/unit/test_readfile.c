/* test_readfile.c: the bounded reader (state files, desired state, token): regular files only,
 * never blocks on a FIFO, never follows a link, a size cap, and a read
 * error is an error, not the end of the file (issue 18, classes 2 and 3). */
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

#include "readfile.h"

static char dir[64];

static int
setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/cp-readfile-XXXXXX");
	return mkdtemp(dir) != NULL ? 0 : -1;
}

static int
teardown(void **state)
{
	char cmd[128];
	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
put(const char *p, const char *text, size_t len)
{
	FILE *f = fopen(p, "w");

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	fclose(f);
}

static void
test_kinds(void **state)
{
	char p[128], l[128], err[200], *out;
	size_t len;
	(void)state;

	snprintf(p, sizeof(p), "%s/f", dir);
	assert_int_equal(readfile(p, 100, &out, &len, err, sizeof(err)), -ENOENT);
	assert_null(out);
	put(p, "a\0b", 3);
	assert_int_equal(readfile(p, 100, &out, &len, err, sizeof(err)), 0);
	assert_int_equal(len, 3);
	assert_memory_equal(out, "a\0b", 4);            /* NUL-terminated */
	free(out);
	/* Exactly the cap passes, one byte more does not. */
	assert_int_equal(readfile(p, 3, &out, &len, err, sizeof(err)), 0);
	free(out);
	assert_int_equal(readfile(p, 2, &out, &len, err, sizeof(err)), -EFBIG);
	assert_null(out);
	put(p, "", 0);
	assert_int_equal(readfile(p, 2, &out, &len, err, sizeof(err)), 0);
	assert_int_equal(len, 0);
	free(out);

	snprintf(l, sizeof(l), "%s/link", dir);
	assert_int_equal(symlink(p, l), 0);
	assert_int_equal(readfile(l, 100, &out, &len, err, sizeof(err)), -ELOOP);
	assert_non_null(strstr(err, "symbolic link"));

	snprintf(p, sizeof(p), "%s/fifo", dir);
	assert_int_equal(mkfifo(p, 0600), 0);
	alarm(10);              /* a blocking open would hang here */
	assert_int_equal(readfile(p, 100, &out, &len, err, sizeof(err)), -EINVAL);
	alarm(0);
	assert_non_null(strstr(err, "FIFO"));
	assert_int_equal(readfile(dir, 100, &out, &len, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "folder"));
	assert_int_equal(readfile("/dev/null", 100, &out, &len, err, sizeof(err)),
	    -EINVAL);
	assert_non_null(strstr(err, "character device"));
}

/* With READFILE_FOLLOW a link is read through (files a person points us
 * at); readfile_into fills the caller's buffer, at most cap bytes, and
 * reports the open file's mode; a FIFO is still refused without blocking. */
static void
test_follow_and_into(void **state)
{
	char p[128], l[128], err[200], buf[4], *out;
	struct stat st;
	size_t len;
	(void)state;

	snprintf(p, sizeof(p), "%s/f", dir);
	put(p, "abcdef", 6);
	assert_int_equal(chmod(p, 0640), 0);
	snprintf(l, sizeof(l), "%s/link", dir);
	assert_int_equal(symlink(p, l), 0);
	assert_int_equal(readfile_flags(l, READFILE_FOLLOW, 100, &out, &len, err,
	    sizeof(err)), 0);
	assert_int_equal(len, 6);
	assert_string_equal(out, "abcdef");
	free(out);
	assert_int_equal(readfile_into(l, 0, buf, sizeof(buf), &len, NULL, err,
	    sizeof(err)), -ELOOP);
	assert_int_equal(readfile_into(l, READFILE_FOLLOW, buf, sizeof(buf), &len,
	    &st, err, sizeof(err)), 0);
	assert_int_equal(len, 4);                      /* cap: maybe more */
	assert_memory_equal(buf, "abcd", 4);
	assert_int_equal(st.st_mode & 07777, 0640);
	assert_int_equal(readfile_into(p, 0, buf, 0, &len, NULL, err, sizeof(err)), 0);
	assert_int_equal(len, 0);

	snprintf(p, sizeof(p), "%s/fifo", dir);
	assert_int_equal(mkfifo(p, 0600), 0);
	alarm(10);
	assert_int_equal(readfile_into(p, READFILE_FOLLOW, buf, sizeof(buf), &len,
	    NULL, err, sizeof(err)), -EINVAL);
	alarm(0);
	assert_non_null(strstr(err, "FIFO"));
	snprintf(p, sizeof(p), "%s/none", dir);
	assert_int_equal(readfile_into(p, READFILE_FOLLOW, buf, sizeof(buf), &len,
	    NULL, err, sizeof(err)), -ENOENT);
}

/* A regular file whose read fails: an error, never an empty file. */
static void
test_read_error(void **state)
{
	char err[200], *out;
	size_t len;
	(void)state;

	assert_int_equal(readfile("/proc/self/mem", 100, &out, &len, err,
	    sizeof(err)), -EIO);
	assert_null(out);
	assert_non_null(strstr(err, "read error"));
}

/* /proc files say size 0 and have more: the size is only a hint. */
static void
test_grows_past_stat(void **state)
{
	char err[200], *out;
	size_t len;
	(void)state;

	assert_int_equal(readfile("/proc/self/status", 1 << 20, &out, &len, err,
	    sizeof(err)), 0);
	assert_true(len > 100);
	assert_non_null(strstr(out, "Name:"));
	free(out);
	assert_int_equal(readfile("/proc/self/status", 10, &out, &len, err,
	    sizeof(err)), -EFBIG);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_kinds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_follow_and_into, setup, teardown),
		cmocka_unit_test(test_read_error),
		cmocka_unit_test(test_grows_past_stat),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
