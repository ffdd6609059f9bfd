/* test_keyfile.c: deploy key secret files (SPEC section 9): where they go,
 * their modes, the atomic write, and that a symbolic link placed below
 * keys_dir is never followed. */
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

#include "keyfile.h"

static char dir[64], keys[128], other[128];

static int
setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/cp-keyfile-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(keys, sizeof(keys), "%s/state/keys", dir);
	snprintf(other, sizeof(other), "%s/elsewhere", dir);
	return mkdir(other, 0700);
}

static int
teardown(void **state)
{
	char cmd[160];
	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static char *
slurp(const char *p)
{
	static char buf[256];
	FILE *f = fopen(p, "r");
	size_t n;

	if (f == NULL)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void
test_write_modes_replace_remove(void **state)
{
	char path[512], err[600];
	struct stat st;
	(void)state;

	assert_int_equal(keyfile_path(path, sizeof(path), keys, "Shop", "review/x", "ci.key"), 0);
	assert_true(strstr(path, "/state/keys/%53hop/review%2Fx/ci%2Ekey") != NULL);
	assert_int_equal(keyfile_prepare(keys, "Shop", "review/x", "ci.key", err, sizeof(err)), 0);
	assert_int_equal(keyfile_write(keys, "Shop", "review/x", "ci.key", "prod:a|eyJsecret1",
	    err, sizeof(err)), 0);
	assert_string_equal(slurp(path), "prod:a|eyJsecret1");
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(stat(keys, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	snprintf(err, sizeof(err), "%s/state/keys/%%53hop/review%%2Fx", dir);
	assert_int_equal(stat(err, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	/* A second write replaces it whole; no temporary file is left. */
	assert_int_equal(keyfile_write(keys, "Shop", "review/x", "ci.key", "prod:a|eyJsecret2",
	    err, sizeof(err)), 0);
	assert_string_equal(slurp(path), "prod:a|eyJsecret2");
	snprintf(err, sizeof(err), "%s/state/keys/%%53hop/review%%2Fx/.ci%%2Ekey.tmp", dir);
	assert_int_not_equal(access(err, F_OK), 0);
	assert_int_equal(keyfile_remove(keys, "Shop", "review/x", "ci.key", err, sizeof(err)), 0);
	assert_int_not_equal(access(path, F_OK), 0);
	/* Removing what is not there is done. */
	assert_int_equal(keyfile_remove(keys, "Shop", "review/x", "ci.key", err, sizeof(err)), 0);
	assert_int_equal(keyfile_remove(keys, "nope", "ref", "k", err, sizeof(err)), 0);
}

/* A link below keys_dir (to another folder, or in place of the file) is
 * refused; nothing lands where it points. */
static void
test_links_not_followed(void **state)
{
	char link[256], err[600], target[256];
	(void)state;

	assert_int_equal(keyfile_prepare(keys, "a", "ref", "k", err, sizeof(err)), 0);
	snprintf(link, sizeof(link), "%s/shop", keys);
	assert_int_equal(symlink(other, link), 0);
	assert_int_equal(keyfile_prepare(keys, "shop", "production", "ci", err, sizeof(err)), -ELOOP);
	assert_non_null(strstr(err, "symbolic link"));
	assert_int_not_equal(keyfile_write(keys, "shop", "production", "ci", "secret-x", err,
	    sizeof(err)), 0);
	snprintf(target, sizeof(target), "%s/production", other);
	assert_int_not_equal(access(target, F_OK), 0);

	/* The file itself a link: replaced by the rename, never written through. */
	snprintf(link, sizeof(link), "%s/a/ref/k", keys);
	snprintf(target, sizeof(target), "%s/victim", other);
	assert_int_equal(symlink(target, link), 0);
	assert_int_equal(keyfile_write(keys, "a", "ref", "k", "secret-y", err, sizeof(err)), 0);
	assert_int_not_equal(access(target, F_OK), 0);
	assert_string_equal(slurp(link), "secret-y");
}


/* Renames (SPEC section 8): the file is found at the earlier names' path
 * (project, deployment, or both renamed), moved whole to the declared
 * names' path, never over a file already there; a link in the old path
 * is not followed. */
static void
test_follow_renames(void **state)
{
	static char *proj_from[] = { "old-shop", "shop" };
	static char *dep_from[] = { "production" };
	static char *keys_decl[] = { "ci", "nightly", "nowhere" };
	struct desired_deployment dd[] = {
		{ .reference = "live", .renamed_from = dep_from, .n_renamed_from = 1,
		  .deploy_keys = keys_decl, .n_deploy_keys = 3, DESIRED_DEPLOYMENT_UNSET },
	};
	struct desired_project dp[] = {
		{ .name = "store", .renamed_from = proj_from, .n_renamed_from = 2,
		  .deployments = dd, .n_deployments = 1 },
	};
	struct desired_state ds = { .projects = dp, .n_projects = 1 };
	const char *p, *r;
	char path[512], err[3000];
	struct stat st;
	size_t moved;
	(void)state;

	/* ci under both old names, nightly under the old reference only. */
	assert_int_equal(keyfile_prepare(keys, "shop", "production", "ci", err, sizeof(err)), 0);
	assert_int_equal(keyfile_write(keys, "shop", "production", "ci", "secret-ci", err,
	    sizeof(err)), 0);
	assert_int_equal(keyfile_prepare(keys, "store", "production", "nightly", err,
	    sizeof(err)), 0);
	assert_int_equal(keyfile_write(keys, "store", "production", "nightly",
	    "secret-nightly", err, sizeof(err)), 0);
	assert_int_equal(keyfile_locate(keys, dp, dd, "ci", &p, &r), 1);
	assert_string_equal(p, "shop");
	assert_string_equal(r, "production");
	assert_int_equal(keyfile_locate(keys, dp, dd, "nightly", &p, &r), 1);
	assert_string_equal(p, "store");
	assert_int_equal(keyfile_locate(keys, dp, dd, "nowhere", &p, &r), -ENOENT);
	assert_int_equal(keyfile_locate(NULL, dp, dd, "ci", &p, &r), -ENOENT);

	assert_int_equal(keyfile_follow_renames(keys, &ds, &moved, err, sizeof(err)), 0);
	assert_int_equal(moved, 2);
	assert_int_equal(keyfile_path(path, sizeof(path), keys, "store", "live", "ci"), 0);
	assert_string_equal(slurp(path), "secret-ci");
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(keyfile_path(path, sizeof(path), keys, "store", "live", "nightly"), 0);
	assert_string_equal(slurp(path), "secret-nightly");
	assert_int_equal(keyfile_path(path, sizeof(path), keys, "shop", "production", "ci"), 0);
	assert_int_not_equal(access(path, F_OK), 0);
	assert_int_equal(keyfile_locate(keys, dp, dd, "ci", &p, &r), 0);
	/* Nothing left to move. */
	assert_int_equal(keyfile_follow_renames(keys, &ds, &moved, err, sizeof(err)), 0);
	assert_int_equal(moved, 0);

	/* Never over a file: both stay, the error says why. */
	assert_int_equal(keyfile_prepare(keys, "shop", "production", "x", err, sizeof(err)), 0);
	assert_int_equal(keyfile_write(keys, "shop", "production", "x", "old", err, sizeof(err)), 0);
	assert_int_equal(keyfile_prepare(keys, "store", "live", "x", err, sizeof(err)), 0);
	assert_int_equal(keyfile_write(keys, "store", "live", "x", "new", err, sizeof(err)), 0);
	assert_int_equal(keyfile_move(keys, "shop", "production", "store", "live", "x", err,
	    sizeof(err)), -EEXIST);
	assert_non_null(strstr(err, "already"));
	assert_int_equal(keyfile_path(path, sizeof(path), keys, "store", "live", "x"), 0);
	assert_string_equal(slurp(path), "new");
	assert_int_equal(keyfile_path(path, sizeof(path), keys, "shop", "production", "x"), 0);
	assert_string_equal(slurp(path), "old");

	/* An old project folder that is a link: not followed. */
	snprintf(path, sizeof(path), "%s/old-shop", keys);
	assert_int_equal(symlink(other, path), 0);
	assert_int_equal(keyfile_prepare(keys, "elsewhere-proj", "production", "k", err,
	    sizeof(err)), 0);
	assert_int_equal(keyfile_move(keys, "old-shop", "production", "store", "live", "k",
	    err, sizeof(err)), -ELOOP);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_write_modes_replace_remove, setup, teardown),
		cmocka_unit_test_setup_teardown(test_links_not_followed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_follow_renames, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
