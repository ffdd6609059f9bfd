/* readfile.c: a bounded, non-blocking reader of whole regular files. */
#include "readfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

int
readfile(const char *path, size_t max, char **out, size_t *len, char *err,
    size_t errlen)
{
	struct stat st;
	char *buf = NULL, *nb, what[160];
	size_t cap, got = 0;
	int fd, rc, again = 0;
	ssize_t n;

	*out = NULL;
	*len = 0;
	fd = open(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		rc = -errno;
		if (rc == -ENOENT)
			return fail(rc, err, errlen, "does not exist");
		if (rc == -ELOOP)
			return fail(rc, err, errlen, "is a symbolic link (state "
			    "files are never followed through links)");
		snprintf(what, sizeof(what), "cannot open: %s", strerror(-rc));
		return fail(rc, err, errlen, what);
	}
	if (fstat(fd, &st) != 0) {
		rc = -errno;
		snprintf(what, sizeof(what), "cannot stat: %s", strerror(-rc));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = -EINVAL;
		snprintf(what, sizeof(what), "is %s, not a regular file",
		    readfile_kind((unsigned)st.st_mode));
		goto out;
	}
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
		n = read(fd, buf + got, cap - got);
		if (n > 0) {
			got += (size_t)n;
			continue;
		}
		if (n == 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN && ++again < EAGAIN_TRIES) {
			struct timespec ms = { 0, 1000000 };
			nanosleep(&ms, NULL);
			continue;
		}
		/* An error is an error: never the end of the file. */
		rc = -errno;
		snprintf(what, sizeof(what), "read error: %s", strerror(errno));
		goto out;
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
	rc = 0;
out:
	free(buf);
	close(fd);
	return rc != 0 ? fail(rc, err, errlen, what) : 0;
}
