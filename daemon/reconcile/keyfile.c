/* keyfile.c: deploy key secret files, written atomically under keys_dir
 * (keyfile.h). */
#include "keyfile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cdefs.h"
#include "keypath.h"

static void CP_PRINTF(3, 4)
seterr(char *err, size_t n, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || n == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, n, fmt, ap);
	va_end(ap);
}

int
keyfile_path(char *out, size_t n, const char *keys_dir, const char *project,
    const char *reference, const char *key)
{
	char rel[KEYPATH_MAX];
	int rc;

	if ((rc = keypath_relative(rel, sizeof(rel), project, reference, key)) != 0)
		return rc;
	if ((size_t)snprintf(out, n, "%s/%s", keys_dir, rel) >= n)
		return -ENAMETOOLONG;
	return 0;
}

/* errno as a negative result, never 0. */
static int
errno_rc(void)
{
	int e = errno;

	return e > 0 ? -e : -EIO;
}

/* mkdir -p of keys_dir itself (it is the operator's path: links in it
 * are followed), each new folder 0700. */
static int
make_base(const char *keys_dir, char *err, size_t errlen)
{
	char path[PATH_MAX];
	size_t len = strlen(keys_dir);

	if (len == 0 || len >= sizeof(path)) {
		seterr(err, errlen, "keys_dir \"%s\" is not a usable path", keys_dir);
		return -EINVAL;
	}
	memcpy(path, keys_dir, len + 1);
	for (size_t i = 1; i <= len; i++) {
		if (path[i] != '/' && path[i] != '\0')
			continue;
		path[i] = '\0';
		if (mkdir(path, 0700) != 0 && errno != EEXIST) {
			int rc = -errno;

			seterr(err, errlen, "cannot make %s: %s", path, strerror(errno));
			return rc;
		}
		if (i < len)
			path[i] = '/';
	}
	return 0;
}

/* Opens (making it 0700 if needed) each folder of `rel` below keys_dir,
 * without following links; returns the last one's descriptor and leaves
 * the file's own name in *leaf, or a negative errno. With `make` false,
 * nothing is made. */
static int
open_dirs(const char *keys_dir, const char *rel, bool make, const char **leaf,
    char *err, size_t errlen)
{
	char comp[KEYPATH_MAX];
	const char *p = rel, *slash;
	int dfd, nfd, rc;

	*leaf = NULL;
	if ((dfd = open(keys_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		rc = errno_rc();
		seterr(err, errlen, "cannot open %s: %s", keys_dir, strerror(errno));
		return rc;
	}
	while ((slash = strchr(p, '/')) != NULL) {
		size_t n = (size_t)(slash - p);
		bool made = false;

		memcpy(comp, p, n);
		comp[n] = '\0';
		if (make) {
			if (mkdirat(dfd, comp, 0700) == 0)
				made = true;
			else if (errno != EEXIST)
				goto fail;
		}
		if ((nfd = openat(dfd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC)) < 0)
			goto fail;
		/* A new folder is durable once its parent is synced. */
		if (made && fsync(dfd) != 0) {
			close(nfd);
			goto fail;
		}
		close(dfd);
		dfd = nfd;
		p = slash + 1;
	}
	*leaf = p;
	return dfd;
fail:
	rc = errno_rc();
	{
		struct stat st;

		/* O_NOFOLLOW | O_DIRECTORY on a link says ENOTDIR: say why. */
		if ((rc == -ENOTDIR || rc == -ELOOP) &&
		    fstatat(dfd, comp, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
			rc = -ELOOP;
	}
	seterr(err, errlen, "%s/%.*s: %s", keys_dir, (int)(p - rel + strlen(comp)),
	    rel, rc == -ELOOP ? "a symbolic link, not followed" : strerror(-rc));
	close(dfd);
	return rc;
}

int
keyfile_prepare(const char *keys_dir, const char *project,
    const char *reference, const char *key, char *err, size_t errlen)
{
	char rel[KEYPATH_MAX];
	const char *leaf;
	int rc, dfd;

	if ((rc = keypath_relative(rel, sizeof(rel), project, reference, key)) != 0) {
		seterr(err, errlen, "no path for the key's secret file: %s", strerror(-rc));
		return rc;
	}
	if ((rc = make_base(keys_dir, err, errlen)) != 0)
		return rc;
	if ((dfd = open_dirs(keys_dir, rel, true, &leaf, err, errlen)) < 0)
		return dfd;
	close(dfd);
	return 0;
}

static int
write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
keyfile_write(const char *keys_dir, const char *project,
    const char *reference, const char *key, const char *secret, char *err,
    size_t errlen)
{
	char rel[KEYPATH_MAX], tmp[KEYPATH_SEGMENT_MAX + 16];
	const char *leaf;
	int rc, dfd, fd;

	if ((rc = keypath_relative(rel, sizeof(rel), project, reference, key)) != 0) {
		seterr(err, errlen, "no path for the key's secret file: %s", strerror(-rc));
		return rc;
	}
	if ((dfd = open_dirs(keys_dir, rel, true, &leaf, err, errlen)) < 0)
		return dfd;
	if (leaf == NULL) {         /* never: open_dirs sets it on success */
		close(dfd);
		return -EIO;
	}
	/* ENC never starts a name with '.': the temporary name is nobody's. */
	snprintf(tmp, sizeof(tmp), ".%s.tmp", leaf);
	if (unlinkat(dfd, tmp, 0) != 0 && errno != ENOENT) {
		rc = -errno;
		goto out;
	}
	fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC |
	    O_NONBLOCK, 0600);
	if (fd < 0) {
		rc = -errno;
		goto out;
	}
	rc = write_all(fd, secret, strlen(secret));
	if (rc == 0 && fchmod(fd, 0600) != 0)
		rc = -errno;
	if (rc == 0 && fsync(fd) != 0)
		rc = -errno;
	if (close(fd) != 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && renameat(dfd, tmp, dfd, leaf) != 0)
		rc = -errno;
	if (rc != 0)
		unlinkat(dfd, tmp, 0);
	else if (fsync(dfd) != 0)
		rc = -errno;
out:
	if (rc != 0)
		seterr(err, errlen, "cannot write %s/%s: %s", keys_dir, rel, strerror(-rc));
	close(dfd);
	return rc;
}

int
keyfile_remove(const char *keys_dir, const char *project,
    const char *reference, const char *key, char *err, size_t errlen)
{
	char rel[KEYPATH_MAX];
	const char *leaf;
	int rc, dfd;

	if ((rc = keypath_relative(rel, sizeof(rel), project, reference, key)) != 0)
		return rc;
	if ((dfd = open_dirs(keys_dir, rel, false, &leaf, err, errlen)) < 0)
		return dfd == -ENOENT ? 0 : dfd;
	if (leaf == NULL) {         /* never: open_dirs sets it on success */
		close(dfd);
		return -EIO;
	}
	rc = 0;
	if (unlinkat(dfd, leaf, 0) != 0 && errno != ENOENT) {
		rc = -errno;
		seterr(err, errlen, "cannot remove %s/%s: %s", keys_dir, rel, strerror(errno));
	} else if (fsync(dfd) != 0) {
		rc = -errno;
	}
	close(dfd);
	return rc;
}
