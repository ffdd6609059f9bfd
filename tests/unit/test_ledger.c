/* test_ledger.c: the ledger round-trips, refuses corrupt files, saves
 * atomically and records `protect` as declared. */
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

#include "ledger.h"

static char dir[64];
static char path[128];

static int
setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/cp-ledger-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/ledger.json", dir);
	return 0;
}

static int
teardown(void **state)
{
	char cmd[160];
	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
write_file(const char *p, const char *text)
{
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void
test_missing_is_empty(void **state)
{
	struct ledger l;
	char err[128];
	(void)state;

	assert_int_equal(ledger_load(path, &l, err, sizeof(err)), 0);
	assert_int_equal(l.n_projects, 0);
	assert_int_equal(l.n_deployments, 0);
	ledger_clear(&l);
}

static void
test_round_trip(void **state)
{
	struct ledger l = { 0 }, back;
	char err[128];
	struct stat st;
	char tmp[160];
	(void)state;

	assert_int_equal(ledger_add_project(&l, 42, "shop"), 0);
	assert_int_equal(ledger_add_project(&l, 7, "blog"), 0);
	assert_int_equal(ledger_add_deployment(&l, "happy-otter-1", 42, "shop", "staging"), 0);
	assert_int_equal(ledger_add_deployment(&l, "brave-cat-2", 7, "blog", "prod-eu"), 0);
	ledger_find_deployment(&l, "brave-cat-2")->protect = true;
	assert_int_equal(ledger_save(path, &l, err, sizeof(err)), 0);

	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	assert_int_not_equal(access(tmp, F_OK), 0);   /* no temporary file left */

	assert_int_equal(ledger_load(path, &back, err, sizeof(err)), 0);
	assert_int_equal(back.n_projects, 2);
	assert_int_equal(back.n_deployments, 2);
	assert_string_equal(ledger_find_project(&back, 42)->name, "shop");
	assert_true(ledger_find_project(&back, 7)->created);
	assert_true(ledger_find_deployment(&back, "brave-cat-2")->protect);
	assert_false(ledger_find_deployment(&back, "happy-otter-1")->protect);
	assert_string_equal(ledger_find_deployment(&back, "happy-otter-1")->reference, "staging");

	/* Removing a project forgets its deployments too. */
	ledger_remove_project(&back, 42);
	assert_null(ledger_find_project(&back, 42));
	assert_null(ledger_find_deployment(&back, "happy-otter-1"));
	assert_non_null(ledger_find_deployment(&back, "brave-cat-2"));
	ledger_remove_deployment(&back, "brave-cat-2");
	assert_int_equal(back.n_deployments, 0);
	ledger_clear(&back);
	ledger_clear(&l);
}

static void
test_corrupt(void **state)
{
	static const char *const bad[] = {
		"",
		"not json",
		"[]",
		"{\"version\":2,\"projects\":[],\"deployments\":[]}",
		"{\"version\":1,\"projects\":{},\"deployments\":[]}",
		"{\"version\":1,\"projects\":[{\"id\":\"1\",\"name\":\"a\",\"created\":true,\"protect\":false}],\"deployments\":[]}",
		"{\"version\":1,\"projects\":[{\"id\":1.5,\"name\":\"a\",\"created\":true,\"protect\":false}],\"deployments\":[]}",
		"{\"version\":1,\"projects\":[{\"id\":1,\"created\":true,\"protect\":false}],\"deployments\":[]}",
		"{\"version\":1,\"projects\":[],\"deployments\":[{\"name\":\"x-y-1\",\"projectId\":1,\"project\":\"a\",\"created\":true,\"protect\":false}]}",
		"{\"version\":1,\"projects\":[{\"id\":1,\"name\":\"a\",\"created\":true,\"protect\":false}],\"deployments\":[]",
	};
	(void)state;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ledger l;
		char err[128] = "";
		write_file(path, bad[i]);
		assert_int_equal(ledger_load(path, &l, err, sizeof(err)), -EBADMSG);
		assert_int_equal(l.n_projects, 0);   /* never "everything is ours" */
		assert_int_equal(l.n_deployments, 0);
		assert_true(strlen(err) > 0);
	}
}

static void
test_quarantine(void **state)
{
	char moved[256];
	(void)state;

	write_file(path, "garbage");
	assert_int_equal(ledger_quarantine(path, moved, sizeof(moved)), 0);
	assert_int_not_equal(access(path, F_OK), 0);
	assert_int_equal(access(moved, F_OK), 0);
	assert_non_null(strstr(moved, "ledger.json.corrupt-"));
}

/* Fixture: live "shop" (id 1) with staging and old, live "other" (id 2). */
static void
fixture(struct desired_state *ds, struct observed_state *os, bool protect_shop,
    bool protect_staging)
{
	static struct desired_deployment dd[1];
	static struct desired_project dp[1];
	static struct observed_project op[2];
	static struct observed_deployment od[2];

	memset(dd, 0, sizeof(dd));
	dd[0].reference = "staging";
	dd[0].type = DEP_DEV;
	dd[0].protect = protect_staging;
	memset(dp, 0, sizeof(dp));
	dp[0].name = "shop";
	dp[0].protect = protect_shop;
	dp[0].deployments = dd;
	dp[0].n_deployments = 1;
	memset(ds, 0, sizeof(*ds));
	ds->projects = dp;
	ds->n_projects = 1;

	memset(op, 0, sizeof(op));
	op[0].id = 1;
	op[0].name = "shop";
	op[1].id = 2;
	op[1].name = "other";
	memset(od, 0, sizeof(od));
	od[0].name = "happy-otter-1";
	od[0].project_id = 1;
	od[0].reference = "staging";
	od[1].name = "sad-cat-2";
	od[1].project_id = 1;
	od[1].reference = "old";
	memset(os, 0, sizeof(*os));
	os->projects = op;
	os->n_projects = 2;
	os->deployments = od;
	os->n_deployments = 2;
}

static void
test_sync_protect(void **state)
{
	struct desired_state ds;
	struct observed_state os;
	struct ledger l = { 0 };
	(void)state;

	fixture(&ds, &os, true, true);
	assert_int_equal(ledger_sync(&l, &ds, &os), 1);
	assert_true(ledger_find_project(&l, 1)->protect);
	assert_false(ledger_find_project(&l, 1)->created);
	assert_true(ledger_find_deployment(&l, "happy-otter-1")->protect);
	assert_null(ledger_find_deployment(&l, "sad-cat-2"));
	assert_null(ledger_find_project(&l, 2));
	assert_int_equal(ledger_sync(&l, &ds, &os), 0);   /* nothing new */

	/* Removed from the files entirely: the mark stays (that is its point). */
	ds.n_projects = 0;
	assert_int_equal(ledger_sync(&l, &ds, &os), 0);
	assert_true(ledger_find_project(&l, 1)->protect);

	/* Declared again without protect: the mark is cleared and the entry,
	 * recording nothing else, is dropped. */
	fixture(&ds, &os, false, false);
	assert_int_equal(ledger_sync(&l, &ds, &os), 1);
	assert_null(ledger_find_project(&l, 1));
	assert_null(ledger_find_deployment(&l, "happy-otter-1"));
	ledger_clear(&l);
}

static void
test_sync_forgets_gone(void **state)
{
	struct desired_state ds;
	struct observed_state os;
	struct ledger l = { 0 };
	(void)state;

	fixture(&ds, &os, false, false);
	assert_int_equal(ledger_add_project(&l, 1, "shop"), 0);
	assert_int_equal(ledger_add_project(&l, 99, "gone"), 0);
	assert_int_equal(ledger_add_deployment(&l, "sad-cat-2", 1, "shop", "old"), 0);
	assert_int_equal(ledger_add_deployment(&l, "lost-dog-9", 99, "gone", "x-1"), 0);
	assert_int_equal(ledger_sync(&l, &ds, &os), 1);
	assert_non_null(ledger_find_project(&l, 1));   /* created: kept */
	assert_true(ledger_find_project(&l, 1)->created);
	assert_null(ledger_find_project(&l, 99));
	assert_non_null(ledger_find_deployment(&l, "sad-cat-2"));
	assert_null(ledger_find_deployment(&l, "lost-dog-9"));
	ledger_clear(&l);
}

static void
test_many_sorted(void **state)
{
	struct ledger l = { 0 };
	char name[32];
	(void)state;

	/* Inserted out of order; every lookup must still find its entry. */
	for (int i = 0; i < 3000; i++) {
		int k = (i * 7919) % 3000;
		snprintf(name, sizeof(name), "dep-%d", k);
		assert_int_equal(ledger_add_project(&l, k + 1, name), 0);
		assert_int_equal(ledger_add_deployment(&l, name, k + 1, name, "ref"), 0);
	}
	assert_int_equal(l.n_projects, 3000);
	for (int k = 0; k < 3000; k++) {
		snprintf(name, sizeof(name), "dep-%d", k);
		assert_non_null(ledger_find_project(&l, k + 1));
		assert_non_null(ledger_find_deployment(&l, name));
	}
	assert_null(ledger_find_project(&l, 0));
	assert_null(ledger_find_deployment(&l, "dep-3000"));
	ledger_clear(&l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_missing_is_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_quarantine, setup, teardown),
		cmocka_unit_test(test_sync_protect),
		cmocka_unit_test(test_sync_forgets_gone),
		cmocka_unit_test(test_many_sorted),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
