/* test_token.c: token loading: the order of the sources, file modes refused
 * as ssh does, trimming, size and content limits, no token in any message. */
#include <errno.h>
#include <fcntl.h>
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

#include "token.h"

struct fx {
	char dir[64];
	char creds[96];
};

static void
write_file(const char *path, const char *content, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, content, strlen(content)), (ssize_t)strlen(content));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	snprintf(f->dir, sizeof(f->dir), "/tmp/cp-token-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->creds, sizeof(f->creds), "%s/creds", f->dir);
	if (mkdir(f->creds, 0700) != 0)
		return -1;
	unsetenv("CREDENTIALS_DIRECTORY");
	unsetenv(TOKEN_ENV);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	unsetenv("CREDENTIALS_DIRECTORY");
	unsetenv(TOKEN_ENV);
	free(f);
	return 0;
}

static void
test_file_trimmed(void **state)
{
	struct fx *f = *state;
	struct token t;
	char path[128], err[512], want[160];

	snprintf(path, sizeof(path), "%s/tok", f->dir);
	write_file(path, " \t prod|s3cr3t-TOKEN_value==\r\n\n", 0600);
	assert_int_equal(token_load(path, &t, err, sizeof(err)), 0);
	assert_string_equal(t.value, "prod|s3cr3t-TOKEN_value==");
	snprintf(want, sizeof(want), "file %s", path);
	assert_string_equal(t.source, want);
	token_free(&t);
	assert_null(t.value);
	token_free(NULL);

	/* Owner-only modes of every kind are fine; group execute is harmless. */
	write_file(path, "abc", 0400);
	assert_int_equal(token_load(path, &t, err, sizeof(err)), 0);
	token_free(&t);
	write_file(path, "abc", 0710);
	assert_int_equal(token_load(path, &t, err, sizeof(err)), 0);
	token_free(&t);
}

static void
test_file_modes_refused(void **state)
{
	static const mode_t bad[] = { 0640, 0620, 0604, 0602, 0644, 0666, 0660 };
	struct fx *f = *state;
	struct token t;
	char path[128], err[512], mode[16];

	snprintf(path, sizeof(path), "%s/tok", f->dir);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_file(path, "topsecret", bad[i]);
		assert_int_equal(token_load(path, &t, err, sizeof(err)), -EPERM);
		assert_null(t.value);
		snprintf(mode, sizeof(mode), "%04o", (unsigned)bad[i]);
		assert_non_null(strstr(err, path));
		assert_non_null(strstr(err, mode));
		assert_non_null(strstr(err, "group or others"));
		assert_null(strstr(err, "topsecret"));
	}
}

static void
test_bad_contents(void **state)
{
	struct fx *f = *state;
	struct token t;
	char path[128], err[512], *big;

	snprintf(path, sizeof(path), "%s/tok", f->dir);
	write_file(path, " \n\t\n", 0600);
	assert_int_equal(token_load(path, &t, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "empty"));

	write_file(path, "", 0600);
	assert_int_equal(token_load(path, &t, err, sizeof(err)), -EINVAL);

	/* A line break inside would become a second HTTP header. */
	write_file(path, "secretpart\r\nX-Evil: 1", 0600);
	assert_int_equal(token_load(path, &t, err, sizeof(err)), -EINVAL);
	assert_null(strstr(err, "secretpart"));
	write_file(path, "two words", 0600);
	assert_int_equal(token_load(path, &t, err, sizeof(err)), -EINVAL);

	big = malloc(TOKEN_MAX + 2);
	memset(big, 'a', TOKEN_MAX + 1);
	big[TOKEN_MAX + 1] = '\0';
	write_file(path, big, 0600);
	assert_int_equal(token_load(path, &t, err, sizeof(err)), -EFBIG);
	big[TOKEN_MAX] = '\0';          /* exactly the limit is fine */
	write_file(path, big, 0600);
	assert_int_equal(token_load(path, &t, err, sizeof(err)), 0);
	assert_int_equal(strlen(t.value), TOKEN_MAX);
	token_free(&t);
	free(big);
}

static void
test_not_a_file(void **state)
{
	struct fx *f = *state;
	struct token t;
	char path[128], err[512];

	snprintf(path, sizeof(path), "%s/missing", f->dir);
	assert_int_equal(token_load(path, &t, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, path));
	/* A named token file that is missing is an error, not a fall-through. */
	setenv(TOKEN_ENV, "fromenv", 1);
	assert_int_equal(token_load(path, &t, err, sizeof(err)), -ENOENT);

	assert_int_equal(token_load(f->creds, &t, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not a regular file"));

	/* A FIFO must not hang the loader. */
	snprintf(path, sizeof(path), "%s/fifo", f->dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(token_load(path, &t, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not a regular file"));
}

static void
test_order_of_sources(void **state)
{
	struct fx *f = *state;
	struct token t;
	char path[128], cred[160], err[512], want[200];

	snprintf(path, sizeof(path), "%s/tok", f->dir);
	snprintf(cred, sizeof(cred), "%s/%s", f->creds, TOKEN_CREDENTIAL);
	write_file(path, "from-file", 0600);
	write_file(cred, "from-credential\n", 0400);
	setenv("CREDENTIALS_DIRECTORY", f->creds, 1);
	setenv(TOKEN_ENV, "  from-env ", 1);

	assert_int_equal(token_load(path, &t, err, sizeof(err)), 0);
	assert_string_equal(t.value, "from-file");
	token_free(&t);

	assert_int_equal(token_load(NULL, &t, err, sizeof(err)), 0);
	assert_string_equal(t.value, "from-credential");
	snprintf(want, sizeof(want), "credential %s", cred);
	assert_string_equal(t.source, want);
	token_free(&t);

	/* A credential directory without our file falls through to env. */
	unlink(cred);
	assert_int_equal(token_load("", &t, err, sizeof(err)), 0);
	assert_string_equal(t.value, "from-env");
	assert_string_equal(t.source, "environment " TOKEN_ENV);
	token_free(&t);

	setenv(TOKEN_ENV, " \n", 1);
	assert_int_equal(token_load(NULL, &t, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, TOKEN_ENV));

	unsetenv(TOKEN_ENV);
	unsetenv("CREDENTIALS_DIRECTORY");
	assert_int_equal(token_load(NULL, &t, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "--token-file"));
	assert_non_null(strstr(err, TOKEN_ENV));
	assert_null(t.value);
}

/* systemd grants the service user access through an ACL, which shows as
 * group bits: a credential is refused only when others can reach it. */
static void
test_credential_modes(void **state)
{
	struct fx *f = *state;
	struct token t;
	char cred[160], err[512];

	snprintf(cred, sizeof(cred), "%s/%s", f->creds, TOKEN_CREDENTIAL);
	setenv("CREDENTIALS_DIRECTORY", f->creds, 1);
	write_file(cred, "credtoken", 0440);
	assert_int_equal(token_load(NULL, &t, err, sizeof(err)), 0);
	assert_string_equal(t.value, "credtoken");
	token_free(&t);
	write_file(cred, "credtoken", 0444);
	assert_int_equal(token_load(NULL, &t, err, sizeof(err)), -EPERM);
	assert_non_null(strstr(err, cred));
	assert_non_null(strstr(err, "0444"));
	assert_null(strstr(err, "credtoken"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_file_trimmed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_modes_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_contents, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_a_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_order_of_sources, setup, teardown),
		cmocka_unit_test_setup_teardown(test_credential_modes, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
