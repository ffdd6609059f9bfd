/* test_fingerprint.c: the fingerprint of the desired files changes when
 * a file the loader reads is added, removed, renamed, rewritten (same size
 * included), touched (nanoseconds included) or swapped behind a symbolic
 * link, and not when nothing changed or only files the loader skips did;
 * recent files are compared by their bytes until they settle. SipHash-2-4
 * against the vectors of its paper. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "cfgtest.h"
#include "desired.h"
#include "desired_fingerprint.h"
#include "desired_sources.h"
#include "diag.h"
#include "model.h"
#include "siphash.h"

struct ctx {
	char *dir;          /* the test's folder */
	char *desired;      /* dir/desired */
};

static int
setup(void **state)
{
	struct ctx *c = calloc(1, sizeof(*c));

	assert_non_null(c);
	c->dir = cfgtest_mkdtemp();
	assert_true(asprintf(&c->desired, "%s/desired", c->dir) > 0);
	assert_int_equal(mkdir(c->desired, 0755), 0);
	cfgtest_write(c->desired, "a.yaml", "projects:\n  - name: alpha\n");
	cfgtest_write(c->desired, "team/b.yml", "projects:\n  - name: beta\n");
	*state = c;
	return 0;
}

static int
teardown(void **state)
{
	struct ctx *c = *state;

	free(c->desired);
	cfgtest_rmtree(c->dir);
	free(c);
	return 0;
}

static char *
in(struct ctx *c, const char *rel)
{
	static char bufs[4][512];
	static int i;
	char *b = bufs[i++ % 4];

	snprintf(b, sizeof(bufs[0]), "%s/%s", c->desired, rel);
	return b;
}

static struct desired_fingerprint
take(const char *path)
{
	struct desired_fingerprint fp;

	assert_int_equal(desired_fingerprint_take(path, &fp), 0);
	return fp;
}

/* Whether the files changed since *fp; fp is brought forward as the
 * daemon keeps it. */
static bool
changed(const char *path, struct desired_fingerprint *fp)
{
	bool ch = false;

	assert_int_equal(desired_fingerprint_check(path, fp, &ch), 0);
	return ch;
}

/* ---- SipHash ------------------------------------------------------------ */

static void
test_siphash_vectors(void **state)
{
	uint8_t key[SIPHASH_KEY_LEN], msg[64];
	struct siphash s;
	(void)state;

	for (int i = 0; i < 16; i++)
		key[i] = (uint8_t)i;
	for (int i = 0; i < 64; i++)
		msg[i] = (uint8_t)i;
	/* the paper's appendix (15 bytes) and the reference vectors[0] and
	 * vectors[63] of the reference implementation */
	assert_true(siphash(key, msg, 15) == 0xa129ca6149be45e5ULL);
	assert_true(siphash(key, msg, 0) == 0x726fdb47dd0e0e31ULL);
	assert_true(siphash(key, msg, 63) == 0x958a324ceb064572ULL);
	/* fed in two pieces, cut anywhere: the same */
	for (size_t len = 0; len <= 63; len++) {
		for (size_t cut = 0; cut <= len; cut++) {
			siphash_init(&s, key);
			siphash_update(&s, msg, cut);
			siphash_update(&s, msg + cut, len - cut);
			assert_true(siphash_final(&s) == siphash(key, msg, len));
		}
	}
}

/* ---- one file's record -------------------------------------------------- */

static void
test_every_stat_field_counts(void **state)
{
	struct stat base, st;
	uint64_t h0;
	(void)state;

	memset(&base, 0, sizeof(base));
	base.st_dev = 2049;
	base.st_ino = 131;
	base.st_mode = S_IFREG | 0644;
	base.st_size = 100;
	base.st_mtim.tv_sec = 1700000000;
	base.st_mtim.tv_nsec = 5;
	base.st_ctim = base.st_mtim;
	h0 = desired_fingerprint_file("a.yaml", &base, 0);
	assert_true(desired_fingerprint_file("a.yaml", &base, 0) == h0);
	assert_true(desired_fingerprint_file("b.yaml", &base, 0) != h0);
	assert_true(desired_fingerprint_file("a.yaml", &base, ENOENT) != h0);
#define DIFFERS(field, value)                                                \
	do {                                                                 \
		st = base;                                                   \
		st.field = value;                                            \
		if (desired_fingerprint_file("a.yaml", &st, 0) == h0)        \
			fail_msg("%s not in the record", #field);            \
	} while (0)
	DIFFERS(st_dev, 2050);
	DIFFERS(st_ino, 132);
	DIFFERS(st_mode, S_IFREG | 0600);
	DIFFERS(st_size, 101);
	DIFFERS(st_mtim.tv_sec, 1700000001);
	DIFFERS(st_mtim.tv_nsec, 6);      /* the same second, 1 ns later */
	DIFFERS(st_ctim.tv_sec, 1700000001);
	DIFFERS(st_ctim.tv_nsec, 6);
#undef DIFFERS
	/* errno only: the stat data of a failed stat is not read */
	st = base;
	st.st_size = 7;
	assert_true(desired_fingerprint_file("a.yaml", &st, ENOENT) ==
	    desired_fingerprint_file("a.yaml", &base, ENOENT));
}

/* ---- a tree ------------------------------------------------------------- */

static void
test_nothing_changed(void **state)
{
	struct ctx *c = *state;
	struct desired_fingerprint fp = take(c->desired), again = take(c->desired);
	char hex[32];

	assert_int_equal(fp.n_files, 2);
	assert_true(fp.digest == again.digest);
	assert_false(changed(c->desired, &fp));
	assert_false(changed(c->desired, &fp));
	desired_fingerprint_hex(&fp, hex, sizeof(hex));
	assert_int_equal(strlen(hex), 16);
	assert_true(strtoull(hex, NULL, 16) == fp.digest);
	/* a reader of the files changes nothing */
	free(cfgtest_write_len(c->dir, "copy", "", 0));
	assert_false(changed(c->desired, &fp));
}

static void
test_add_remove_rename(void **state)
{
	struct ctx *c = *state;
	struct desired_fingerprint fp = take(c->desired), before = fp;

	cfgtest_write(c->desired, "team/c.yaml", "projects: []\n");
	assert_true(changed(c->desired, &fp));
	fp = take(c->desired);
	assert_int_equal(fp.n_files, 3);
	assert_true(fp.digest != before.digest);

	assert_int_equal(unlink(in(c, "team/c.yaml")), 0);
	assert_true(changed(c->desired, &fp));
	fp = take(c->desired);
	/* back to the same two files as they were: the same digest */
	assert_true(fp.digest == before.digest);

	/* a rename keeps inode, size and times: the name alone tells */
	assert_int_equal(rename(in(c, "team/b.yml"), in(c, "team/b2.yml")), 0);
	assert_true(changed(c->desired, &fp));
	fp = take(c->desired);
	assert_int_equal(fp.n_files, 2);
	/* a folder renamed */
	assert_int_equal(rename(in(c, "team"), in(c, "crew")), 0);
	assert_true(changed(c->desired, &fp));
	fp = take(c->desired);
	/* renamed so that the loader no longer reads it */
	assert_int_equal(rename(in(c, "a.yaml"), in(c, "a.yaml.off")), 0);
	assert_true(changed(c->desired, &fp));
	fp = take(c->desired);
	assert_int_equal(fp.n_files, 1);
}

static void
test_files_the_loader_skips(void **state)
{
	struct ctx *c = *state;
	struct desired_fingerprint fp = take(c->desired);

	cfgtest_write(c->desired, "README.md", "# the team's projects\n");
	cfgtest_write(c->desired, ".hidden.yaml", "projects: []\n");
	cfgtest_write(c->desired, ".git/HEAD", "ref: refs/heads/main\n");
	cfgtest_write(c->desired, "team/notes.txt", "x\n");
	assert_false(changed(c->desired, &fp));
	assert_int_equal(fp.n_files, 2);
}

static void
test_same_size_rewrite(void **state)
{
	struct ctx *c = *state;
	struct desired_fingerprint fp = take(c->desired);
	struct stat st0, st1;
	struct timespec times[2];

	assert_int_equal(stat(in(c, "a.yaml"), &st0), 0);
	/* the same number of bytes, written in place (the same inode), and
	 * the old mtime put back as `touch -r` or `rsync -t` would */
	cfgtest_write(c->desired, "a.yaml", "projects:\n  - name: alphx\n");
	times[0] = st0.st_atim;
	times[1] = st0.st_mtim;
	assert_int_equal(utimensat(AT_FDCWD, in(c, "a.yaml"), times, 0), 0);
	assert_int_equal(stat(in(c, "a.yaml"), &st1), 0);
	assert_true(st1.st_ino == st0.st_ino);
	assert_true(st1.st_size == st0.st_size);
	assert_true(st1.st_mtim.tv_sec == st0.st_mtim.tv_sec &&
	    st1.st_mtim.tv_nsec == st0.st_mtim.tv_nsec);
	/* the ctime moved, or within the same clock tick the bytes differ */
	assert_true(changed(c->desired, &fp));
}

/* The bytes alone tell a recent file's change: a fingerprint whose stat
 * part matches but whose recent bytes do not is a change. */
static void
test_recent_files_compared_by_content(void **state)
{
	struct ctx *c = *state;
	struct timespec now;
	struct desired_fingerprint fp, cur;
	bool ch = false;

	clock_gettime(CLOCK_REALTIME, &now);
	assert_int_equal(desired_fingerprint_take_at(c->desired, &now, &fp), 0);
	/* both files were just written */
	assert_int_equal(fp.n_recent, 2);
	assert_true(fp.content != 0);
	/* the same stat data with other bytes: as if a write within the same
	 * clock tick had left every stamp as it was */
	cur = fp;
	cur.content ^= 1;
	assert_int_equal(desired_fingerprint_check_at(c->desired, &now, &cur, &ch), 0);
	assert_true(ch);
	/* unchanged while recent: compared again next time, bytes kept */
	assert_int_equal(desired_fingerprint_check_at(c->desired, &now, &fp, &ch), 0);
	assert_false(ch);
	assert_int_equal(fp.n_recent, 2);

	/* an hour later the files have settled: their bytes are dropped and
	 * only stat data is compared from then on */
	now.tv_sec += 3600;
	assert_int_equal(desired_fingerprint_check_at(c->desired, &now, &fp, &ch), 0);
	assert_false(ch);
	assert_int_equal(fp.n_recent, 0);
	assert_true(fp.content == 0);
	assert_int_equal(desired_fingerprint_check_at(c->desired, &now, &fp, &ch), 0);
	assert_false(ch);
	/* a fingerprint taken then reads no file at all */
	assert_int_equal(desired_fingerprint_take_at(c->desired, &now, &cur), 0);
	assert_int_equal(cur.n_recent, 0);
	assert_true(cur.digest == fp.digest);
}

static void
test_touch_nanoseconds(void **state)
{
	struct ctx *c = *state;
	struct desired_fingerprint fp = take(c->desired);
	struct stat st;
	struct timespec times[2];

	assert_int_equal(stat(in(c, "team/b.yml"), &st), 0);
	times[0] = st.st_atim;
	times[1] = st.st_mtim;
	/* the same second, another nanosecond */
	times[1].tv_nsec = st.st_mtim.tv_nsec == 999999999 ? 0 : st.st_mtim.tv_nsec + 1;
	assert_int_equal(utimensat(AT_FDCWD, in(c, "team/b.yml"), times, 0), 0);
	assert_true(changed(c->desired, &fp));
	fp = take(c->desired);
	assert_false(changed(c->desired, &fp));
	/* a chmod is a change of the stat data too (the loader may no longer
	 * be able to read the file) */
	assert_int_equal(chmod(in(c, "team/b.yml"), 0600), 0);
	assert_true(changed(c->desired, &fp));
}

static void
test_replaced_by_rename(void **state)
{
	struct ctx *c = *state;
	struct desired_fingerprint fp = take(c->desired);

	/* git and most editors: a new file renamed over the old one, here
	 * with the same bytes: only the inode differs */
	cfgtest_write(c->desired, "a.yaml.tmp", "projects:\n  - name: alpha\n");
	assert_false(changed(c->desired, &fp));
	assert_int_equal(rename(in(c, "a.yaml.tmp"), in(c, "a.yaml")), 0);
	assert_true(changed(c->desired, &fp));
}

static void
test_symlinks_followed(void **state)
{
	struct ctx *c = *state;
	struct desired_fingerprint fp, tree;
	char *link, *target;

	cfgtest_write(c->dir, "v1/x.yaml", "projects:\n  - name: one\n");
	cfgtest_write(c->dir, "v2/x.yaml", "projects:\n  - name: two\n");
	assert_true(asprintf(&link, "%s/current", c->dir) > 0);
	assert_int_equal(symlink("v1", link), 0);
	/* the desired path itself a link to a release folder: swapped */
	fp = take(link);
	assert_int_equal(fp.n_files, 1);
	assert_int_equal(unlink(link), 0);
	assert_int_equal(symlink("v2", link), 0);
	assert_true(changed(link, &fp));

	/* a file link inside the tree, pointed elsewhere */
	assert_true(asprintf(&target, "%s/v1/x.yaml", c->dir) > 0);
	assert_int_equal(symlink(target, in(c, "linked.yaml")), 0);
	tree = take(c->desired);
	assert_int_equal(tree.n_files, 3);
	free(target);
	assert_int_equal(unlink(in(c, "linked.yaml")), 0);
	assert_true(asprintf(&target, "%s/v2/x.yaml", c->dir) > 0);
	assert_int_equal(symlink(target, in(c, "linked.yaml")), 0);
	assert_true(changed(c->desired, &tree));
	tree = take(c->desired);
	/* and the file behind the link, edited */
	cfgtest_write(c->dir, "v2/x.yaml", "projects:\n  - name: two\n  - name: three\n");
	assert_true(changed(c->desired, &tree));
	free(target);
	free(link);
}

static void
test_single_file_and_missing_path(void **state)
{
	struct ctx *c = *state;
	struct desired_fingerprint fp, gone, back;
	char *file, *missing;

	assert_true(asprintf(&file, "%s/a.yaml", c->desired) > 0);
	fp = take(file);
	assert_int_equal(fp.n_files, 1);
	cfgtest_write(c->desired, "a.yaml", "projects:\n  - name: alpha\n  - name: gamma\n");
	assert_true(changed(file, &fp));

	/* a path that is not there has a fingerprint of its own, and its
	 * coming back is a change */
	assert_true(asprintf(&missing, "%s/later", c->dir) > 0);
	gone = take(missing);
	assert_int_equal(gone.n_files, 0);
	assert_false(changed(missing, &gone));
	cfgtest_write(c->dir, "later/x.yaml", "projects: []\n");
	back = gone;
	assert_true(changed(missing, &back));
	/* an empty folder is not a missing one */
	assert_int_equal(unlink(in(c, "../later/x.yaml")), 0);
	back = gone;
	assert_true(changed(missing, &back));
	free(missing);
	free(file);
}

static void
test_folder_loop_counts(void **state)
{
	struct ctx *c = *state;
	struct desired_fingerprint fp = take(c->desired);

	/* the loader fails on a loop: it appearing is a change, though no
	 * file was added */
	assert_int_equal(symlink("..", in(c, "team/up")), 0);
	assert_true(changed(c->desired, &fp));
	fp = take(c->desired);
	assert_int_equal(fp.n_files, 2);
	assert_false(changed(c->desired, &fp));
	assert_int_equal(unlink(in(c, "team/up")), 0);
	assert_true(changed(c->desired, &fp));
}

/* The files env values are read from are outside the fingerprint: a load
 * lists them with what they held (valid state or not), and the check reads
 * them again: a same-size rewrite, a removal and a return are changes,
 * nothing else is. */
static void
test_env_value_files(void **state)
{
	struct ctx *c = *state;
	struct desired_sources src = { 0 };
	struct desired_state ds;
	struct diag d;
	bool ch;
	char *yaml;

	cfgtest_write(c->dir, "secret", "one\n");
	assert_true(asprintf(&yaml, "projects:\n  - name: p\n    env:\n      prod:\n"
	    "        K: {file: %s/secret}\n        L: {file: %s/none}\n",
	    c->dir, c->dir) > 0);
	cfgtest_write(c->desired, "e.yaml", yaml);
	free(yaml);
	diag_init(&d);
	/* the second file is missing: an invalid state, yet both are listed */
	assert_int_equal(desired_load_sources(c->desired, NULL, 0, &src, &ds, &d),
	    -EINVAL);
	diag_free(&d);
	assert_int_equal(src.n, 2);
	assert_int_equal(desired_sources_changed(&src, &ch), 0);
	assert_false(ch);
	cfgtest_write(c->dir, "secret", "two\n");          /* same size */
	assert_int_equal(desired_sources_changed(&src, &ch), 0);
	assert_true(ch);
	cfgtest_write(c->dir, "secret", "one\n");          /* back as it was */
	assert_int_equal(desired_sources_changed(&src, &ch), 0);
	assert_false(ch);
	cfgtest_write(c->dir, "none", "now\n");            /* the missing one comes */
	assert_int_equal(desired_sources_changed(&src, &ch), 0);
	assert_true(ch);
	desired_sources_free(&src);
	assert_int_equal(src.n, 0);
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_siphash_vectors),
		cmocka_unit_test(test_every_stat_field_counts),
		T(test_nothing_changed),
		T(test_add_remove_rename),
		T(test_files_the_loader_skips),
		T(test_same_size_rewrite),
		T(test_recent_files_compared_by_content),
		T(test_touch_nanoseconds),
		T(test_replaced_by_rename),
		T(test_symlinks_followed),
		T(test_single_file_and_missing_path),
		T(test_folder_loop_counts),
		T(test_env_value_files),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
