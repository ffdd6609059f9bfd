/* lock.c: the single-instance lock: flock on state_dir/lock plus our pid. */
#include "lock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* The holder's pid as written in the file, or 0 if unreadable (it may be
 * between its flock and its write). */
static long
holder_pid(int fd)
{
	char buf[32];
	ssize_t n;
	char *end;
	long pid;

	n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	pid = strtol(buf, &end, 10);
	if (end == buf || (*end != '\n' && *end != '\0') || pid <= 0)
		return 0;
	return pid;
}

int
lock_acquire(const char *state_dir, char *err, size_t errlen)
{
	char path[4096], pid[32];
	struct stat st;
	int fd, rc, len;

	if (snprintf(path, sizeof(path), "%s/lock", state_dir) >= (int)sizeof(path)) {
		snprintf(err, errlen, "lock: state_dir too long");
		return -ENAMETOOLONG;
	}
	/* O_NONBLOCK: a FIFO there must not block; it is then refused. */
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK |
	    O_NOCTTY, 0644);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot open lock %s: %s", path, strerror(errno));
		return rc;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "lock %s is not a regular file: remove it",
		    path);
		close(fd);
		return -EINVAL;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		long holder;

		rc = -errno;
		if (rc != -EWOULDBLOCK) {
			snprintf(err, errlen, "cannot lock %s: %s", path, strerror(errno));
			close(fd);
			return rc;
		}
		if ((holder = holder_pid(fd)) > 0)
			snprintf(err, errlen, "another convex-provisioner (pid %ld) holds %s",
			    holder, path);
		else
			snprintf(err, errlen, "another convex-provisioner holds %s", path);
		close(fd);
		return rc;
	}
	/* Ours now: replace whatever pid an earlier run left behind. */
	len = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	errno = 0;
	if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)len, 0) != len) {
		rc = errno ? -errno : -EIO;
		snprintf(err, errlen, "cannot write pid to %s: %s", path, strerror(-rc));
		close(fd);
		return rc;
	}
	return fd;
}

void
lock_release(int fd)
{
	if (fd >= 0)
		close(fd);
}
