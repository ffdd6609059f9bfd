/* test_notify.c: the datagrams a service manager would get on
 * NOTIFY_SOCKET, and the watchdog pings from the loop. */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <uv.h>

#include "notify.h"

struct fixture {
	char dir[32];
	char path[64];
	int fd;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct sockaddr_un sa;

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/cp-notify-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/notify", f->dir);
	f->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	assert_true(f->fd >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", f->path);
	assert_int_equal(bind(f->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(setenv("NOTIFY_SOCKET", f->path, 1), 0);
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	close(f->fd);
	unlink(f->path);
	rmdir(f->dir);
	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	free(f);
	return 0;
}

/* The next datagram, waiting up to 10 s. */
static char *
next_msg(struct fixture *f)
{
	static char buf[2048];
	struct pollfd pfd = { f->fd, POLLIN, 0 };
	ssize_t n;

	assert_int_equal(poll(&pfd, 1, 10000), 1);
	n = recv(f->fd, buf, sizeof(buf) - 1, 0);
	assert_true(n > 0);
	buf[n] = '\0';
	return buf;
}

static unsigned long long
mono_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000000ULL +
	    (unsigned long long)ts.tv_nsec / 1000ULL;
}

static void
test_messages(void **state)
{
	struct fixture *f = *state;
	unsigned long long before, after, usec;
	char longline[2000], *m, *end;
	size_t n;

	notify_ready();
	assert_string_equal(next_msg(f), "READY=1");

	notify_status("3 created,\n1 drift");
	assert_string_equal(next_msg(f), "STATUS=3 created, 1 drift");

	memset(longline, 'x', sizeof(longline) - 1);
	longline[sizeof(longline) - 1] = '\0';
	notify_status(longline);
	m = next_msg(f);
	assert_int_equal(strlen(m), strlen("STATUS=") + NOTIFY_STATUS_MAX);
	assert_null(strchr(m, '\n'));

	before = mono_usec();
	notify_reloading();
	after = mono_usec();
	m = next_msg(f);
	/* both in ONE datagram, the clock taken during the call */
	n = strlen("RELOADING=1\nMONOTONIC_USEC=");
	assert_int_equal(strncmp(m, "RELOADING=1\nMONOTONIC_USEC=", n), 0);
	usec = strtoull(m + n, &end, 10);
	assert_true(end > m + n && *end == '\0');
	assert_true(usec >= before && usec <= after);
	notify_ready();
	assert_string_equal(next_msg(f), "READY=1");

	notify_stopping();
	assert_string_equal(next_msg(f), "STOPPING=1");
}

static void
test_without_socket_nothing_sent(void **state)
{
	struct fixture *f = *state;

	unsetenv("NOTIFY_SOCKET");
	notify_ready();
	notify_status("x");
	notify_reloading();
	assert_int_equal(setenv("NOTIFY_SOCKET", f->path, 1), 0);
	notify_stopping();
	/* the first datagram is the one sent with the socket set */
	assert_string_equal(next_msg(f), "STOPPING=1");
}

struct ping_run {
	struct fixture *f;
	struct notify_watchdog *w;
	uv_poll_t poll;
	uv_timer_t guard;
	int pings;
	int other;
	uint64_t t0, t3;
};

static void
on_guard(uv_timer_t *t)
{
	(void)t;
	fail_msg("no three WATCHDOG=1 pings within 20 s");
}

static void
on_dgram(uv_poll_t *p, int status, int events)
{
	struct ping_run *r = p->data;
	char buf[256];
	ssize_t n;

	assert_int_equal(status, 0);
	(void)events;
	while ((n = recv(r->f->fd, buf, sizeof(buf) - 1, 0)) > 0) {
		buf[n] = '\0';
		if (strcmp(buf, "WATCHDOG=1") == 0)
			r->pings++;
		else
			r->other++;
	}
	if (r->pings >= 3 && r->w != NULL) {
		r->t3 = uv_hrtime();
		notify_watchdog_stop(r->w);
		r->w = NULL;
		uv_close((uv_handle_t *)&r->poll, NULL);
		uv_close((uv_handle_t *)&r->guard, NULL);
	}
}

static void
test_watchdog_pings(void **state)
{
	struct ping_run r;
	uv_loop_t loop;
	char pid[32];

	memset(&r, 0, sizeof(r));
	r.f = *state;
	assert_int_equal(uv_loop_init(&loop), 0);
	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	assert_int_equal(setenv("WATCHDOG_USEC", "200000", 1), 0);
	assert_int_equal(setenv("WATCHDOG_PID", pid, 1), 0);

	r.t0 = uv_hrtime();
	assert_int_equal(notify_watchdog_start(&loop, &r.w), 0);
	assert_non_null(r.w);
	assert_int_equal(notify_watchdog_period(r.w), 100);
	assert_int_equal(uv_poll_init(&loop, &r.poll, r.f->fd), 0);
	r.poll.data = &r;
	assert_int_equal(uv_poll_start(&r.poll, UV_READABLE, on_dgram), 0);
	assert_int_equal(uv_timer_init(&loop, &r.guard), 0);
	assert_int_equal(uv_timer_start(&r.guard, on_guard, 20000, 0), 0);
	assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);

	assert_true(r.pings >= 3);
	assert_int_equal(r.other, 0);
	/* one ping at the start, then one per period: three need two periods */
	assert_true(r.t3 - r.t0 >= 2 * 100 * 1000000ULL - 5000000ULL);
	assert_int_equal(uv_loop_close(&loop), 0);
}

static void
test_watchdog_off(void **state)
{
	struct notify_watchdog *w = (struct notify_watchdog *)1;
	uv_loop_t loop;
	(void)state;

	assert_int_equal(uv_loop_init(&loop), 0);
	/* not asked for */
	assert_int_equal(notify_watchdog_start(&loop, &w), 0);
	assert_null(w);
	assert_int_equal(uv_loop_alive(&loop), 0);
	/* asked for another process (WATCHDOG_PID is not ours) */
	assert_int_equal(setenv("WATCHDOG_USEC", "200000", 1), 0);
	assert_int_equal(setenv("WATCHDOG_PID", "1", 1), 0);
	w = (struct notify_watchdog *)1;
	assert_int_equal(notify_watchdog_start(&loop, &w), 0);
	assert_null(w);
	assert_int_equal(uv_loop_alive(&loop), 0);
	/* garbage is not a request (the protocol is spoken here, not by
	 * libsystemd: issue 15) */
	unsetenv("WATCHDOG_PID");
	assert_int_equal(setenv("WATCHDOG_USEC", "12x", 1), 0);
	w = (struct notify_watchdog *)1;
	assert_int_equal(notify_watchdog_start(&loop, &w), 0);
	assert_null(w);
	assert_int_equal(setenv("WATCHDOG_USEC", "-5", 1), 0);
	assert_int_equal(notify_watchdog_start(&loop, &w), 0);
	assert_null(w);
	assert_int_equal(uv_loop_alive(&loop), 0);
	notify_watchdog_stop(NULL);
	assert_int_equal(notify_watchdog_period(NULL), 0);
	assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
	assert_int_equal(uv_loop_close(&loop), 0);
}

/* NOTIFY_SOCKET="@name": a socket in the abstract namespace (what systemd
 * hands to services in a container, say): the name without the '@',
 * after a NUL, no NUL at the end. */
static void
test_abstract_socket(void **state)
{
	struct sockaddr_un sa;
	char name[64], env[72], buf[256];
	struct pollfd pfd;
	ssize_t n;
	int fd;
	(void)state;

	snprintf(name, sizeof(name), "cp-notify-test-%d", (int)getpid());
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	assert_true(fd >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path + 1, name, strlen(name));
	assert_int_equal(bind(fd, (struct sockaddr *)&sa,
	    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name))), 0);
	snprintf(env, sizeof(env), "@%s", name);
	assert_int_equal(setenv("NOTIFY_SOCKET", env, 1), 0);
	notify_ready();
	pfd.fd = fd;
	pfd.events = POLLIN;
	pfd.revents = 0;
	assert_int_equal(poll(&pfd, 1, 10000), 1);
	n = recv(fd, buf, sizeof(buf) - 1, 0);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_string_equal(buf, "READY=1");
	/* A relative path is not an address systemd gives: nothing sent,
	 * nothing breaks. */
	assert_int_equal(setenv("NOTIFY_SOCKET", "relative/path", 1), 0);
	notify_stopping();
	assert_int_equal(poll(&pfd, 1, 100), 0);
	close(fd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_messages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_without_socket_nothing_sent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_watchdog_pings, setup, teardown),
		cmocka_unit_test_setup_teardown(test_watchdog_off, setup, teardown),
		cmocka_unit_test_setup_teardown(test_abstract_socket, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
