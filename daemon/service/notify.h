/* notify.h: the systemd notify protocol (sd_notify) and the watchdog ping
 * from the loop. Without systemd (no NOTIFY_SOCKET) every call is a no-op. */
#ifndef CP_NOTIFY_H
#define CP_NOTIFY_H

#include <stdint.h>
#include <uv.h>

/* READY=1: settings and the first desired state are loaded; also the end
 * of a reload. */
void notify_ready(void);
/* STATUS=line: one line for `systemctl status`; newlines become spaces and
 * it is cut at NOTIFY_STATUS_MAX bytes. */
void notify_status(const char *line);
/* RELOADING=1 with MONOTONIC_USEC= in the same message, as systemd's
 * Type=notify-reload expects. notify_ready() ends the reload. */
void notify_reloading(void);
/* STOPPING=1. */
void notify_stopping(void);

#define NOTIFY_STATUS_MAX 512

/* The watchdog: when the service manager asks for one (WATCHDOG_USEC set,
 * WATCHDOG_PID unset or ours), a timer on `loop` sends WATCHDOG=1 every
 * half period, so a loop that stops turning stops the pings. When it does
 * not, *out is NULL and no handle exists at all (idle means idle). 0 or a
 * negative errno (then *out is NULL). */
struct notify_watchdog;
int notify_watchdog_start(uv_loop_t *loop, struct notify_watchdog **out);
/* The ping period in ms (half of WATCHDOG_USEC); 0 for NULL. */
uint64_t notify_watchdog_period(const struct notify_watchdog *w);
/* Closes the timer; the struct is freed in its close callback, so the loop
 * must run once more. NULL is ignored. */
void notify_watchdog_stop(struct notify_watchdog *w);

#endif
