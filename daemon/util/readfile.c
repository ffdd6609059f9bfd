/* readfile.c: a bounded, non-blocking reader of whole regular files. */
#include "readfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define EAGAIN_TRIES 100        /* 1 ms apart: a regular file never needs it */

const char *
readfile_kind(unsigned mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG: return "a regular file";
	case S_IFDIR: return "a folder";
	case S_IFIFO: return "a FIFO (named pipe)";
	case S_IFSOCK: return "a socket";
	case S_IFCHR: return "a character device";
	case S_IFBLK: return "a block device";
	case S_IFLNK: return "a symbolic link";
	default: return "not a regular file";
	}
}

static int
fail(int rc, char *err, size_t errlen, const char *what)
{
	if (errlen > 0)
		snprintf(err, errlen, "%s", what);
	return rc;
}

/* Opens path as a regular file: the fd, or a negative errno with what. */
static int
open_regular(const char *path, unsigned flags, struct stat *st, char *what,
    size_t n)
{
	int fd, rc;

	memset(st, 0, sizeof(*st));
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY |
	    ((flags & READFILE_FOLLOW) ? 0 : O_NOFOLLOW));
	if (fd < 0) {
		rc = errno > 0 ? -errno : -EIO;
		if (rc == -ENOENT)
			snprintf(what, n, "does not exist");
		else if (rc == -ELOOP && !(flags & READFILE_FOLLOW))
			snprintf(what, n, "is a symbolic link (state files are "
			    "never followed through links)");
		else
			snprintf(what, n, "cannot open: %s", strerror(-rc));
		return rc;
	}
	if (fstat(fd, st) != 0) {
		rc = errno > 0 ? -errno : -EIO;
		snprintf(what, n, "cannot stat: %s", strerror(-rc));
	} else if (!S_ISREG(st->st_mode)) {
		rc = -EINVAL;
		snprintf(what, n, "is %s, not a regular file",
		    readfile_kind((unsigned)st->st_mode));
	} else {
		return fd;
	}
	close(fd);
	return rc;
}

/* One read: bytes read (0 at the end), or a negative errno (with what). */
static ssize_t
read_some(int fd, char *buf, size_t n, int *again, char *what, size_t wn)
{
	for (;;) {
		ssize_t r = read(fd, buf, n);

		if (r >= 0)
			return r;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN && ++*again < EAGAIN_TRIES) {
			struct timespec ms = { 0, 1000000 };

			nanosleep(&ms, NULL);
			continue;
		}
		/* An error is an error: never the end of the file. */
		snprintf(what, wn, "read error: %s", strerror(errno));
		return -errno;
	}
}

int
readfile_into(const char *path, unsigned flags, char *buf, size_t cap,
    size_t *len, struct stat *st, char *err, size_t errlen)
{
	struct stat own;
	char what[160];
	int fd, again = 0, rc = 0;

	*len = 0;
	if ((fd = open_regular(path, flags, st ? st : &own, what, sizeof(what))) < 0)
		return fail(fd, err, errlen, what);
	while (*len < cap) {
		ssize_t n = read_some(fd, buf + *len, cap - *len, &again, what,
		    sizeof(what));

		if (n < 0) {
			rc = (int)n;
			break;
		}
		if (n == 0)
			break;
		*len += (size_t)n;
	}
	close(fd);
	return rc != 0 ? fail(rc, err, errlen, what) : 0;
}

int
readfile_flags(const char *path, unsigned flags, size_t max, char **out,
    size_t *len, char *err, size_t errlen)
{
	struct stat st;
	char *buf = NULL, *nb, what[160];
	size_t cap, got = 0;
	int fd, rc = 0, again = 0;
	ssize_t n;

	*out = NULL;
	*len = 0;
	if ((fd = open_regular(path, flags, &st, what, sizeof(what))) < 0)
		return fail(fd, err, errlen, what);
	if ((size_t)st.st_size > max) {
		rc = -EFBIG;
		snprintf(what, sizeof(what), "is larger than %zu bytes", max);
		goto out;
	}
	/* The size is a hint: the file may grow or shrink while it is read.
	 * Read to the end, one byte past max at most. */
	cap = (size_t)st.st_size + 1;
	if ((buf = malloc(cap + 1)) == NULL) {
		rc = -ENOMEM;
		snprintf(what, sizeof(what), "out of memory");
		goto out;
	}
	for (;;) {
		if (got == cap) {
			size_t ncap = cap * 2 > max + 1 ? max + 1 : cap * 2;

			if (ncap <= cap) {
				rc = -EFBIG;
				snprintf(what, sizeof(what), "is larger than %zu bytes",
				    max);
				goto out;
			}
			if ((nb = realloc(buf, ncap + 1)) == NULL) {
				rc = -ENOMEM;
				snprintf(what, sizeof(what), "out of memory");
				goto out;
			}
			buf = nb;
			cap = ncap;
		}
		if ((n = read_some(fd, buf + got, cap - got, &again, what,
		    sizeof(what))) < 0) {
			rc = (int)n;
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (got > max) {
		rc = -EFBIG;
		snprintf(what, sizeof(what), "is larger than %zu bytes", max);
		goto out;
	}
	buf[got] = '\0';
	*out = buf;
	*len = got;
	buf = NULL;
out:
	free(buf);
	close(fd);
	return rc != 0 ? fail(rc, err, errlen, what) : 0;
}

int
readfile(const char *path, size_t max, char **out, size_t *len, char *err,
    size_t errlen)
{
	return readfile_flags(path, 0, max, out, len, err, errlen);
}
