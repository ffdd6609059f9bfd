/* test_watch.c: changes under the desired path reach the callback once per
 * burst; new folders are picked up, dot-names ignored, replaced folders,
 * files and symlinks followed; what inotify cannot do (a queue overflow,
 * the watch limit, a folder that cannot be watched, too many folders) is
 * reported once and survived. */
#include <errno.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include <uv.h>

#include "watch.h"

#define DEBOUNCE 100
#define WAIT_MS 15000          /* for what must happen: generous */
#define QUIET_MS (5 * DEBOUNCE) /* for what must not: can only pass late */

struct ctx {
	uv_loop_t loop;
	uv_timer_t guard;
	struct watch *w;
	char dir[64];
	int calls;
	bool expired;
	bool stop_in_cb;
	struct watch_params p;
	int problems[WATCH_PROBLEMS];
	int last_err;
	char last_path[512];
};

static void
on_change(void *arg)
{
	struct ctx *c = arg;

	c->calls++;
	if (c->stop_in_cb) {
		watch_stop(c->w);
		c->w = NULL;
	}
}

static void
on_problem(void *arg, enum watch_problem pb, const char *path, int err)
{
	struct ctx *c = arg;

	c->problems[pb]++;
	c->last_err = err;
	snprintf(c->last_path, sizeof(c->last_path), "%s", path ? path : "");
}

static void
on_guard(uv_timer_t *t)
{
	struct ctx *c = t->data;

	c->expired = true;
}

static int
setup(void **state)
{
	struct ctx *c = calloc(1, sizeof(*c));

	assert_non_null(c);
	snprintf(c->dir, sizeof(c->dir), "/tmp/cp-watch-XXXXXX");
	assert_non_null(mkdtemp(c->dir));
	assert_int_equal(uv_loop_init(&c->loop), 0);
	assert_int_equal(uv_timer_init(&c->loop, &c->guard), 0);
	c->guard.data = c;
	c->p.debounce_ms = DEBOUNCE;
	c->p.changed = on_change;
	c->p.problem = on_problem;
	c->p.arg = c;
	*state = c;
	return 0;
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void
rm_tree(const char *path)
{
	nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static int
teardown(void **state)
{
	struct ctx *c = *state;

	watch_stop(c->w);
	uv_close((uv_handle_t *)&c->guard, NULL);
	assert_int_equal(uv_run(&c->loop, UV_RUN_DEFAULT), 0);
	assert_int_equal(uv_loop_close(&c->loop), 0);
	rm_tree(c->dir);
	free(c);
	return 0;
}

/* Runs the loop until `want` callbacks in all or `ms` pass. */
static int
run_until(struct ctx *c, int want, uint64_t ms)
{
	c->expired = false;
	assert_int_equal(uv_timer_start(&c->guard, on_guard, ms, 0), 0);
	while (c->calls < want && !c->expired)
		uv_run(&c->loop, UV_RUN_ONCE);
	uv_timer_stop(&c->guard);
	return c->calls;
}

static void
expect_calls(struct ctx *c, int want)
{
	if (run_until(c, want, WAIT_MS) < want)
		fail_msg("%d callbacks after %d ms, wanted %d", c->calls, WAIT_MS, want);
}

/* Nothing more may arrive while the loop runs for a while. */
static void
expect_quiet(struct ctx *c)
{
	int before = c->calls;

	run_until(c, before + 1, QUIET_MS);
	assert_int_equal(c->calls, before);
}

static char *
pathf(struct ctx *c, const char *rel)
{
	static char bufs[4][512];
	static int i;
	char *b = bufs[i++ % 4];

	snprintf(b, sizeof(bufs[0]), "%s/%s", c->dir, rel);
	return b;
}

static void
put(struct ctx *c, const char *rel, const char *text)
{
	FILE *f = fopen(pathf(c, rel), "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static void
mkdir_rel(struct ctx *c, const char *rel)
{
	assert_int_equal(mkdir(pathf(c, rel), 0755), 0);
}

static void
start(struct ctx *c, const char *rel)
{
	assert_int_equal(watch_start(&c->loop, pathf(c, rel), &c->p, &c->w), 0);
	assert_non_null(c->w);
}

static int
problems(struct ctx *c)
{
	int n = 0;

	for (int i = 0; i < WATCH_PROBLEMS; i++)
		n += c->problems[i];
	return n;
}

static void
test_files_in_tree(void **state)
{
	struct ctx *c = *state;

	mkdir_rel(c, "desired");
	put(c, "desired/a.yaml", "projects: []\n");
	start(c, "desired");
	assert_int_equal(watch_dirs(c->w), 1);
	expect_quiet(c);

	put(c, "desired/b.yaml", "projects: []\n");          /* create */
	expect_calls(c, 1);
	put(c, "desired/a.yaml", "projects: [] # edited\n"); /* modify */
	expect_calls(c, 2);
	assert_int_equal(unlink(pathf(c, "desired/b.yaml")), 0);  /* delete */
	expect_calls(c, 3);
	expect_quiet(c);
}

static void
test_new_subfolders(void **state)
{
	struct ctx *c = *state;

	mkdir_rel(c, "desired");
	start(c, "desired");
	mkdir_rel(c, "desired/team");
	expect_calls(c, 1);
	assert_int_equal(watch_dirs(c->w), 2);
	put(c, "desired/team/x.yaml", "projects: []\n");
	expect_calls(c, 2);

	/* a whole tree at once: the folders made before their watchers exist
	 * are found by the scan */
	mkdir_rel(c, "desired/team/deep");
	mkdir_rel(c, "desired/team/deep/deeper");
	put(c, "desired/team/deep/deeper/y.yaml", "projects: []\n");
	expect_calls(c, 3);
	assert_int_equal(watch_dirs(c->w), 4);
	put(c, "desired/team/deep/deeper/y.yaml", "projects: [] # edited\n");
	expect_calls(c, 4);

	rm_tree(pathf(c, "desired/team"));
	expect_calls(c, 5);
	assert_int_equal(watch_dirs(c->w), 1);
	expect_quiet(c);
}

static void
test_dot_names_ignored(void **state)
{
	struct ctx *c = *state;

	mkdir_rel(c, "desired");
	mkdir_rel(c, "desired/.git");
	start(c, "desired");
	assert_int_equal(watch_dirs(c->w), 1);
	put(c, "desired/.git/HEAD", "ref: refs/heads/main\n");
	put(c, "desired/.hidden.yaml", "projects: []\n");
	mkdir_rel(c, "desired/.cache");
	expect_quiet(c);
	assert_int_equal(c->calls, 0);
	put(c, "desired/a.yaml", "projects: []\n");
	expect_calls(c, 1);
	assert_int_equal(watch_dirs(c->w), 1);
}

static void
test_burst_is_one_callback(void **state)
{
	struct ctx *c = *state;
	char name[64];

	mkdir_rel(c, "desired");
	mkdir_rel(c, "desired/sub");
	start(c, "desired");
	/* a checkout touching many files in two folders */
	for (int i = 0; i < 50; i++) {
		snprintf(name, sizeof(name), "desired/%s/f%d.yaml", i % 2 ? "sub" : ".", i);
		put(c, name, "projects: []\n");
	}
	expect_calls(c, 1);
	expect_quiet(c);
	assert_int_equal(c->calls, 1);
}

struct drip {
	struct ctx *c;
	uv_timer_t t;
	int left;
};

static void
on_drip(uv_timer_t *t)
{
	struct drip *d = t->data;
	char name[64];

	snprintf(name, sizeof(name), "desired/drip%d.yaml", d->left % 3);
	put(d->c, name, "projects: []\n");
	if (--d->left == 0)
		uv_close((uv_handle_t *)&d->t, NULL);
}

/* Changes that never pause longer than the debounce still get a callback
 * (within 10 x debounce of the first), not only when they stop. */
static void
test_endless_changes_still_reported(void **state)
{
	struct ctx *c = *state;
	struct drip d = { c, { 0 }, 80 };
	int left;

	mkdir_rel(c, "desired");
	start(c, "desired");
	assert_int_equal(uv_timer_init(&c->loop, &d.t), 0);
	d.t.data = &d;
	/* a change every 30 ms for 2.4 s (longer when the machine is slow) */
	assert_int_equal(uv_timer_start(&d.t, on_drip, 30, 30), 0);
	while (d.left > 0 && c->calls == 0)
		uv_run(&c->loop, UV_RUN_ONCE);
	left = d.left;
	if (d.left > 0)
		uv_close((uv_handle_t *)&d.t, NULL);
	uv_run(&c->loop, UV_RUN_NOWAIT);     /* `d` is closed before it goes */
	assert_true(c->calls >= 1);
	assert_true(left > 0);     /* it came while the changes went on */
}

static void
test_folder_replaced(void **state)
{
	struct ctx *c = *state;

	mkdir_rel(c, "desired");
	put(c, "desired/a.yaml", "projects: []\n");
	mkdir_rel(c, "next");
	mkdir_rel(c, "next/sub");
	put(c, "next/b.yaml", "projects: []\n");
	start(c, "desired");
	assert_int_equal(watch_dirs(c->w), 1);

	/* a deploy tool swapping the whole tree */
	assert_int_equal(rename(pathf(c, "desired"), pathf(c, "old")), 0);
	assert_int_equal(rename(pathf(c, "next"), pathf(c, "desired")), 0);
	expect_calls(c, 1);
	assert_int_equal(watch_dirs(c->w), 2);

	/* the old tree is no longer watched, the new one is */
	put(c, "old/a.yaml", "projects: [] # edited\n");
	expect_quiet(c);
	put(c, "desired/sub/c.yaml", "projects: []\n");
	expect_calls(c, 2);
	put(c, "desired/b.yaml", "projects: [] # edited\n");
	expect_calls(c, 3);
}

static void
test_file_replaced_by_rename(void **state)
{
	struct ctx *c = *state;

	put(c, "desired.yaml", "projects: []\n");
	start(c, "desired.yaml");
	assert_int_equal(watch_dirs(c->w), 0);

	/* siblings of the file are not its business */
	put(c, "other.yaml", "projects: []\n");
	put(c, "desired.yaml.tmp", "projects: [] # new\n");
	expect_quiet(c);
	/* an editor or git writing a new file over it */
	assert_int_equal(rename(pathf(c, "desired.yaml.tmp"), pathf(c, "desired.yaml")), 0);
	expect_calls(c, 1);
	/* and the new file is still followed, edited in place */
	put(c, "desired.yaml", "projects: [] # again\n");
	expect_calls(c, 2);
	assert_int_equal(unlink(pathf(c, "desired.yaml")), 0);
	expect_calls(c, 3);
}

static void
test_symlink_swap(void **state)
{
	struct ctx *c = *state;

	mkdir_rel(c, "v1");
	mkdir_rel(c, "v2");
	mkdir_rel(c, "v2/sub");
	assert_int_equal(symlink("v1", pathf(c, "current")), 0);
	start(c, "current");
	assert_int_equal(watch_dirs(c->w), 1);
	put(c, "v1/a.yaml", "projects: []\n");
	expect_calls(c, 1);

	assert_int_equal(symlink("v2", pathf(c, "current.new")), 0);
	assert_int_equal(rename(pathf(c, "current.new"), pathf(c, "current")), 0);
	expect_calls(c, 2);
	assert_int_equal(watch_dirs(c->w), 2);
	put(c, "v1/a.yaml", "projects: [] # old release\n");
	expect_quiet(c);
	put(c, "v2/sub/b.yaml", "projects: []\n");
	expect_calls(c, 3);
}

static void
test_path_created_later(void **state)
{
	struct ctx *c = *state;

	start(c, "later");
	assert_int_equal(watch_dirs(c->w), 0);
	mkdir_rel(c, "later");
	expect_calls(c, 1);
	assert_int_equal(watch_dirs(c->w), 1);
	put(c, "later/a.yaml", "projects: []\n");
	expect_calls(c, 2);
}

static void
test_stop_inside_callback(void **state)
{
	struct ctx *c = *state;

	mkdir_rel(c, "desired");
	mkdir_rel(c, "desired/sub");
	start(c, "desired");
	c->stop_in_cb = true;
	put(c, "desired/sub/a.yaml", "projects: []\n");
	expect_calls(c, 1);
	assert_null(c->w);
	/* teardown runs the loop and checks that nothing is left open */
}

static void
test_bad_arguments(void **state)
{
	struct ctx *c = *state;
	struct watch *w = (struct watch *)1;
	struct watch_params p = c->p;
	enum watch_fault f;

	assert_int_equal(watch_start(&c->loop, "/nonexistent-cp/x/desired", &p, &w),
	    -ENOENT);
	assert_null(w);
	assert_int_equal(watch_start(&c->loop, "", &p, &w), -EINVAL);
	assert_int_equal(watch_start(&c->loop, c->dir, NULL, &w), -EINVAL);
	p.changed = NULL;
	assert_int_equal(watch_start(&c->loop, c->dir, &p, &w), -EINVAL);
	assert_int_equal(watch_dirs(NULL), 0);
	watch_stop(NULL);
	assert_string_equal(watch_problem_name(WATCH_OVERFLOW), "overflow");
	assert_string_equal(watch_problem_name(WATCH_LIMIT), "limit");
	assert_string_equal(watch_problem_name(WATCH_ERROR), "error");
	assert_int_equal(watch_fault_parse("limit", &f), 0);
	assert_int_equal(f, WATCH_FAULT_LIMIT);
	assert_int_equal(watch_fault_parse("", &f), 0);
	assert_int_equal(f, WATCH_FAULT_NONE);
	assert_int_equal(watch_fault_parse("Limit", &f), -EINVAL);
}

/* ---- what inotify cannot do -------------------------------------------- */

/* The kernel's queue overflowing (injected: the events read are dropped
 * and IN_Q_OVERFLOW comes in their place): reported once per overflow,
 * and the change callback comes at once, not after the debounce. */
static void
test_overflow(void **state)
{
	struct ctx *c = *state;

	c->p.fault = WATCH_FAULT_OVERFLOW;
	c->p.debounce_ms = 5000;      /* longer than the wait below */
	mkdir_rel(c, "desired");
	start(c, "desired");
	put(c, "desired/a.yaml", "projects: []\n");
	if (run_until(c, 1, 2500) < 1)
		fail_msg("no callback within 2.5 s of an overflow");
	assert_int_equal(c->problems[WATCH_OVERFLOW], 1);
	assert_int_equal(problems(c), 1);
	assert_string_equal(c->last_path, "");
	/* the watch goes on working: the next change is an event again */
	put(c, "desired/b.yaml", "projects: []\n");
	expect_calls(c, 2);
	assert_int_equal(c->problems[WATCH_OVERFLOW], 1);
	assert_int_equal(watch_dirs(c->w), 1);
}

static void
test_limit_injected(void **state)
{
	struct ctx *c = *state;

	c->p.fault = WATCH_FAULT_LIMIT;
	mkdir_rel(c, "desired");
	mkdir_rel(c, "desired/sub");
	start(c, "desired");
	/* both folders reported, neither watched */
	assert_int_equal(c->problems[WATCH_LIMIT], 2);
	assert_int_equal(c->last_err, ENOSPC);
	assert_int_equal(watch_dirs(c->w), 0);
	/* a change inside goes unseen: only the fingerprint check finds it */
	put(c, "desired/sub/a.yaml", "projects: []\n");
	expect_quiet(c);
	assert_int_equal(c->calls, 0);
	/* the path itself replaced is still seen (the parent's watch), and
	 * the scan that follows does not report the same folders again */
	assert_int_equal(rename(pathf(c, "desired"), pathf(c, "old")), 0);
	mkdir_rel(c, "desired");
	expect_calls(c, 1);
	assert_int_equal(c->problems[WATCH_LIMIT], 3);   /* the new folder */
	expect_quiet(c);
	assert_int_equal(c->problems[WATCH_LIMIT], 3);
}

static void
test_error_injected(void **state)
{
	struct ctx *c = *state;

	c->p.fault = WATCH_FAULT_ERROR;
	mkdir_rel(c, "desired");
	start(c, "desired");
	assert_int_equal(c->problems[WATCH_ERROR], 1);
	assert_int_equal(c->last_err, EACCES);
	assert_string_equal(c->last_path, pathf(c, "desired"));
	assert_int_equal(watch_dirs(c->w), 0);
}

static void
test_too_many_folders(void **state)
{
	struct ctx *c = *state;

	c->p.max_dirs = 2;
	mkdir_rel(c, "desired");
	mkdir_rel(c, "desired/a");
	mkdir_rel(c, "desired/b");
	mkdir_rel(c, "desired/c");
	start(c, "desired");
	assert_int_equal(watch_dirs(c->w), 2);
	assert_int_equal(c->problems[WATCH_LIMIT], 1);
	assert_int_equal(c->last_err, 0);
	/* once, not at every scan */
	put(c, "desired/x.yaml", "projects: []\n");
	expect_calls(c, 1);
	assert_int_equal(c->problems[WATCH_LIMIT], 1);
}

static int
write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, text, strlen(text));
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

/* The real ENOSPC, in a child process in a user namespace of its own,
 * where the per-user watch limit (/proc/sys/user/max_inotify_watches,
 * Linux 5.11 and later) can be lowered without touching the machine's:
 * with room for two watches (the parent folder's and the root's) the
 * sub-folder's fails. Exit codes: 0 as expected, 1 wrong, 2 no namespace. */
static int
child_real_limit(struct ctx *c)
{
	char uid_map[64], gid_map[64];

	/* read before: inside, unmapped ids read as the overflow id */
	snprintf(uid_map, sizeof(uid_map), "0 %d 1", (int)getuid());
	snprintf(gid_map, sizeof(gid_map), "0 %d 1", (int)getgid());
	if (unshare(CLONE_NEWUSER) != 0 ||
	    write_file("/proc/self/setgroups", "deny") != 0 ||
	    write_file("/proc/self/uid_map", uid_map) != 0 ||
	    write_file("/proc/self/gid_map", gid_map) != 0 ||
	    write_file("/proc/sys/user/max_inotify_watches", "2") != 0)
		return 2;
	c->p.fault = WATCH_FAULT_NONE;
	if (watch_start(&c->loop, pathf(c, "desired"), &c->p, &c->w) != 0)
		return 1;
	if (c->problems[WATCH_LIMIT] != 1 || c->last_err != ENOSPC ||
	    strcmp(c->last_path, pathf(c, "desired/sub")) != 0 ||
	    watch_dirs(c->w) != 1) {
		fprintf(stderr, "limit %d, err %d, path %s, dirs %zu\n",
		    c->problems[WATCH_LIMIT], c->last_err, c->last_path,
		    watch_dirs(c->w));
		return 1;
	}
	return 0;
}

static void
test_real_watch_limit(void **state)
{
	struct ctx *c = *state;
	int status;
	pid_t pid;

	mkdir_rel(c, "desired");
	mkdir_rel(c, "desired/sub");
	fflush(NULL);
	if ((pid = fork()) == 0)
		_exit(child_real_limit(c));
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) == 2) {
		/* no user namespace here: the same path through the hook */
		fprintf(stderr, "test_real_watch_limit: no user namespace with "
		    "its own inotify limit here; ENOSPC injected instead\n");
		c->p.fault = WATCH_FAULT_LIMIT;
		start(c, "desired");
		assert_int_equal(c->problems[WATCH_LIMIT], 2);
		assert_int_equal(c->last_err, ENOSPC);
		return;
	}
	assert_int_equal(WEXITSTATUS(status), 0);
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_files_in_tree),
		T(test_new_subfolders),
		T(test_dot_names_ignored),
		T(test_burst_is_one_callback),
		T(test_endless_changes_still_reported),
		T(test_folder_replaced),
		T(test_file_replaced_by_rename),
		T(test_symlink_swap),
		T(test_path_created_later),
		T(test_stop_inside_callback),
		T(test_bad_arguments),
		T(test_overflow),
		T(test_limit_injected),
		T(test_error_injected),
		T(test_too_many_folders),
		T(test_real_watch_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
