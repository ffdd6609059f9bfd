/* keyfile.c: deploy key secret files, written atomically under keys_dir
 * (keyfile.h). */
#include "keyfile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomicfile.h"
#include "keypath.h"
#include "model.h"
#include "strcut.h"

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
		strcut_printf(err, errlen, "keys_dir \"%s\" is not a usable path", keys_dir);
		return -EINVAL;
	}
	memcpy(path, keys_dir, len + 1);
	for (size_t i = 1; i <= len; i++) {
		if (path[i] != '/' && path[i] != '\0')
			continue;
		path[i] = '\0';
		if (mkdir(path, 0700) != 0 && errno != EEXIST) {
			int rc = -errno;

			strcut_printf(err, errlen, "cannot make %s: %s", path, strerror(errno));
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
		strcut_printf(err, errlen, "cannot open %s: %s", keys_dir, strerror(errno));
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
	strcut_printf(err, errlen, "%s/%.*s: %s", keys_dir, (int)(p - rel + strlen(comp)),
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
		strcut_printf(err, errlen, "no path for the key's secret file: %s", strerror(-rc));
		return rc;
	}
	if ((rc = make_base(keys_dir, err, errlen)) != 0)
		return rc;
	if ((dfd = open_dirs(keys_dir, rel, true, &leaf, err, errlen)) < 0)
		return dfd;
	close(dfd);
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
		strcut_printf(err, errlen, "no path for the key's secret file: %s", strerror(-rc));
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
	rc = atomicfile_write_all(fd, secret, strlen(secret));
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
		strcut_printf(err, errlen, "cannot write %s/%s: %s", keys_dir, rel, strerror(-rc));
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
		strcut_printf(err, errlen, "cannot remove %s/%s: %s", keys_dir, rel, strerror(errno));
	} else if (fsync(dfd) != 0) {
		rc = -errno;
	}
	close(dfd);
	return rc;
}

/* ---- renames (SPEC section 8): the file follows the declared names ------ */

/* A regular file at the key's path (as observation has always looked:
 * stat, so a link to a file counts). */
static bool
exists_at(const char *keys_dir, const char *project, const char *reference,
    const char *key)
{
	char path[KEYPATH_MAX + PATH_MAX];
	struct stat st;

	if (keyfile_path(path, sizeof(path), keys_dir, project, reference, key) != 0)
		return false;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int
keyfile_locate(const char *keys_dir, const struct desired_project *dp,
    const struct desired_deployment *dd, const char *key,
    const char **project, const char **reference)
{
	*project = dp->name;
	*reference = dd->reference;
	if (keys_dir == NULL)
		return -ENOENT;
	if (exists_at(keys_dir, dp->name, dd->reference, key))
		return 0;
	/* Every earlier (project, reference) pair: the deployment renamed,
	 * the project renamed, or both. renamed_from names are declared
	 * nowhere else (desired_checks.c), so these paths are nobody else's. */
	for (size_t i = 0; i <= dp->n_renamed_from; i++) {
		const char *p = i == 0 ? dp->name : dp->renamed_from[i - 1];

		for (size_t j = 0; j <= dd->n_renamed_from; j++) {
			const char *r = j == 0 ? dd->reference : dd->renamed_from[j - 1];

			if ((i == 0 && j == 0) || !exists_at(keys_dir, p, r, key))
				continue;
			*project = p;
			*reference = r;
			return 1;
		}
	}
	return -ENOENT;
}

int
keyfile_move(const char *keys_dir, const char *from_project,
    const char *from_reference, const char *to_project, const char *to_reference,
    const char *key, char *err, size_t errlen)
{
	char from[KEYPATH_MAX], to[KEYPATH_MAX];
	const char *sleaf, *dleaf;
	int rc, sfd, dfd;

	if ((rc = keypath_relative(from, sizeof(from), from_project, from_reference,
	    key)) != 0 || (rc = keypath_relative(to, sizeof(to), to_project,
	    to_reference, key)) != 0) {
		strcut_printf(err, errlen, "no path for the key's secret file: %s", strerror(-rc));
		return rc;
	}
	if ((rc = make_base(keys_dir, err, errlen)) != 0)
		return rc;
	if ((sfd = open_dirs(keys_dir, from, false, &sleaf, err, errlen)) < 0)
		return sfd;
	if ((dfd = open_dirs(keys_dir, to, true, &dleaf, err, errlen)) < 0) {
		close(sfd);
		return dfd;
	}
	/* A hard link, then the old name goes: the new path appears whole,
	 * an existing file there is never replaced, and at every moment the
	 * secret is under one name at least. */
	if (sleaf == NULL || dleaf == NULL) {
		rc = -EINVAL;      /* open_dirs gives a leaf whenever it succeeds */
		strcut_printf(err, errlen, "no file name in %s or %s", from, to);
	} else if (linkat(sfd, sleaf, dfd, dleaf, 0) != 0) {
		rc = -errno;
		strcut_printf(err, errlen, "cannot move %s/%s to %s/%s: %s", keys_dir, from,
		    keys_dir, to, rc == -EEXIST ? "a file is there already" :
		    strerror(-rc));
	} else if (fsync(dfd) != 0) {
		rc = -errno;
		strcut_printf(err, errlen, "cannot sync the folder of %s/%s: %s", keys_dir,
		    to, strerror(-rc));
	} else if (unlinkat(sfd, sleaf, 0) != 0 || fsync(sfd) != 0) {
		rc = -errno;
		strcut_printf(err, errlen, "%s/%s is moved but its old name %s/%s stays: %s",
		    keys_dir, to, keys_dir, from, strerror(-rc));
	}
	close(sfd);
	close(dfd);
	return rc;
}

int
keyfile_follow_renames(const char *keys_dir, const struct desired_state *ds,
    size_t *moved, char *err, size_t errlen)
{
	int first = 0;

	*moved = 0;
	if (keys_dir == NULL)
		return 0;
	for (size_t i = 0; i < ds->n_projects; i++) {
		const struct desired_project *dp = &ds->projects[i];

		if (dp->absent)
			continue;
		for (size_t j = 0; j < dp->n_deployments; j++) {
			const struct desired_deployment *dd = &dp->deployments[j];

			if (dd->absent || (dp->n_renamed_from == 0 && dd->n_renamed_from == 0))
				continue;
			for (size_t k = 0; k < dd->n_deploy_keys; k++) {
				const char *key = dd->deploy_keys[k], *p, *r;
				char why[KEYPATH_MAX * 2 + 600];
				int rc;

				if (keyfile_locate(keys_dir, dp, dd, key, &p, &r) != 1)
					continue;
				rc = keyfile_move(keys_dir, p, r, dp->name, dd->reference,
				    key, why, sizeof(why));
				if (rc == 0)
					(*moved)++;
				else if (first == 0) {
					first = rc;
					strcut_printf(err, errlen, "%s", why);
				}
			}
		}
	}
	return first;
}
