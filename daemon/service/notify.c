/* notify.c: sd_notify messages and the loop-driven watchdog ping. The return
 * values of sd_notify are ignored on purpose: the daemon runs the same with
 * or without a service manager listening. */
#include "notify.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <systemd/sd-daemon.h>

struct notify_watchdog {
	uv_timer_t timer;
	uint64_t period_ms;
};

void
notify_ready(void)
{
	(void)sd_notify(0, "READY=1");
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
	(void)sd_notify(0, msg);
}

void
notify_reloading(void)
{
	struct timespec ts;
	unsigned long long usec;

	/* systemd matches the reload to the SIGHUP by this clock */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	usec = (unsigned long long)ts.tv_sec * 1000000ULL +
	    (unsigned long long)ts.tv_nsec / 1000ULL;
	(void)sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu", usec);
}

void
notify_stopping(void)
{
	(void)sd_notify(0, "STOPPING=1");
}

static void
on_ping(uv_timer_t *t)
{
	(void)t;
	(void)sd_notify(0, "WATCHDOG=1");
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
	if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0)
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
