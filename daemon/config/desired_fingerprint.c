/* desired_fingerprint.c: one walk of desired_files_list, one stat(2) per
 * file (stat, not lstat: the loader opens the path and so follows a
 * symbolic link), each file's record hashed on its own and the record
 * hashes fed, in load order, to the digest. Only recent files are read. */
#include "desired_fingerprint.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "desired_files.h"
#include "diag.h"
#include "siphash.h"
#include "ytree.h"

/* Fixed (its first 16 bytes): the digest is the same from one run to the
 * next. */
static const char keytext[SIPHASH_KEY_LEN + 1] = "cp-desired-fp-v1";
#define key ((const uint8_t *)keytext)

/* Values are fed in a fixed width and byte order, so a digest does not
 * depend on the width of dev_t or off_t. */
static void
put_u64(struct siphash *h, uint64_t v)
{
	uint8_t b[8];

	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	siphash_update(h, b, sizeof(b));
}

static void
put_str(struct siphash *h, const char *s)
{
	siphash_update(h, s, strlen(s) + 1);
}

uint64_t
desired_fingerprint_file(const char *rel, const struct stat *st, int err)
{
	struct siphash h;

	siphash_init(&h, key);
	put_str(&h, rel);
	put_u64(&h, (uint64_t)(int64_t)err);
	if (err == 0) {
		put_u64(&h, (uint64_t)st->st_dev);
		put_u64(&h, (uint64_t)st->st_ino);
		put_u64(&h, (uint64_t)st->st_mode);
		put_u64(&h, (uint64_t)st->st_size);
		put_u64(&h, (uint64_t)st->st_mtim.tv_sec);
		put_u64(&h, (uint64_t)st->st_mtim.tv_nsec);
		put_u64(&h, (uint64_t)st->st_ctim.tv_sec);
		put_u64(&h, (uint64_t)st->st_ctim.tv_nsec);
	}
	return siphash_final(&h);
}

static int
ts_cmp(const struct timespec *a, const struct timespec *b)
{
	if (a->tv_sec != b->tv_sec)
		return a->tv_sec < b->tv_sec ? -1 : 1;
	if (a->tv_nsec != b->tv_nsec)
		return a->tv_nsec < b->tv_nsec ? -1 : 1;
	return 0;
}

static struct timespec
ts_add_ms(const struct timespec *t, long ms)
{
	struct timespec r = *t;

	r.tv_sec += ms / 1000;
	r.tv_nsec += (ms % 1000) * 1000000L;
	if (r.tv_nsec < 0) {
		r.tv_nsec += 1000000000L;
		r.tv_sec--;
	} else if (r.tv_nsec >= 1000000000L) {
		r.tv_nsec -= 1000000000L;
		r.tv_sec++;
	}
	return r;
}

/* The later of mtime and ctime: ctime moves on every write and cannot be
 * set back, mtime can (touch -d, rsync -t). */
static const struct timespec *
stamp(const struct stat *st)
{
	return ts_cmp(&st->st_mtim, &st->st_ctim) >= 0 ? &st->st_mtim : &st->st_ctim;
}

/* The file's bytes into h, up to one more than the loader reads: beyond
 * that the loader refuses the file, whatever it holds. A file that cannot
 * be read adds its errno. */
static void
put_content(struct siphash *h, const char *path)
{
	uint8_t buf[16384];
	size_t total = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

	if (fd < 0) {
		put_u64(h, (uint64_t)(int64_t)errno);
		return;
	}
	while (total <= YTREE_MAX_BYTES) {
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n < 0)
				put_u64(h, (uint64_t)(int64_t)errno);
			break;
		}
		siphash_update(h, buf, (size_t)n);
		total += (size_t)n;
	}
	put_u64(h, total);
	close(fd);
}

/* The path as the loader's list spells it, less the desired path and the
 * slash after it ("" for the desired path itself, a file). */
static const char *
relative(const char *root, const char *path)
{
	size_t n = strlen(root);

	if (strncmp(path, root, n) != 0)
		return path;
	path += n;
	return *path == '/' ? path + 1 : path;
}

/* The fingerprint with the bytes of every regular file stamped in
 * [since, now + RECENT] in `content`; *unsettled counts the files stamped
 * in [now - RECENT, now + RECENT]. A stamp further ahead than that is not
 * recent: any write would move it back to the present. */
static int
scan(const char *path, const struct timespec *now, const struct timespec *since,
    struct desired_fingerprint *out, size_t *unsettled)
{
	struct timespec settle = ts_add_ms(now, -DESIRED_FINGERPRINT_RECENT_MS);
	struct timespec ahead = ts_add_ms(now, DESIRED_FINGERPRINT_RECENT_MS);
	struct desired_files files;
	struct siphash h, c;
	struct diag dg;
	char line[1024];
	int rc;

	memset(out, 0, sizeof(*out));
	out->since = *since;
	*unsettled = 0;
	diag_init(&dg);
	rc = desired_files_list(path, &files, &dg);
	if (rc == -ENOMEM) {
		diag_free(&dg);
		return rc;
	}
	siphash_init(&h, key);
	siphash_init(&c, key);
	put_u64(&h, (uint64_t)(int64_t)rc);
	put_u64(&h, files.is_dir);
	put_u64(&h, files.n);
	for (size_t i = 0; i < files.n; i++) {
		const char *rel = relative(path, files.paths[i]);
		struct stat st;
		int err = stat(files.paths[i], &st) == 0 ? 0 : errno;
		const struct timespec *t;

		put_u64(&h, desired_fingerprint_file(rel, &st, err));
		if (err != 0 || !S_ISREG(st.st_mode))
			continue;
		t = stamp(&st);
		if (ts_cmp(t, &ahead) > 0)
			continue;
		if (ts_cmp(t, &settle) >= 0)
			(*unsettled)++;
		if (ts_cmp(t, since) >= 0) {
			put_str(&c, rel);
			put_content(&c, files.paths[i]);
			out->n_recent++;
		}
	}
	/* A folder that cannot be read, a symbolic-link loop: the loader
	 * fails on them, and their going away is a change too. */
	for (size_t i = 0; i < dg.n; i++) {
		diag_format(&dg.items[i], line, sizeof(line));
		put_str(&h, line);
	}
	put_u64(&h, dg.n_errors);
	out->digest = siphash_final(&h);
	out->content = out->n_recent > 0 ? siphash_final(&c) : 0;
	out->n_files = files.n;
	desired_files_free(&files);
	diag_free(&dg);
	return 0;
}

int
desired_fingerprint_take_at(const char *path, const struct timespec *now,
    struct desired_fingerprint *out)
{
	struct timespec since = ts_add_ms(now, -DESIRED_FINGERPRINT_RECENT_MS);
	size_t unsettled;

	return scan(path, now, &since, out, &unsettled);
}

int
desired_fingerprint_check_at(const char *path, const struct timespec *now,
    struct desired_fingerprint *fp, bool *changed)
{
	struct desired_fingerprint cur;
	size_t unsettled;
	int rc;

	*changed = true;
	/* The bytes of the same files as fp holds, and of any stamped since:
	 * those with the same stat data are exactly fp's. */
	if ((rc = scan(path, now, &fp->since, &cur, &unsettled)) != 0)
		return rc;
	*changed = cur.digest != fp->digest || cur.content != fp->content;
	if (!*changed && unsettled == 0) {
		/* settled: no write can keep these stamps any more */
		fp->since = ts_add_ms(now, -DESIRED_FINGERPRINT_RECENT_MS);
		fp->content = 0;
		fp->n_recent = 0;
	}
	return 0;
}

static struct timespec
realtime(void)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	return now;
}

int
desired_fingerprint_take(const char *path, struct desired_fingerprint *out)
{
	struct timespec now = realtime();

	return desired_fingerprint_take_at(path, &now, out);
}

int
desired_fingerprint_check(const char *path, struct desired_fingerprint *fp,
    bool *changed)
{
	struct timespec now = realtime();

	return desired_fingerprint_check_at(path, &now, fp, changed);
}

void
desired_fingerprint_hex(const struct desired_fingerprint *fp, char *out,
    size_t len)
{
	snprintf(out, len, "%016llx", (unsigned long long)fp->digest);
}
