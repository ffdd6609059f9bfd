/* test_lock.c: a second instance cannot take state_dir/lock and is told
 * which pid holds it. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "lock.h"

struct child_result {
	int rc;
	char err[400];
};

/* lock_acquire in a forked child; what it got comes back through a pipe. */
static struct child_result
try_in_child(const char *dir)
{
	struct child_result r;
	int pfd[2], status;
	pid_t pid;
	ssize_t n;

	memset(&r, 0, sizeof(r));
	assert_int_equal(pipe(pfd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct child_result c;

		memset(&c, 0, sizeof(c));
		close(pfd[0]);
		c.rc = lock_acquire(dir, c.err, sizeof(c.err));
		if (write(pfd[1], &c, sizeof(c)) != (ssize_t)sizeof(c))
			_exit(2);
		_exit(0);                 /* exiting releases the child's lock */
	}
	close(pfd[1]);
	n = read(pfd[0], &r, sizeof(r));
	close(pfd[0]);
	assert_int_equal(n, (ssize_t)sizeof(r));
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	return r;
}

static char *
slurp(const char *path)
{
	static char buf[256];
	FILE *f = fopen(path, "r");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void
test_second_instance_named(void **state)
{
	char dir[] = "/tmp/cp-lock-XXXXXX", path[300], want[400], pidline[32];
	char err[400];
	struct child_result r;
	int fd;
	(void)state;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/lock", dir);
	/* a stale, longer pid from an earlier run is replaced, not overwritten in part */
	{
		FILE *f = fopen(path, "w");

		assert_non_null(f);
		fputs("123456789012\n", f);
		fclose(f);
	}
	fd = lock_acquire(dir, err, sizeof(err));
	assert_true(fd >= 0);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	snprintf(pidline, sizeof(pidline), "%ld\n", (long)getpid());
	assert_string_equal(slurp(path), pidline);

	r = try_in_child(dir);
	assert_int_equal(r.rc, -EWOULDBLOCK);
	snprintf(want, sizeof(want), "another convex-provisioner (pid %ld) holds %s",
	    (long)getpid(), path);
	assert_string_equal(r.err, want);
	/* the failed attempt did not disturb the holder's pid */
	assert_string_equal(slurp(path), pidline);

	/* once released, the next instance takes it and writes its own pid */
	lock_release(fd);
	r = try_in_child(dir);
	assert_true(r.rc >= 0);
	assert_string_not_equal(slurp(path), pidline);
	fd = lock_acquire(dir, err, sizeof(err));
	assert_true(fd >= 0);
	assert_string_equal(slurp(path), pidline);
	lock_release(fd);
	lock_release(-1);
	unlink(path);
	rmdir(dir);
}

static void
test_holder_without_pid(void **state)
{
	char dir[] = "/tmp/cp-lock-XXXXXX", path[300], want[400], err[400];
	int other;
	(void)state;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/lock", dir);
	/* a holder that has not written its pid yet: flock binds to the open
	 * file, so our own second open conflicts just like another process */
	other = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	assert_true(other >= 0);
	assert_int_equal(flock(other, LOCK_EX | LOCK_NB), 0);
	assert_int_equal(lock_acquire(dir, err, sizeof(err)), -EWOULDBLOCK);
	snprintf(want, sizeof(want), "another convex-provisioner holds %s", path);
	assert_string_equal(err, want);
	close(other);
	unlink(path);
	rmdir(dir);
}

static void
test_missing_dir(void **state)
{
	char err[400];
	(void)state;

	assert_int_equal(lock_acquire("/nonexistent/cp-lock-test", err, sizeof(err)),
	    -ENOENT);
	assert_non_null(strstr(err, "cannot open lock /nonexistent/cp-lock-test/lock"));
}

/* A FIFO at the lock's path is refused at once, never blocked on. */
static void
test_fifo_refused(void **state)
{
	char dir[] = "/tmp/cp-lock-fifo-XXXXXX", path[128], err[400];
	(void)state;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/lock", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	alarm(10);
	assert_int_equal(lock_acquire(dir, err, sizeof(err)), -EINVAL);
	alarm(0);
	assert_non_null(strstr(err, "not a regular file"));
	unlink(path);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_second_instance_named),
		cmocka_unit_test(test_holder_without_pid),
		cmocka_unit_test(test_missing_dir),
		cmocka_unit_test(test_fifo_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
