/* notify.c: the systemd notify protocol and the loop-driven watchdog ping.
 *
 * The protocol is one datagram of "KEY=VALUE" lines to the AF_UNIX socket
 * named by NOTIFY_SOCKET (a path, or "@name" in the abstract namespace), and
 * the watchdog is asked for by WATCHDOG_USEC (with WATCHDOG_PID, when set,
 * naming this process): sd_notify(3), sd_watchdog_enabled(3). It is spoken
 * here directly rather than through libsystemd, whose libraries (libgcrypt,
 * liblzma, liblz4, libcap ...) cost every command about half a MiB of
 * resident pages for two calls that only `run` makes (SPEC section 12,
 * docs/performance.md). Send errors are ignored on purpose: the daemon runs
 * the same with or without a service manager listening. */
#include "notify.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* Sends msg to NOTIFY_SOCKET; 1 sent, 0 no socket asked for, < 0 failed. */
static int
notify_send(const char *msg)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa;
	size_t len;
	socklen_t salen;
	ssize_t n;
	int fd, err = 0;

	if (path == NULL || path[0] == '\0')
		return 0;
	len = strlen(path);
	if ((path[0] != '/' && path[0] != '@') || len >= sizeof(sa.sun_path))
		return -EAFNOSUPPORT;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, len);
	if (path[0] == '@')
		sa.sun_path[0] = '\0';      /* abstract: no NUL at the end */
	salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len +
	    (path[0] == '/' ? 1 : 0));
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return -errno;
	do
		n = sendto(fd, msg, strlen(msg), MSG_NOSIGNAL,
		    (const struct sockaddr *)&sa, salen);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		err = -errno;
	close(fd);
	return err < 0 ? err : 1;
}

/* WATCHDOG_USEC when the watchdog is asked of this process: 1 and *usec,
 * 0 not asked (or WATCHDOG_PID names another process), -EINVAL garbage. */
static int
watchdog_enabled(uint64_t *usec)
{
	const char *s = getenv("WATCHDOG_USEC"), *p = getenv("WATCHDOG_PID");
	unsigned long long v, pid;
	char *end;

	*usec = 0;
	if (s == NULL)
		return 0;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v == 0 || s[0] == '-')
		return -EINVAL;
	if (p != NULL) {
		errno = 0;
		pid = strtoull(p, &end, 10);
		if (errno != 0 || end == p || *end != '\0' || pid == 0 || p[0] == '-')
			return -EINVAL;
		if (pid != (unsigned long long)getpid())
			return 0;
	}
	*usec = (uint64_t)v;
	return 1;
}

struct notify_watchdog {
	uv_timer_t timer;
	uint64_t period_ms;
};

void
notify_ready(void)
{
	(void)notify_send("READY=1");
}

void
notify_status(const char *line)
{
	char msg[sizeof("STATUS=") + NOTIFY_STATUS_MAX];
	size_t n = strlen("STATUS=");

	memcpy(msg, "STATUS=", n);
	/* one line: a newline would start a new assignment in the datagram */
	for (; line != NULL && *line != '\0' && n < sizeof(msg) - 1; line++)
		msg[n++] = (*line == '\n' || *line == '\r') ? ' ' : *line;
	msg[n] = '\0';
	(void)notify_send(msg);
}

void
notify_reloading(void)
{
	struct timespec ts;
	unsigned long long usec;
	char msg[64];

	/* systemd matches the reload to the SIGHUP by this clock */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	usec = (unsigned long long)ts.tv_sec * 1000000ULL +
	    (unsigned long long)ts.tv_nsec / 1000ULL;
	snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%llu", usec);
	(void)notify_send(msg);
}

void
notify_stopping(void)
{
	(void)notify_send("STOPPING=1");
}

static void
on_ping(uv_timer_t *t)
{
	(void)t;
	(void)notify_send("WATCHDOG=1");
}

static void
on_close(uv_handle_t *h)
{
	free(h->data);
}

int
notify_watchdog_start(uv_loop_t *loop, struct notify_watchdog **out)
{
	struct notify_watchdog *w;
	uint64_t usec = 0;
	int rc;

	*out = NULL;
	/* <= 0: not asked for (or WATCHDOG_PID names another process) */
	if (watchdog_enabled(&usec) <= 0 || usec == 0)
		return 0;
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return -ENOMEM;
	w->period_ms = usec / 2000;
	if (w->period_ms == 0)
		w->period_ms = 1;
	if ((rc = uv_timer_init(loop, &w->timer)) != 0) {
		free(w);
		return rc;
	}
	w->timer.data = w;
	/* ping once right away: READY may come long after the start */
	on_ping(&w->timer);
	if ((rc = uv_timer_start(&w->timer, on_ping, w->period_ms, w->period_ms)) != 0) {
		uv_close((uv_handle_t *)&w->timer, on_close);
		return rc;
	}
	*out = w;
	return 0;
}

uint64_t
notify_watchdog_period(const struct notify_watchdog *w)
{
	return w ? w->period_ms : 0;
}

void
notify_watchdog_stop(struct notify_watchdog *w)
{
	if (w == NULL)
		return;
	uv_close((uv_handle_t *)&w->timer, on_close);
}
