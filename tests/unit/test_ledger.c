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
	ledger_free(&l);
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
	ledger_free(&back);
	ledger_free(&l);
}

/* Ids are exact at any size: 2^53 + 1 (which a double reads as 2^53) and
 * INT64_MAX are saved, loaded and found again as themselves, and the file
 * holds their exact digits (issue 14). Ids beyond int64, or below 1, are
 * damage. */
static void
test_exact_ids(void **state)
{
	static const int64_t ids[] = { 9007199254740993LL, 9007199254740992LL,
	    INT64_MAX, INT64_MAX - 1 };
	struct ledger l = { 0 }, back;
	char err[128] = "", *text;
	(void)state;

	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
		assert_int_equal(ledger_add_project(&l, ids[i], "p"), 0);
	assert_int_equal(ledger_add_deployment(&l, "big-dep-1", INT64_MAX, "p", "r"), 0);
	assert_int_equal(ledger_save(path, &l, err, sizeof(err)), 0);
	text = ledger_to_json(&l);
	assert_non_null(strstr(text, "\"id\":\t9007199254740993,"));
	assert_non_null(strstr(text, "\"id\":\t9223372036854775807,"));
	assert_non_null(strstr(text, "\"projectId\":\t9223372036854775807,"));
	free(text);

	assert_int_equal(ledger_load(path, &back, err, sizeof(err)), 0);
	assert_int_equal(back.n_projects, 4);
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		assert_non_null(ledger_find_project(&back, ids[i]));
		assert_true(ledger_find_project(&back, ids[i])->id == ids[i]);
	}
	assert_true(ledger_find_deployment(&back, "big-dep-1")->project_id == INT64_MAX);
	ledger_free(&back);
	ledger_free(&l);

	write_file(path, "{\"version\":1,\"projects\":[{\"id\":9223372036854775808,"
	    "\"name\":\"a\",\"created\":true,\"protect\":false}],\"deployments\":[]}");
	assert_int_equal(ledger_load(path, &back, err, sizeof(err)), -EBADMSG);
	write_file(path, "{\"version\":1,\"projects\":[{\"id\":9007199254740993.0,"
	    "\"name\":\"a\",\"created\":true,\"protect\":false}],\"deployments\":[]}");
	assert_int_equal(ledger_load(path, &back, err, sizeof(err)), -EBADMSG);
}

static void
test_corrupt(void **state)
{
	static const char *const bad[] = {
		"",
		"not json",
		"[]",
		/* A version that cannot be one is damage (a newer one is not:
		 * test_versions). */
		"{\"version\":0,\"projects\":[],\"deployments\":[]}",
		"{\"version\":-1,\"projects\":[],\"deployments\":[]}",
		"{\"version\":1.5,\"projects\":[],\"deployments\":[]}",
		"{\"version\":\"2\",\"projects\":[],\"deployments\":[]}",
		"{\"projects\":[],\"deployments\":[]}",
		/* Two documents, or anything after one (issue 18). */
		("{\"version\":1,\"projects\":[],\"deployments\":[]}"
		 "{\"version\":1,\"projects\":[],\"deployments\":[]}"),
		"{\"version\":1,\"projects\":[],\"deployments\":[]}\n{}",
		"{\"version\":1,\"projects\":[],\"deployments\":[]} x",
		/* A name with a NUL cannot be kept whole. */
		"{\"version\":1,\"projects\":[{\"id\":1,\"name\":\"a\\u0000b\",\"created\":true,\"protect\":true}],\"deployments\":[]}",
		"{\"version\":1,\"projects\":[],\"deployments\":[{\"name\":\"x-y\\u0000-1\",\"projectId\":1,\"project\":\"a\",\"reference\":\"r\",\"created\":true,\"protect\":false}]}",
		"{\"version\":1,\"projects\":{},\"deployments\":[]}",
		"{\"version\":1,\"projects\":[{\"id\":\"1\",\"name\":\"a\",\"created\":true,\"protect\":false}],\"deployments\":[]}",
		"{\"version\":1,\"projects\":[{\"id\":1.5,\"name\":\"a\",\"created\":true,\"protect\":false}],\"deployments\":[]}",
		"{\"version\":1,\"projects\":[{\"id\":1,\"created\":true,\"protect\":false}],\"deployments\":[]}",
		"{\"version\":1,\"projects\":[],\"deployments\":[{\"name\":\"x-y-1\",\"projectId\":1,\"project\":\"a\",\"created\":true,\"protect\":false}]}",
		"{\"version\":1,\"projects\":[{\"id\":1,\"name\":\"a\",\"created\":true,\"protect\":false}],\"deployments\":[]",
		/* Read entry by entry (issue 15), still checked whole first. */
		"{\"version\":1,\"projects\":[{\"id\":1,\"name\":\"a\",\"created\":true,\"protect\":false},],\"deployments\":[]}",
		"{\"version\":1,\"projects\":[{\"id\":1,\"name\":\"a\",\"created\":true,\"protect\":false}],\"deployments\":[1]}",
		"{\"version\":1,\"projects\":[],\"deployments\":[],\"deployKeys\":[{\"deployment\":\"d\"}]}",
		"{\"version\":1,\"projects\":[],\"deployments\":[],\"x\":[\"\\q\"]}",
		"{\"version\":1,\"deployments\":[]}",
		/* Only JSON white space after the document (cJSON skips any
		 * control byte between tokens, jsonscan only these after). */
		"{\"version\":1,\"projects\":[],\"deployments\":[]}\b",
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

/* The ledger is read entry by entry (issue 15): members in any order,
 * white space anywhere, unknown members ignored, the first of a repeated
 * member counts (as cJSON's lookups did), exact ids kept. */
static void
test_read_in_any_order(void **state)
{
	const char *text =
	    " {\"deployments\" : [ {\"protect\":true,\"reference\":\"production\","
	    "\"project\":\"shop\",\"projectId\":9223372036854775807,\"name\":\"happy-otter-1\","
	    "\"created\":false} ] ,\"future\":{\"a\":[1,2,{}]},"
	    "\"projects\":[{\"name\":\"shop\",\"id\":9007199254740993,\"created\":true,"
	    "\"protect\":false},{\"id\":2,\"name\":\"b\\u00e9\",\"created\":false,\"protect\":true}],"
	    "\"version\":1,\"projects\":[{\"id\":3,\"name\":\"ignored\",\"created\":true,"
	    "\"protect\":true}],\"deployKeys\":[{\"deployment\":\"happy-otter-1\",\"name\":\"ci\"}]}\n";
	struct ledger l;
	char err[256] = "";
	(void)state;

	assert_int_equal(ledger_from_json(text, strlen(text), &l, err, sizeof(err)), 0);
	assert_int_equal(l.n_projects, 2);
	assert_non_null(ledger_find_project(&l, 9007199254740993LL));
	assert_true(ledger_find_project(&l, 9007199254740993LL)->created);
	assert_string_equal(ledger_find_project(&l, 2)->name, "b\xc3\xa9");
	assert_true(ledger_find_project(&l, 2)->protect);
	assert_null(ledger_find_project(&l, 3));
	assert_int_equal(l.n_deployments, 1);
	assert_int_equal(l.deployments[0].project_id, INT64_MAX);
	assert_string_equal(l.deployments[0].project, "shop");
	assert_true(l.deployments[0].protect);
	assert_int_equal(l.n_deploy_keys, 1);
	ledger_free(&l);
	/* A byte order mark first, control bytes between tokens: cJSON read
	 * them, so the entry-by-entry reader does. */
	text = "\xEF\xBB\xBF\x01{\"version\":1,\x1f\"projects\":[],\"deployments\":[]} \n";
	assert_int_equal(ledger_from_json(text, strlen(text), &l, err, sizeof(err)), 0);
	ledger_free(&l);
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

/* A ledger written by a newer version is not damage: -EPROTONOSUPPORT
 * with words, and the file is left alone (issue 18, class 2). */
static void
test_versions(void **state)
{
	static const char *const newer[] = {
		"{\"version\":2,\"projects\":[{\"id\":7,\"name\":\"live\",\"created\":false,\"protect\":true}],\"deployments\":[]}",
		"{\"version\":2}",
		"{\"version\":3,\"projects\":{\"new\":\"shape\"}}",
		"{\"version\":1e300,\"anything\":true}",
	};
	struct ledger l;
	char err[256];
	struct stat st;
	(void)state;

	for (size_t i = 0; i < sizeof(newer) / sizeof(newer[0]); i++) {
		write_file(path, newer[i]);
		err[0] = '\0';
		assert_int_equal(ledger_load(path, &l, err, sizeof(err)),
		    -EPROTONOSUPPORT);
		assert_int_equal(l.n_projects, 0);
		assert_non_null(strstr(err, "written by a newer version"));
		assert_int_equal(stat(path, &st), 0);           /* still there */
	}
	/* Version 1 reads as before; a whole number written as 1.0 too. */
	write_file(path, "{\"version\":1.0,\"projects\":[],\"deployments\":[]}");
	assert_int_equal(ledger_load(path, &l, err, sizeof(err)), 0);
	ledger_free(&l);
}

/* A state file that is not a regular file is refused at once, never read
 * (a FIFO would block) and never taken for damage; a read error is an
 * error, not an end of file (issue 18, classes 2 and 3). */
static void
test_not_regular_and_read_errors(void **state)
{
	struct ledger l;
	char err[256], link_path[160];
	(void)state;

	assert_int_equal(mkfifo(path, 0600), 0);
	alarm(10);      /* a blocking open would hang the test */
	assert_int_equal(ledger_load(path, &l, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "FIFO"));
	assert_int_equal(unlink(path), 0);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(ledger_load(path, &l, err, sizeof(err)), -EINVAL);
	assert_int_equal(rmdir(path), 0);
	write_file(path, "{\"version\":1,\"projects\":[],\"deployments\":[]}");
	snprintf(link_path, sizeof(link_path), "%s/link.json", dir);
	assert_int_equal(symlink(path, link_path), 0);
	assert_int_equal(ledger_load(link_path, &l, err, sizeof(err)), -ELOOP);
	/* /proc/self/mem is a regular file whose first read fails (EIO). */
	assert_int_equal(ledger_load("/proc/self/mem", &l, err, sizeof(err)), -EIO);
	assert_non_null(strstr(err, "read error"));
	alarm(0);
}

/* Saving never blocks on, nor writes through, what sits at the temporary
 * name; moving aside never replaces what sits at the target. */
static void
test_save_and_quarantine_targets(void **state)
{
	struct ledger l = { 0 }, back;
	char tmp[200], moved[256], moved2[256], err[256];
	struct stat st;
	(void)state;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	assert_int_equal(mkfifo(tmp, 0600), 0);
	alarm(10);
	assert_int_equal(ledger_add_project(&l, 5, "shop"), 0);
	assert_int_equal(ledger_save(path, &l, err, sizeof(err)), 0);
	alarm(0);
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(ledger_load(path, &back, err, sizeof(err)), 0);
	assert_int_equal(back.n_projects, 1);
	ledger_free(&back);
	ledger_free(&l);

	/* Two copies moved aside in the same second both survive. */
	write_file(path, "garbage one");
	assert_int_equal(ledger_quarantine(path, moved, sizeof(moved)), 0);
	write_file(path, "garbage two");
	assert_int_equal(ledger_quarantine(path, moved2, sizeof(moved2)), 0);
	assert_string_not_equal(moved, moved2);
	assert_int_equal(access(moved, F_OK), 0);
	assert_int_equal(access(moved2, F_OK), 0);
	/* A FIFO at the target is left alone too. */
	assert_int_equal(unlink(moved), 0);
	assert_int_equal(mkfifo(moved, 0600), 0);
	write_file(path, "garbage three");
	assert_int_equal(ledger_quarantine(path, moved2, sizeof(moved2)), 0);
	assert_string_not_equal(moved, moved2);
	assert_int_equal(lstat(moved, &st), 0);
	assert_true(S_ISFIFO(st.st_mode));
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

	/* Declared `state: absent` without protect, in the same edit that
	 * drops the mark: an absent declaration asks for a delete, it does not
	 * unmark, so the mark stays and the plan holds the delete (SPEC 5:
	 * "remove the mark first"). Found by the random schedules (seed 54). */
	fixture(&ds, &os, false, false);
	ds.projects[0].absent = true;
	ds.projects[0].n_deployments = 0;
	assert_int_equal(ledger_sync(&l, &ds, &os), 0);
	assert_true(ledger_find_project(&l, 1)->protect);
	fixture(&ds, &os, true, false);
	ds.projects[0].deployments[0].absent = true;
	assert_int_equal(ledger_sync(&l, &ds, &os), 0);
	assert_true(ledger_find_deployment(&l, "happy-otter-1")->protect);

	/* Declared without protect while two live projects bear the name (a
	 * conflict), or two live deployments the reference: which one the
	 * files mean cannot be told, so no mark is lifted (random schedules,
	 * seed 5874: a lifted mark let prune delete it once renamed). */
	fixture(&ds, &os, false, false);
	os.projects[1].name = "shop";
	assert_int_equal(ledger_sync(&l, &ds, &os), 0);
	assert_true(ledger_find_project(&l, 1)->protect);
	assert_true(ledger_find_deployment(&l, "happy-otter-1")->protect);
	fixture(&ds, &os, false, false);
	os.deployments[1].reference = "staging";
	assert_int_equal(ledger_sync(&l, &ds, &os), 1);   /* the project's mark goes */
	assert_null(ledger_find_project(&l, 1));
	assert_true(ledger_find_deployment(&l, "happy-otter-1")->protect);

	/* A mark declared for the name an entry of ours was recorded under
	 * holds even when a person renamed the live project before any
	 * observation saw the mark (random schedules, seed 30203: the
	 * observation failed, the project was renamed, prune deleted it). */
	{
		struct ledger mine = { 0 };

		fixture(&ds, &os, true, false);
		assert_int_equal(ledger_add_project(&mine, 1, "shop"), 0);
		os.projects[0].name = "renamed-by-a-person";
		assert_int_equal(ledger_sync(&mine, &ds, &os), 1);
		assert_true(ledger_find_project(&mine, 1)->protect);
		assert_true(ledger_find_project(&mine, 1)->created);
		assert_string_equal(ledger_find_project(&mine, 1)->name,
		    "renamed-by-a-person");
		ledger_free(&mine);
	}

	/* Declared without protect under a new name whose renamed_from names a
	 * live project while the new name is live too, or a deployment's new
	 * reference and its old one: a conflict (SPEC 8), so no mark is
	 * lifted; then the project alone unambiguous: its mark goes, the
	 * deployment's stays (found beside the runner's seed 42326). */
	{
		struct ledger m = { 0 };
		char *old_name[] = { "shop" }, *old_ref[] = { "old" };

		fixture(&ds, &os, true, true);
		assert_int_equal(ledger_sync(&m, &ds, &os), 1);
		fixture(&ds, &os, false, false);
		ds.projects[0].name = "other";
		ds.projects[0].renamed_from = old_name;
		ds.projects[0].n_renamed_from = 1;
		assert_int_equal(ledger_sync(&m, &ds, &os), 0);
		assert_true(ledger_find_project(&m, 1)->protect);
		assert_true(ledger_find_deployment(&m, "happy-otter-1")->protect);
		fixture(&ds, &os, false, false);
		ds.projects[0].deployments[0].renamed_from = old_ref;
		ds.projects[0].deployments[0].n_renamed_from = 1;
		assert_int_equal(ledger_sync(&m, &ds, &os), 1);
		assert_null(ledger_find_project(&m, 1));
		assert_true(ledger_find_deployment(&m, "happy-otter-1")->protect);
		ledger_free(&m);
	}

	/* Before any observation (ledger_mark_declared): the entries recorded
	 * under a name the files declare protect: true are marked, others
	 * are not, nothing is lifted, and a second call changes nothing
	 * (random schedules, seed 60611: the observation failed, the mark
	 * was never recorded, the project was then declared absent). */
	{
		struct ledger m = { 0 };

		fixture(&ds, &os, true, true);
		assert_int_equal(ledger_add_project(&m, 1, "shop"), 0);
		assert_int_equal(ledger_add_project(&m, 2, "other"), 0);
		assert_int_equal(ledger_add_deployment(&m, "happy-otter-1", 1, "shop",
		    "staging"), 0);
		assert_int_equal(ledger_add_deployment(&m, "sad-cat-2", 1, "shop", "old"), 0);
		ledger_find_deployment(&m, "sad-cat-2")->protect = true;
		assert_int_equal(ledger_mark_declared(&m, &ds), 1);
		assert_true(ledger_find_project(&m, 1)->protect);
		assert_false(ledger_find_project(&m, 2)->protect);
		assert_true(ledger_find_deployment(&m, "happy-otter-1")->protect);
		assert_int_equal(ledger_mark_declared(&m, &ds), 0);
		fixture(&ds, &os, false, false);
		assert_int_equal(ledger_mark_declared(&m, &ds), 0);
		assert_true(ledger_find_project(&m, 1)->protect);
		assert_true(ledger_find_deployment(&m, "sad-cat-2")->protect);
		ledger_free(&m);
	}

	/* Declared again without protect: the mark is cleared and the entry,
	 * recording nothing else, is dropped. */
	fixture(&ds, &os, false, false);
	assert_int_equal(ledger_sync(&l, &ds, &os), 1);
	assert_null(ledger_find_project(&l, 1));
	assert_null(ledger_find_deployment(&l, "happy-otter-1"));
	ledger_free(&l);
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
	ledger_free(&l);
}

/* SPEC section 8: the marks and the names follow a rename. */
static void
test_sync_follows_renames(void **state)
{
	struct desired_state ds;
	struct observed_state os;
	struct ledger l = { 0 };
	char *shop_old[] = { "shop" }, *staging_old[] = { "staging" };
	(void)state;

	/* The files say "store" (renamed from "shop") with deployment "stage"
	 * (renamed from "staging"), both protected; the team still has the
	 * old names: the marks land on the live resources now, before the
	 * rename is applied. */
	fixture(&ds, &os, true, true);
	ds.projects[0].name = "store";
	ds.projects[0].renamed_from = shop_old;
	ds.projects[0].n_renamed_from = 1;
	ds.projects[0].deployments[0].reference = "stage";
	ds.projects[0].deployments[0].renamed_from = staging_old;
	ds.projects[0].deployments[0].n_renamed_from = 1;
	assert_int_equal(ledger_sync(&l, &ds, &os), 1);
	assert_true(ledger_find_project(&l, 1)->protect);
	assert_string_equal(ledger_find_project(&l, 1)->name, "shop");
	assert_true(ledger_find_deployment(&l, "happy-otter-1")->protect);
	assert_null(ledger_find_deployment(&l, "sad-cat-2"));

	/* The executor's rename: the entries follow (ids and names stay). */
	assert_int_equal(ledger_add_deployment(&l, "sad-cat-2", 1, "shop", "old"), 0);
	assert_int_equal(ledger_rename_project(&l, 1, "store"), 1);
	assert_string_equal(ledger_find_project(&l, 1)->name, "store");
	assert_string_equal(ledger_find_deployment(&l, "happy-otter-1")->project, "store");
	assert_string_equal(ledger_find_deployment(&l, "sad-cat-2")->project, "store");
	assert_int_equal(ledger_rename_project(&l, 1, "store"), 0);
	assert_int_equal(ledger_rename_deployment(&l, "happy-otter-1", "stage"), 1);
	assert_string_equal(ledger_find_deployment(&l, "happy-otter-1")->reference, "stage");
	assert_int_equal(ledger_rename_deployment(&l, "nobody-1", "x"), 0);
	assert_int_equal(ledger_rename_project(&l, 77, "x"), 0);

	/* A sync takes the live names back (the team was not renamed yet):
	 * whoever renames, the ledger says what is live. */
	assert_int_equal(ledger_sync(&l, &ds, &os), 1);
	assert_string_equal(ledger_find_project(&l, 1)->name, "shop");
	assert_string_equal(ledger_find_deployment(&l, "happy-otter-1")->reference, "staging");
	assert_string_equal(ledger_find_deployment(&l, "sad-cat-2")->project, "shop");
	assert_int_equal(ledger_sync(&l, &ds, &os), 0);

	/* Renamed live: same marks, new names. */
	os.projects[0].name = "store";
	os.deployments[0].reference = "stage";
	assert_int_equal(ledger_sync(&l, &ds, &os), 1);
	assert_true(ledger_find_project(&l, 1)->protect);
	assert_string_equal(ledger_find_project(&l, 1)->name, "store");
	assert_true(ledger_find_deployment(&l, "happy-otter-1")->protect);
	assert_string_equal(ledger_find_deployment(&l, "happy-otter-1")->reference, "stage");
	ledger_free(&l);
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
	ledger_free(&l);
}


/* SPEC section 9: the keys this tool created, by name only, kept through a
 * save and load, forgotten once gone; an older ledger without them loads. */
static void
test_deploy_keys(void **state)
{
	struct ledger l = { 0 }, back = { 0 };
	struct observed_state os = { 0 };
	struct observed_deployment deps[2] = { { 0 } };
	struct observed_deploy_key live[1] = { { 0 } };
	struct observed_listed listed[1] = { { 0 } };
	struct desired_state ds = { 0 };
	char err[256], *text;
	(void)state;

	assert_int_equal(ledger_add_deploy_key(&l, "b-dep", "ci"), 0);
	assert_int_equal(ledger_add_deploy_key(&l, "a-dep", "z"), 0);
	assert_int_equal(ledger_add_deploy_key(&l, "a-dep", "a"), 0);
	assert_int_equal(ledger_add_deploy_key(&l, "a-dep", "a"), 0);
	assert_int_equal(ledger_add_deploy_key(&l, "c-dep", "k"), 0);
	assert_int_equal(l.n_deploy_keys, 4);
	assert_string_equal(l.deploy_keys[0].name, "a");
	assert_non_null(ledger_find_deploy_key(&l, "b-dep", "ci"));
	assert_null(ledger_find_deploy_key(&l, "b-dep", "a"));
	text = ledger_to_json(&l);
	assert_non_null(text);
	assert_non_null(strstr(text, "\"deployKeys\""));
	assert_int_equal(ledger_from_json(text, strlen(text), &back, err, sizeof(err)), 0);
	free(text);
	assert_int_equal(back.n_deploy_keys, 4);
	assert_non_null(ledger_find_deploy_key(&back, "a-dep", "z"));
	ledger_free(&back);

	/* a-dep listed with only "a" live: "z" goes; b-dep not listed: kept;
	 * c-dep gone: its key goes. */
	deps[0].name = (char *)"a-dep";
	deps[1].name = (char *)"b-dep";
	live[0].deployment = (char *)"a-dep";
	live[0].name = (char *)"a";
	listed[0].kind = LISTED_DEPLOY_KEYS;
	listed[0].deployment = (char *)"a-dep";
	os.deployments = deps;
	os.n_deployments = 2;
	os.deploy_keys = live;
	os.n_deploy_keys = 1;
	os.listed = listed;
	os.n_listed = 1;
	assert_int_equal(ledger_sync(&l, &ds, &os), 1);
	assert_int_equal(l.n_deploy_keys, 2);
	assert_non_null(ledger_find_deploy_key(&l, "a-dep", "a"));
	assert_non_null(ledger_find_deploy_key(&l, "b-dep", "ci"));
	assert_int_equal(ledger_sync(&l, &ds, &os), 0);
	ledger_remove_deploy_key(&l, "a-dep", "a");
	ledger_forget_deploy_keys_of(&l, "b-dep");
	assert_int_equal(l.n_deploy_keys, 0);
	ledger_free(&l);

	/* Written before keys existed: no "deployKeys", none. A bad one is damage. */
	text = (char *)"{\"version\":1,\"projects\":[],\"deployments\":[]}";
	assert_int_equal(ledger_from_json(text, strlen(text), &back, err, sizeof(err)), 0);
	assert_int_equal(back.n_deploy_keys, 0);
	text = (char *)"{\"version\":1,\"projects\":[],\"deployments\":[],\"deployKeys\":[{\"name\":\"x\"}]}";
	assert_int_equal(ledger_from_json(text, strlen(text), &back, err, sizeof(err)), -EBADMSG);
	assert_string_equal(err, "a deploy key entry lacks deployment or name");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_missing_is_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exact_ids, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt, setup, teardown),
		cmocka_unit_test(test_read_in_any_order),
		cmocka_unit_test_setup_teardown(test_quarantine, setup, teardown),
		cmocka_unit_test_setup_teardown(test_versions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_regular_and_read_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_save_and_quarantine_targets, setup, teardown),
		cmocka_unit_test(test_sync_protect),
		cmocka_unit_test(test_sync_forgets_gone),
		cmocka_unit_test(test_sync_follows_renames),
		cmocka_unit_test(test_many_sorted),
		cmocka_unit_test(test_deploy_keys),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
