/* http.h: HTTP requests on a libuv loop through one curl multi handle, with a
 * queue that keeps at most `concurrency` transfers in flight. It knows
 * nothing of the Convex API: api.c builds on it (routes, retries, JSON).
 *
 * Callbacks run from the loop, never from inside http_request_start. */
#ifndef CP_HTTP_H
#define CP_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#define HTTP_MAX_BODY_DEFAULT (32u * 1024 * 1024)

struct http_config {
	const char *ca_file;          /* NULL: system store */
	unsigned concurrency;         /* >= 1 */
	uint64_t request_timeout_ms;  /* whole transfer; 0: none */
	uint64_t connect_timeout_ms;  /* 0: 10 s */
	size_t max_body;              /* 0: HTTP_MAX_BODY_DEFAULT */
	const char *user_agent;       /* NULL: curl's own */
	/* "Name: value" lines sent with every request (copied). A line whose
	 * name is "Authorization" is redacted from debug output. */
	const char *const *headers;
	size_t n_headers;
};

/* Why a transfer ended without a usable answer. */
enum http_fail {
	HTTP_OK = 0,            /* an answer arrived (any status) */
	HTTP_CONNECT,           /* failed before any of the request was sent */
	HTTP_TRANSPORT,         /* failed after it may have been sent */
	HTTP_TIMEOUT,           /* request timeout (connect timeouts are
	                         * HTTP_CONNECT) */
	HTTP_TOO_LARGE,         /* body over max_body */
	HTTP_TLS,               /* certificate or TLS set-up problem */
	HTTP_OTHER,             /* anything else (out of memory, bad URL) */
};

struct http_response {
	enum http_fail fail;
	long status;            /* 0 when no status line arrived */
	const char *body;       /* NUL-terminated; valid during the callback */
	size_t len;
	double seconds;         /* total time of the transfer */
	long retry_after_s;     /* Retry-After in seconds, -1 when absent */
	const char *error;      /* curl's words when fail != HTTP_OK */
	struct http_request *req;  /* for http_response_header; NULL when
	                            * no transfer ran */
};

struct http_client;
struct http_request;

typedef void (*http_done_cb)(void *arg, const struct http_response *r);

int http_client_new(uv_loop_t *loop, const struct http_config *cfg,
    struct http_client **out);
/*
 * Queues METHOD url (body may be NULL; it is copied and sent as JSON).
 * once: the request must reach the server at most once. It shares the
 * pooled connections like any other, but curl is never let send its body
 * a second time (its own silent retry on a reused connection that died is
 * refused: the transfer fails with HTTP_TRANSPORT instead); a request
 * without a body takes a fresh connection. Whenever curl may have sent
 * body bytes, a failure is HTTP_TRANSPORT or HTTP_TIMEOUT, never
 * HTTP_CONNECT. On success *out (if not NULL) names the request until its
 * callback has run or it is cancelled.
 */
int http_request_start(struct http_client *h, const char *method,
    const char *url, const char *body, bool once,
    http_done_cb cb, void *arg, struct http_request **out);
/* Stops a queued or running request; its callback never runs. */
void http_request_cancel(struct http_request *r);
/*
 * The value of response header `name` (any case) of the final answer: the
 * last one when it is repeated, NULL when absent. Only during the callback
 * that received r, and only until the next call.
 */
const char *http_response_header(const struct http_response *r,
    const char *name);
/*
 * Cancels what is left (no callback runs), cleans up the multi handle while
 * the loop still runs, closes every libuv handle and calls `closed` from the
 * loop when all are closed; the client is freed just before. Safe to call
 * from inside an http callback (the work is then deferred to the loop).
 */
void http_client_close(struct http_client *h, void (*closed)(void *arg),
    void *arg);

#endif
